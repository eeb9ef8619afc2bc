/**
 * Reactions, replies and threads in a real browser: each change is signed
 * with the member's key on the device and shows live.
 */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { launchBrowser, skipBrowser } from "../browser/browser.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { memberOf } from "../helpers/instance.ts";

Deno.test({
  name: "in the browser, a member reacts, replies and talks in a thread; everything updates live",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const general = await owner.channel("general");
    const mnemonic = generateMnemonic();
    const alice = new HarmonyClient(
      instance.origin,
      await signerFromIdentityFile(await identityFileFromMnemonic(mnemonic)),
    );
    await alice.signIn();
    const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
    await alice.request("POST", "/join", { invite: invite.code });
    await alice.setProfile("Alice");
    const bob = await memberOf(instance, owner);
    await bob.setProfile("Bob");
    const original = await bob.post(general.id, "what shall we build?\nmore details here");

    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${instance.origin}/identity?return=/channels/${general.id}`);
      await page.locator("#restore-words").fill(mnemonic);
      await page.getByRole("button", { name: "Restore" }).click();
      await page.waitForURL(/\/channels\//);
      const message = page.locator(`article.message[data-id="${original.id}"]`);
      await message.waitFor();

      await t.step("reactions: pick an emoji, see others' live, click to take it back", async () => {
        await message.hover();
        await message.getByRole("button", { name: "Add a reaction" }).click();
        await page.getByRole("button", { name: "React with 🎉" }).click();
        const mine = message.locator("button.reaction.mine", { hasText: "🎉" });
        await mine.waitFor();
        assert.equal((await mine.locator(".count").textContent())?.trim(), "1");
        // Someone else's reaction arrives over the live stream.
        await bob.react(original, "🎉");
        await message.locator("button.reaction.mine .count", { hasText: "2" }).waitFor();
        await message.locator("button.reaction.mine", { hasText: "🎉" }).click();
        await message.locator("button.reaction:not(.mine):not(.add)", { hasText: "🎉" }).waitFor();
        const reactions = await alice.reactions(original);
        assert.deepEqual(reactions.map((r) => [r.emoji, r.count, r.mine.length]), [["🎉", 1, 0]]);
      });

      await t.step(
        "replies: the composer says whom it answers; the reply quotes and links the original",
        async () => {
          await message.hover();
          await message.getByRole("button", { name: "Reply" }).click();
          await page.locator("#replying-to:not([hidden])").waitFor();
          assert.match(await page.locator("#replying-to").textContent() ?? "", /Bob/);
          const input = page.getByPlaceholder(/^Message #/);
          await input.fill("a chat app, obviously");
          await input.press("Enter");
          const reply = page.locator("article.message", { hasText: "a chat app, obviously" });
          await reply.waitFor();
          await page.locator("#replying-to[hidden]").waitFor({ state: "attached" });
          const quote = reply.locator("a.reply-quote");
          assert.match(await quote.textContent() ?? "", /Bob.*what shall we build\?/);
          const stored = (await alice.history(general.id)).messages.find((m) =>
            m.content === "a chat app, obviously"
          );
          assert.equal(stored?.inReplyTo, original.id);
          // The quote jumps to the original: its permalink, highlighted.
          await quote.click();
          await page.waitForURL(new RegExp(`/channels/${general.id}/messages/${original.id.slice(9)}$`));
          await page.locator(`article.message.highlighted[data-id="${original.id}"]`).waitFor();
          // "Copy link" puts the permalink on the clipboard.
          await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: instance.origin });
          const highlighted = page.locator(`article.message[data-id="${original.id}"]`);
          await highlighted.hover();
          await highlighted.getByRole("button", { name: "Copy link" }).click();
          await page.getByText("Link copied.").waitFor();
          assert.equal(await page.evaluate(() => navigator.clipboard.readText()), page.url());
        },
      );

      await t.step(
        "threads: open one from a message, post in it, see replies live, count on the root",
        async () => {
          await page.goto(`${instance.origin}/channels/${general.id}`);
          await message.hover();
          await message.getByRole("link", { name: "Thread" }).click();
          await page.waitForURL(/\/threads\//);
          const input = page.getByPlaceholder("Reply in thread");
          await input.fill("first idea in the thread");
          await input.press("Enter");
          await page.locator("article.message", { hasText: "first idea in the thread" }).waitFor();
          await bob.threadReply(original, "bob agrees, in the thread");
          await page.locator("article.message", { hasText: "bob agrees, in the thread" }).waitFor();
          // A post in the channel meanwhile does not show in the thread.
          await bob.post(general.id, "back in the channel");
          await page.goto(`${instance.origin}/channels/${general.id}`);
          await message.locator("a.thread-summary", { hasText: "2 replies" }).waitFor();
          assert.equal(
            await page.locator("article.message", { hasText: "first idea in the thread" }).count(),
            0,
          );
          // The thread list shows it, read.
          await page.getByRole("link", { name: "Threads" }).click();
          await page.locator(".thread-item", { hasText: "what shall we build?" }).waitFor();
          assert.equal(await page.locator(".thread-item.unread").count(), 0);
          // A new reply marks it unread until opened.
          await bob.threadReply(original, "one more");
          await page.reload();
          await page.locator(".thread-item.unread").waitFor();
          await page.locator(".thread-item a").first().click();
          await page.locator("article.message", { hasText: "one more" }).waitFor();
          await page.goto(`${instance.origin}/channels/${general.id}/threads`);
          await page.locator(".thread-item").first().waitFor();
          assert.equal(await page.locator(".thread-item.unread").count(), 0);
        },
      );
    } finally {
      await browser.close();
    }
  },
});
