/** The DM flow in real Chromium: A writes to B from B's profile; B's open page shows it live, decrypted. */
import assert from "node:assert/strict";
import type { BrowserContext } from "playwright-core";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { launchBrowser, restoreIdentity, skipBrowser } from "../browser/browser.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { http } from "../http/support.ts";

Deno.test({
  name:
    "a member messages another from their profile; the other's open DM page shows it live, decrypted in the browser",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const people = [];
    for (const name of ["Ada", "Grace"]) {
      const mnemonic = generateMnemonic();
      const file = await identityFileFromMnemonic(mnemonic);
      const client = new HarmonyClient(instance.origin, await signerFromIdentityFile(file));
      await client.signIn();
      people.push({ name, mnemonic, did: file.did, client });
    }
    const [ada, grace] = people;
    await ada.client.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    const invite = await ada.client.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
    await grace.client.request("POST", "/join", { invite: invite.code });
    await ada.client.setProfile("Ada");
    await grace.client.setProfile("Grace");

    const browser = await launchBrowser();
    const contexts: BrowserContext[] = [];
    try {
      const adaContext = await browser.newContext();
      const graceContext = await browser.newContext();
      contexts.push(adaContext, graceContext);
      const adaPage = await adaContext.newPage();
      const gracePage = await graceContext.newPage();
      await restoreIdentity(
        adaPage,
        instance.origin,
        ada.mnemonic,
        `/members/${encodeURIComponent(grace.did)}`,
      );
      await restoreIdentity(
        gracePage,
        instance.origin,
        grace.mnemonic,
        `/dms/${encodeURIComponent(ada.did)}`,
      );
      await gracePage.locator("#dm-status", { hasText: "End-to-end encrypted." }).waitFor();

      // Ada opens the conversation from Grace's profile.
      await adaPage.getByRole("link", { name: "Message" }).click();
      await adaPage.waitForURL(/\/dms\//);
      await adaPage.locator("#dm-status", { hasText: "End-to-end encrypted." }).waitFor();
      await adaPage.locator("#dm-input").fill("hello Grace, this is private");
      await adaPage.locator("#dm-input").press("Enter");

      // Grace's page, already open, shows it live and decrypted.
      const arrived = gracePage.locator("li.dm-message", { hasText: "hello Grace, this is private" });
      await arrived.waitFor({ timeout: 10_000 });
      assert.equal(await arrived.getAttribute("data-decrypted"), "true");
      await adaPage.locator("li.dm-message.mine", { hasText: "hello Grace, this is private" }).waitFor();

      // Grace answers; Ada's page shows it.
      await gracePage.locator("#dm-input").fill("hi Ada <b>not bold</b>");
      await gracePage.locator("#dm-input").press("Enter");
      const answer = adaPage.locator("li.dm-message", { hasText: "hi Ada <b>not bold</b>" });
      await answer.waitFor({ timeout: 10_000 });
      assert.equal(await answer.locator("b").count(), 0, "decrypted text is shown as text");

      // The server holds only ciphertext: the page source and the API have no plaintext.
      const source =
        await (await adaContext.request.get(`${instance.origin}/dms/${encodeURIComponent(grace.did)}`))
          .text();
      assert.ok(source.includes("data-envelope"));
      assert.ok(!source.includes("this is private"));
      const api = await http(instance.origin, "GET", `/api/dms/${encodeURIComponent(ada.did)}`, {
        token: grace.client.token!,
      });
      assert.equal(api.json.messages.length, 2);
      assert.ok(!api.text.includes("this is private"));

      // A reload shows both, decrypted from the history; the list page links the conversation.
      await gracePage.reload();
      await gracePage.locator("li.dm-message", { hasText: "hi Ada" }).waitFor();

      // A device set up before DMs holds only the signing key: the page asks for the phrase once.
      await gracePage.evaluate(() =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open("harmony", 1);
          open.onsuccess = () => {
            const tx = open.result.transaction("identity", "readwrite");
            const store = tx.objectStore("identity");
            const get = store.get("current");
            get.onsuccess = () => store.put({ ...get.result, agreementKey: undefined }, "current");
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(tx.error);
          };
        })
      );
      await gracePage.reload();
      await gracePage.locator("#dm-unlock").waitFor();
      assert.equal(
        await gracePage.locator("li.dm-message", { hasText: "this is private" }).count(),
        0,
        "nothing is readable before unlocking",
      );
      await gracePage.locator("#dm-unlock-words").fill(grace.mnemonic);
      await gracePage.getByRole("button", { name: "Unlock direct messages" }).click();
      await gracePage.locator("li.dm-message", { hasText: "hello Grace, this is private" }).waitFor();
      await gracePage.reload();
      await gracePage.locator("li.dm-message", { hasText: "hello Grace, this is private" }).waitFor();
      await gracePage.goto(`${instance.origin}/dms`);
      await gracePage.getByRole("link", { name: "Ada" }).waitFor();
    } finally {
      for (const context of contexts) await context.close();
      await browser.close();
    }
  },
});
