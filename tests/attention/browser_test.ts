import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { launchBrowser, skipBrowser } from "../browser/browser.ts";
import { newClient, startTestInstance } from "../helpers/instance.ts";
import { createChannel } from "../../server/channels/channels.ts";
import { createInvite } from "../../server/community/members.ts";

async function createIdentity(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Create a new identity" }).click();
  const words = await page.locator("#mnemonic-words li").allTextContents();
  await page.getByRole("button", { name: "I have written them down" }).click();
  const fields = page.locator("#backup-check-fields input");
  for (let i = 0; i < await fields.count(); i++) {
    const field = fields.nth(i);
    const position = Number((await field.getAttribute("name"))!.replace("word-", ""));
    await field.fill(words[position - 1]);
  }
  await page.getByRole("button", { name: "Confirm" }).click();
}

Deno.test({
  name:
    "mention notification: Bob mentions Ada, her bell shows it live, clicking jumps to the message, mark read clears it",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const h = instance.harmony;
    const browser = await launchBrowser();
    const contexts: BrowserContext[] = [];
    try {
      // Ada claims the instance in her browser and names herself.
      const context = await browser.newContext();
      contexts.push(context);
      const ada = await context.newPage();
      await ada.goto(instance.claimUrl!);
      await ada.getByRole("link", { name: /identity first/ }).click();
      await createIdentity(ada);
      await ada.waitForURL(/\/claim\//);
      await ada.getByRole("button", { name: "Claim as owner" }).click();
      await ada.waitForURL(/\/profile$/);
      await ada.getByLabel("Display name").fill("Ada");
      await ada.getByRole("button", { name: "Save profile" }).click();
      await ada.waitForURL(/\/channels\//);
      const adaDid = await ada.evaluate(() => document.body.dataset.me!);
      const asAda = { did: adaDid, via: "bearer" as const };
      const random = await createChannel(h, asAda, { name: "random" });
      const generalUrl = ada.url();
      await ada.reload();
      assert.equal(await ada.locator("#bell-count").isHidden(), true, "no mentions yet");

      // Bob joins with an invite and mentions Ada in #random, while Ada reads #general.
      const bob = await newClient(instance);
      const invite = await createInvite(h, asAda, { maxUses: 1 });
      await bob.request("POST", "/join", { invite: invite.code });
      await bob.setProfile("Bob");
      const first = await bob.post(random.id, "hey @Ada, look at this");
      assert.equal(first.content, `hey <@${adaDid}>, look at this`);

      // Live: the bell and #random's badges change without a reload.
      await ada.locator("#bell-count", { hasText: "1" }).waitFor();
      await ada.locator(`[data-mention-channel="${random.id}"]`, { hasText: "@1" }).waitFor();
      await ada.locator(`[data-unread-channel="${random.id}"]`, { hasText: "1" }).waitFor();

      // The dropdown lists the mention; clicking it jumps to the message's permalink.
      await ada.getByRole("button", { name: "Notifications" }).click();
      const entry = ada.locator(".notification.unread", { hasText: "Bob" });
      await entry.waitFor();
      assert.match(await entry.textContent() ?? "", /@Ada, look at this/);
      await entry.locator("a").click();
      await ada.waitForURL(`**/channels/${random.id}/messages/${first.id.replace("urn:uuid:", "")}`);

      // Opening it marked it read (the bell counts nothing once the request lands).
      const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
      const bell = async () =>
        (await (await fetch(`${instance.origin}/api/attention`, { headers: { cookie } })).json()).mentions;
      for (let i = 0; i < 200 && await bell() !== 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(await bell(), 0);
      await ada.goto(generalUrl);
      assert.equal(await ada.locator("#bell-count").isHidden(), true);

      // A second mention, cleared with "Mark all read".
      await bob.post(random.id, "@Ada one more thing");
      await ada.locator("#bell-count", { hasText: "1" }).waitFor();
      await ada.getByRole("button", { name: "Notifications" }).click();
      await ada.locator(".notification.unread", { hasText: "one more thing" }).waitFor();
      await ada.getByRole("button", { name: "Mark all read" }).click();
      await ada.locator("#bell-count").waitFor({ state: "hidden" });
      assert.equal(await bell(), 0);

      // In #random, the mentions of Ada are highlighted; her own composer resolves @Bob to his DID.
      await ada.goto(`${instance.origin}/channels/${random.id}`);
      await ada.locator("article.message.mentions-me").first().waitFor();
      assert.equal(await ada.locator("article.message.mentions-me .mention-me").count(), 2);
      const input = ada.getByPlaceholder(/^Message #/);
      await input.fill("thanks @Bob");
      await input.press("Enter");
      await ada.locator("article.message", { hasText: "thanks @Bob" }).waitFor();
      const summary = await bob.request<{ mentions: number }>("GET", "/attention");
      assert.equal(summary.mentions, 1, "Bob was mentioned by DID");
      const history = await bob.history(random.id);
      assert.equal(history.messages.at(-1)!.content, `thanks <@${bob.did}>`);
    } finally {
      for (const context of contexts) await context.close();
      await browser.close();
    }
  },
});
