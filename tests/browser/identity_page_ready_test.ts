/**
 * The identity page's forms work as soon as the page has loaded, even while
 * the device's key store is still opening: a quick Restore signs in instead
 * of submitting the bare form (which reloaded the page and lost the phrase).
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { launchBrowser, skipBrowser } from "./browser.ts";
import { startTestInstance } from "../helpers/instance.ts";

/** Makes every IndexedDB open in the page report success 1.5 s late (a slow disk or a busy machine). */
const slowKeyStore = `
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (...args) {
    const request = open.apply(this, args);
    let handler = null;
    Object.defineProperty(request, "onsuccess", { get: () => handler, set: (fn) => { handler = fn; } });
    request.addEventListener("success", (event) => setTimeout(() => handler?.call(request, event), 1500));
    return request;
  };
`;

Deno.test({
  name: "creating an identity before the key store has answered keeps the backup step on screen",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    let browser: Browser | null = null;
    try {
      browser = await launchBrowser();
      const page = await (await browser.newContext()).newPage();
      await page.addInitScript(slowKeyStore);
      await page.goto(`${instance.origin}/identity`);
      await page.getByRole("button", { name: "Create a new identity" }).click();
      await page.locator("#backup").waitFor();
      // The key store answers 1.5 s after the page opened it.
      await page.waitForTimeout(2_000);
      assert.equal(await page.locator("#backup").isVisible(), true);
      assert.equal(await page.locator("#mnemonic-words li").count(), 24);
    } finally {
      await browser?.close();
    }
  },
});

Deno.test({
  name: "restoring from a recovery phrase works before the key store has answered",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    let browser: Browser | null = null;
    try {
      browser = await launchBrowser();
      const page = await (await browser.newContext()).newPage();
      await page.addInitScript(slowKeyStore);
      await page.goto(`${instance.origin}/identity?return=/profile`);
      await page.locator("#restore-words").fill(generateMnemonic());
      await page.getByRole("button", { name: "Restore" }).click();
      await page.waitForURL((url) => url.pathname === "/profile", { timeout: 20_000 });
    } finally {
      await browser?.close();
    }
  },
});
