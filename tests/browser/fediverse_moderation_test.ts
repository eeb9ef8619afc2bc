/**
 * The moderation page's fediverse section, in Chromium: removing a reply
 * from the fediverse and restoring it, blocking a server (and its replies)
 * and lifting the block, each signed in the browser. The page fits a
 * 360 px screen. Set HARMONY_SCREENSHOTS=DIR to keep screenshots of it at
 * 1280 and 360 px.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { MastodonPeer } from "../federation/mastodon_peer.ts";
import { channelNamed, eventually, groupOf, replyFrom } from "../federation/support.ts";
import { newPerson, startTestInstance } from "../helpers/instance.ts";
import { http } from "../http/support.ts";
import { launchBrowser, restoreIdentity, skipBrowser } from "./browser.ts";

const screenshots = Deno.env.get("HARMONY_SCREENSHOTS");

async function shoot(page: Page, name: string): Promise<void> {
  if (!screenshots) return;
  await Deno.mkdir(screenshots, { recursive: true });
  await page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
}

/** The page, reloaded at 360 px, does not scroll sideways; back to 1280 px after. */
async function fitsPhone(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.reload();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `${new URL(page.url()).pathname} is ${width} px wide at 360 px`);
  await shoot(page, name);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.reload();
}

Deno.test({
  name:
    "moderators remove a fediverse reply and block a server from the moderation page, signed in the browser",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance({ HARMONY_ALLOW_PRIVATE_ADDRESSES: "1" });
    await using alice = await MastodonPeer.start({ name: "alice" });
    await using spammer = await MastodonPeer.start({ name: "spammer" });
    const { origin } = instance;
    const { mnemonic, client: owner } = await newPerson(instance);
    await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    await owner.setProfile("Ada");
    const general = await channelNamed(origin, "general");
    const group = groupOf(origin, general.id);
    const opened = await http(origin, "PATCH", `/api/channels/${general.id}`, {
      body: { fediverseReplies: "open" },
      token: owner.token!,
    });
    assert.equal(opened.status, 200, opened.text);
    const kind = replyFrom(alice, { to: [group], content: "<p>Lovely community, thanks for sharing!</p>" });
    const spam = replyFrom(spammer, {
      to: [group],
      content:
        "<p>BUY FOLLOWERS NOW https://cheap-followers.example/an/extremely/long/path/that/never/ends</p>",
    });
    for (const [peer, sent] of [[alice, kind], [spammer, spam]] as const) {
      assert.equal((await peer.post(`${group}/inbox`, sent.create)).status, 202);
    }
    await eventually(
      async () => (await owner.fediverseReplies()).replies.length === 2,
      "both replies to arrive",
    );

    let browser: Browser | null = null;
    try {
      browser = await launchBrowser();
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.on("dialog", (dialog) => dialog.accept());
      await restoreIdentity(page, origin, mnemonic, "/moderation");
      const section = page.locator("section[aria-labelledby=m-fediverse]");
      await section.getByText("Lovely community").waitFor();
      await shoot(page, "moderation-1280");
      await fitsPhone(page, "moderation-replies-360");

      // Remove Alice's reply from its row; it moves to the removed replies.
      await section.locator('form[aria-label="Remove the reply by Alice Example"]').getByRole("button", {
        name: "Remove",
      }).click();
      await section.locator('ul[aria-label="Removed replies"]').getByText("Alice Example").waitFor();
      const afterRemoval = await owner.fediverseReplies();
      assert.deepEqual(afterRemoval.removed.map((r) => r.id), [kind.note.id]);
      assert.equal(afterRemoval.removed[0].removedBy, owner.did, "signed by the owner's key in the browser");

      // Block the spammer's whole server, removing its replies in the same action.
      const blockServer = section.locator('form[aria-label="Block a fediverse server"]');
      await blockServer.locator("input[name=target]").fill(`127.0.0.1:${spammer.port}`);
      await blockServer.locator("input[name=reason]").fill("spam");
      await blockServer.locator("input[name=removeReplies]").check();
      await blockServer.getByRole("button", { name: "Block" }).click();
      await section.locator('ul[aria-label="Blocked servers"]').getByText(`127.0.0.1:${spammer.port}`)
        .waitFor();
      const state = await owner.moderation();
      assert.deepEqual(state.blockedServers?.map((b) => b.reason), ["spam"]);
      assert.ok((await owner.fediverseReplies()).removed.some((r) => r.id === spam.note.id));
      assert.equal((await spammer.post(`${group}/inbox`, spam.create)).status, 403);
      await shoot(page, "moderation-blocked-1280");

      await fitsPhone(page, "moderation-blocked-360");

      // Undo both: restore Alice's reply, unblock the server.
      await section.locator('form[aria-label="Restore the reply by Alice Example"]').getByRole("button", {
        name: "Restore",
      }).click();
      await section.locator('ul[aria-label="Replies from the fediverse"]').getByText("Lovely community")
        .waitFor();
      await section.locator(`form[aria-label="Unblock 127.0.0.1:${spammer.port}"]`).getByRole("button", {
        name: "Unblock",
      }).click();
      await section.getByText("No server is blocked.").waitFor();
      assert.deepEqual((await owner.moderation()).blockedServers, []);

      // The log says what happened, and verifies.
      await page.goto(`${origin}/moderation/log`);
      await page.getByText(`blocked the fediverse server 127.0.0.1:${spammer.port} and removed its replies`)
        .waitFor();
      await page.getByText(`removed a fediverse reply from 127.0.0.1:${alice.port}`).waitFor();
      await page.getByRole("button", { name: "Verify the whole log" }).click();
      await page.getByText(/The log verifies: 4 entries/).waitFor();
      await shoot(page, "moderation-log-1280");
      await page.setViewportSize({ width: 360, height: 740 });
      await page.reload();
      await page.getByRole("button", { name: "Verify the whole log" }).click();
      await page.getByText(/The log verifies: 4 entries/).waitFor();
      const logWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(logWidth <= 360, `/moderation/log is ${logWidth} px wide at 360 px`);
      await shoot(page, "moderation-log-360");
      await context.close();
    } finally {
      await browser?.close();
    }
  },
});
