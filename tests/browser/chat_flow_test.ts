import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { launchBrowser, skipBrowser } from "./browser.ts";
import { startTestInstance } from "../helpers/instance.ts";

/** Creates an identity on the identity page, passing the backup check. */
async function createIdentity(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Create a new identity" }).click();
  const words = await page.locator("#mnemonic-words li").allTextContents();
  assert.equal(words.length, 24, "a new identity shows 24 words");
  await page.getByRole("button", { name: "I have written them down" }).click();
  const fields = page.locator("#backup-check-fields input");
  for (let i = 0; i < await fields.count(); i++) {
    const field = fields.nth(i);
    const position = Number((await field.getAttribute("name"))!.replace("word-", ""));
    await field.fill(words[position - 1]);
  }
  await page.getByRole("button", { name: "Confirm" }).click();
}

async function setDisplayName(page: Page, name: string): Promise<void> {
  await page.waitForURL(/\/profile$/);
  await page.getByLabel("Display name").fill(name);
  await page.getByRole("button", { name: "Save profile" }).click();
  await page.waitForURL(/\/channels\//);
}

async function post(page: Page, text: string): Promise<void> {
  const input = page.getByPlaceholder(/^Message #/);
  await input.fill(text);
  await input.press("Enter");
}

Deno.test({
  name:
    "a newcomer creates an identity, claims the instance, creates a channel and chats live with a second person",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const browser = await launchBrowser();
    const contexts: BrowserContext[] = [];
    try {
      // The owner: claim link -> identity with backup check -> claim -> profile.
      const ownerContext = await browser.newContext();
      contexts.push(ownerContext);
      const owner = await ownerContext.newPage();
      await owner.goto(instance.claimUrl!);
      await owner.getByRole("link", { name: /identity first/ }).click();
      await createIdentity(owner);
      await owner.waitForURL(/\/claim\//);
      await owner.getByRole("button", { name: "Claim as owner" }).click();
      await setDisplayName(owner, "Ada");

      // Create a channel in the settings and open it.
      await owner.goto(`${instance.origin}/settings`);
      await owner.getByLabel("New channel").fill("Random Things");
      await owner.getByRole("button", { name: "Create channel" }).click();
      await owner.getByText("Created #random-things.").waitFor();
      await owner.getByRole("button", { name: "Create invite" }).click();
      await owner.getByText("Invite created.").waitFor();
      const inviteUrl = await owner.locator("input.invite-url").first().inputValue();
      await owner.goto(instance.origin);
      await owner.getByRole("link", { name: /random-things/ }).click();
      await owner.waitForURL(/\/channels\//);
      const channelUrl = owner.url();
      await post(owner, "first post in **random**");
      await owner.locator("article.message", { hasText: "first post in random" }).waitFor();
      assert.equal(await owner.locator("article.message strong").first().textContent(), "random");

      // A second person joins through the invite and opens the same channel.
      const guestContext = await browser.newContext();
      contexts.push(guestContext);
      const guest = await guestContext.newPage();
      await guest.goto(inviteUrl);
      await guest.getByRole("link", { name: /identity to join/ }).click();
      await createIdentity(guest);
      await guest.waitForURL(/\/invite\//);
      await guest.getByRole("button", { name: /^Join / }).click();
      await setDisplayName(guest, "Grace");
      await guest.goto(channelUrl);
      await guest.locator("article.message", { hasText: "first post in random" }).waitFor();

      // Live in both directions, within a second.
      const started = performance.now();
      await post(owner, "hello Grace, live");
      await guest.locator("article.message", { hasText: "hello Grace, live" }).waitFor({ timeout: 1000 });
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 1000, `the message arrived after ${elapsed} ms`);
      await post(guest, "hi Ada <script>alert(1)</script>");
      const echoed = owner.locator("article.message", { hasText: "hi Ada" });
      await echoed.waitFor({ timeout: 1000 });
      assert.match(await echoed.locator(".content").innerHTML(), /&lt;script&gt;/);
      assert.equal(await echoed.locator("a.author").textContent(), "Grace");

      // Edits and deletions reach the other page too.
      const mine = guest.locator("article.message", { hasText: "hello Grace, live" });
      assert.equal(
        await mine.locator("button[data-action=edit]").count(),
        0,
        "no edit button on others' messages",
      );
      const own = guest.locator("article.message", { hasText: "hi Ada" });
      await own.hover();
      await own.getByRole("button", { name: "Edit message" }).click();
      await own.locator(".edit-box textarea").fill("hi Ada (edited)");
      await own.locator(".edit-box textarea").press("Enter");
      await owner.locator("article.message", { hasText: "hi Ada (edited)" }).waitFor({ timeout: 1000 });
      guest.once("dialog", (dialog) => dialog.accept());
      const edited = guest.locator("article.message", { hasText: "hi Ada (edited)" });
      await edited.hover();
      await edited.getByRole("button", { name: "Delete message" }).click();
      await owner.locator("article.message", { hasText: "hi Ada (edited)" }).waitFor({
        state: "detached",
        timeout: 1000,
      });

      // The owner makes Grace a moderator: the owner's key signs the delegation in the browser.
      const graceDid = await guest.evaluate(() => document.body.dataset.me!);
      await owner.goto(`${instance.origin}/settings`);
      const row = owner.locator(`form.assign-role[data-member="${graceDid}"]`);
      await row.locator("select").selectOption("moderator");
      await row.getByRole("button", { name: "Assign" }).click();
      await owner.waitForLoadState("load");
      await owner.getByRole("button", { name: "Remove moderator" }).waitFor();
      const report = await (await fetch(
        `${instance.origin}/api/members/${encodeURIComponent(graceDid)}/capabilities`,
        { headers: { cookie: (await ownerContext.cookies()).map((c) => `${c.name}=${c.value}`).join("; ") } },
      )).json();
      const moderatorRole = report.held.find((c: { role: string | null }) => c.role?.endsWith("/moderator"));
      assert.ok(moderatorRole, "Grace holds the moderator role");
      assert.equal(moderatorRole.chain.length, 3, "root → owner → Grace, signed in the owner's browser");

      // Narrow screens: the channel list folds behind a toggle.
      await guest.setViewportSize({ width: 360, height: 740 });
      assert.equal(await guest.locator("#channels").isVisible(), false);
      await guest.getByRole("button", { name: "Show channels" }).click();
      assert.equal(await guest.locator("#channels").isVisible(), true);
    } finally {
      for (const context of contexts) await context.close();
      await browser.close();
    }
  },
});
