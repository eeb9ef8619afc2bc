/**
 * In the browser, moderation forms and role changes are signed by the
 * member's key on the device: the audit log holds the actor's own
 * signature, not the community's attestation.
 */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { launchBrowser, skipBrowser } from "../browser/browser.ts";
import { memberOf, newClient, startTestInstance } from "../helpers/instance.ts";

Deno.test({
  name: "the browser signs moderation actions and role changes; the log shows and verifies them",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const mnemonic = generateMnemonic();
    const owner = new HarmonyClient(
      instance.origin,
      await signerFromIdentityFile(await identityFileFromMnemonic(mnemonic)),
    );
    await owner.signIn();
    await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    const alice = await memberOf(instance, owner);
    const moderator = await memberOf(instance, owner);
    await owner.assignRole(moderator.did, "moderator");
    const stranger = await newClient(instance, false);

    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on("dialog", (dialog) => dialog.accept());
      await page.goto(`${instance.origin}/identity?return=/moderation`);
      await page.locator("#restore-words").fill(mnemonic);
      await page.getByRole("button", { name: "Restore" }).click();
      await page.waitForURL(/\/moderation$/);

      // Time alice out from her row.
      const row = page.locator("li", { has: page.locator(`form[data-target="${alice.did}"]`) }).first();
      await row.locator("select[name=seconds]").selectOption("300");
      await row.getByRole("button", { name: "Time out" }).click();
      await page.getByRole("button", { name: "Lift timeout" }).first().waitFor();
      assert.ok((await owner.moderation()).timeouts!.some((t) => t.did === alice.did));

      // Ban a DID that never joined.
      await page.locator("#ban-did").fill(stranger.did);
      await page.locator('form[aria-label="Ban a DID"] input[name=reason]').fill("spam bot");
      await page.locator('form[aria-label="Ban a DID"]').getByRole("button", { name: "Ban" }).click();
      await page.getByText("spam bot").waitFor();
      assert.equal((await owner.moderation()).bans!.find((b) => b.did === stranger.did)?.reason, "spam bot");

      // Limits, from the moderation section of the settings page.
      await page.goto(`${instance.origin}/settings`);
      await page.getByRole("button", { name: "Save moderation settings" }).waitFor();
      await page.locator("#mod-rate-messages").fill("4");
      await page.locator("#mod-rate-seconds").fill("20");
      await page.getByRole("button", { name: "Save moderation settings" }).click();
      await page.waitForLoadState("load");
      await page.locator("#mod-rate-messages[value='4']").waitFor();
      assert.deepEqual((await owner.moderation()).settings.rateLimit, { messages: 4, seconds: 20 });

      // A role created and then edited through the settings page, each change signed in the browser.
      await page.locator("#role-name").fill("Greeter");
      await page.locator("form[hx-post='/ui/roles'] input[value='post']").check();
      await page.getByRole("button", { name: "Create role" }).click();
      await page.getByText("Role created.").waitFor();
      await page.locator("details.edit-role summary").first().click();
      const edit = page.locator("form[hx-post='/ui/roles/greeter']");
      await edit.locator("input[value='manage-channels']").check();
      await edit.getByRole("button", { name: "Save Greeter" }).click();
      await page.getByText("Role saved.").waitFor();
      const greeter = (await owner.roles()).find((r) => r.slug === "greeter")!;
      assert.ok(greeter.actions.length === 2 && greeter.actions.includes("post"), JSON.stringify(greeter));

      // A role removed through the settings page (htmx) carries the owner's signed action.
      await page.getByRole("button", { name: "Remove moderator" }).click();
      await page.getByText("Role removed.").waitFor();
      const entries = await owner.auditLog();
      const removal = entries.find((e) => e.action === "role-remove")!;
      assert.equal(removal.evidence.actor, owner.did, "signed by the owner's key in the browser");

      // The log page lists them and verifies the whole chain.
      await page.goto(`${instance.origin}/moderation/log`);
      await page.getByText("banned").first().waitFor();
      await page.getByRole("button", { name: "Verify the whole log" }).click();
      await page.getByText(/The log verifies: 7 entries/).waitFor();
      const verification = await owner.verifyAudit();
      assert.equal(verification.ok, true);
      await context.close();
    } finally {
      await browser.close();
    }
  },
});
