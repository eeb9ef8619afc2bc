/**
 * In the real browser (Chromium through playwright-core): adding a device
 * with a pairing code, from a device that keeps a linkable copy and from one
 * that asks for the phrase; and recovery's setup, request, approval and
 * cancel, each signed in the page.
 */
import assert from "node:assert/strict";
import { base64, base64urlnopad, hex } from "@scure/base";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { identityFromMnemonic } from "../../server/crypto/derive.ts";
import { launchBrowser, skipBrowser } from "../browser/browser.ts";
import { claimedInstance, startTestInstance } from "../helpers/instance.ts";
import { HarmonyClient } from "../../cli/client.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { signerFromSecret } from "../../server/crypto/signer.ts";
import { imageHash } from "../../server/community/images.ts";
import { signProfile } from "../../server/documents/documents.ts";
import { normalizePairingCode } from "../../server/recovery/pairingCrypto.ts";
import { sealKeyForDevice } from "../../server/recovery/pairingBox.ts";

/** A 1×1 PNG, for an avatar. */
const TINY_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/** A signed-in member whose raw secret the test holds (to seal it as a device would). */
async function memberWithSecret(instance: { origin: string }, owner: HarmonyClient) {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const did = identityFromSigningSecret(secret.slice()).did;
  const client = new HarmonyClient(instance.origin, await signerFromSecret(did, secret.slice()));
  await client.signIn();
  const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
  await client.request("POST", "/join", { invite: invite.code });
  return { client, secret };
}

/** Creates an identity on the identity page (passing the backup check); returns its phrase. */
async function createIdentity(page: Page, options: { linkable?: boolean } = {}): Promise<string> {
  if (options.linkable) await page.getByLabel(/add my other devices without the recovery phrase/).check();
  await page.getByRole("button", { name: "Create a new identity" }).click();
  const words = await page.locator("#mnemonic-words li").allTextContents();
  assert.equal(words.length, 24);
  await page.getByRole("button", { name: "I have written them down" }).click();
  const fields = page.locator("#backup-check-fields input");
  for (let i = 0; i < await fields.count(); i++) {
    const field = fields.nth(i);
    const position = Number((await field.getAttribute("name"))!.replace("word-", ""));
    await field.fill(words[position - 1]);
  }
  await page.getByRole("button", { name: "Confirm" }).click();
  return words.join(" ");
}

async function signedInDid(page: Page): Promise<string> {
  await page.waitForFunction(() => document.body.dataset.me?.startsWith("did:key:"));
  return (await page.locator("body").getAttribute("data-me"))!;
}

/** Records every request and /api response body a context exchanges with the server. */
function recordTraffic(context: BrowserContext, into: string[]): void {
  context.on("request", (request) => into.push(`${request.url()} ${request.postData() ?? ""}`));
  context.on("response", async (response) => {
    if (!new URL(response.url()).pathname.startsWith("/api/")) return;
    try {
      into.push(await response.text());
    } catch { /* a response without a body */ }
  });
}

async function withBrowser(fn: (browser: Browser, contexts: BrowserContext[]) => Promise<void>) {
  const browser = await launchBrowser();
  const contexts: BrowserContext[] = [];
  try {
    await fn(browser, contexts);
  } finally {
    for (const context of contexts) await context.close();
    await browser.close();
  }
}

/** On a signed-in device's profile page: type the code, compare, send. */
async function sendKey(page: Page, code: string, fingerprint: string, mnemonic?: string): Promise<void> {
  await page.getByLabel("Pairing code").fill(code);
  await page.getByRole("button", { name: "Look up" }).click();
  await page.locator("#pairing-confirm").waitFor();
  assert.equal(await page.locator("#pairing-fingerprint").textContent(), fingerprint);
  assert.equal(await page.locator("#pairing-phrase").isVisible(), mnemonic !== undefined);
  if (mnemonic) await page.getByLabel("Recovery phrase").fill(mnemonic);
  await page.getByRole("button", { name: /numbers match/ }).click();
  await page.getByText("Sent. The new device now shows whose identity it received").waitFor();
}

/** On the new device: the identity that arrived, as it is shown before anything is kept. */
async function arrived(page: Page): Promise<{ did: string; name: string; membership: string }> {
  await page.locator("#link-arrived").waitFor();
  return {
    did: (await page.locator("#link-did").textContent())!,
    name: (await page.locator("#link-name").textContent())!,
    membership: (await page.locator("#link-membership").textContent())!,
  };
}

/** What this browser profile keeps as its identity (IndexedDB), if anything. */
function storedDid(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open("harmony", 1);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    if (!db.objectStoreNames.contains("identity")) return null;
    return await new Promise<string | null>((resolve) => {
      const request = db.transaction("identity").objectStore("identity").get("current");
      request.onsuccess = () => resolve(request.result?.did ?? null);
    });
  });
}

/** A new device starts linking; returns the code and fingerprint it shows. */
async function startLinking(page: Page, origin: string): Promise<{ code: string; fingerprint: string }> {
  await page.goto(`${origin}/identity`);
  await page.getByRole("button", { name: "Link this device" }).click();
  await page.locator("#link-panel").waitFor();
  await page.waitForFunction(() => document.getElementById("link-code")?.textContent);
  return {
    code: (await page.locator("#link-code").textContent())!,
    fingerprint: (await page.locator("#link-fingerprint").textContent())!,
  };
}

Deno.test({
  name: "a second device signs in with a pairing code; the key reaches it sealed and never in the clear",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    await withBrowser(async (browser, contexts) => {
      const traffic: string[] = [];
      const open = async () => {
        const context = await browser.newContext();
        contexts.push(context);
        recordTraffic(context, traffic);
        return await context.newPage();
      };

      // Device A: a new identity, allowed to add devices without the phrase.
      const a = await open();
      await a.goto(`${instance.origin}/identity`);
      const mnemonic = await createIdentity(a, { linkable: true });
      const did = await signedInDid(a);

      // Device B: shows a code and a fingerprint.
      const b = await open();
      const shown = await startLinking(b, instance.origin);
      assert.match(shown.code, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      assert.match(shown.fingerprint, /^\d{4} \d{4} \d{4} \d{4}$/);

      // A types the code, compares, sends: no phrase asked.
      await a.goto(`${instance.origin}/profile`);
      await sendKey(a, shown.code.toLowerCase(), shown.fingerprint);

      // B shows whose key arrived and, once confirmed, keeps it non-extractable and signs in as the same DID.
      assert.equal((await arrived(b)).did, did);
      assert.equal(await storedDid(b), null, "nothing is kept before the member confirms");
      await b.getByRole("button", { name: "Yes, it is mine: sign in" }).click();
      assert.equal(await signedInDid(b), did);
      const stored = await b.evaluate(async () => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open("harmony", 1);
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        const value = await new Promise<{ did: string; signingKey: CryptoKey; linkable?: unknown }>(
          (resolve) => {
            const request = db.transaction("identity").objectStore("identity").get("current");
            request.onsuccess = () => resolve(request.result);
          },
        );
        return {
          did: value.did,
          extractable: value.signingKey.extractable,
          linkable: value.linkable !== undefined,
        };
      });
      assert.deepEqual(stored, { did, extractable: false, linkable: false });

      // Device C links from B, which keeps no copy: B asks for the phrase once.
      const c = await open();
      const second = await startLinking(c, instance.origin);
      await b.goto(`${instance.origin}/profile`);
      await sendKey(b, second.code, second.fingerprint, mnemonic);
      assert.equal((await arrived(c)).did, did);
      await c.getByRole("button", { name: "Yes, it is mine: sign in" }).click();
      assert.equal(await signedInDid(c), did);

      // Nothing that crossed the wire, and nothing in the database, holds the key or the phrase.
      const secret = (await identityFromMnemonic(mnemonic)).signingSecret;
      const forms = [hex.encode(secret), base64.encode(secret), base64urlnopad.encode(secret), mnemonic];
      const wire = traffic.join("\n");
      assert.ok(wire.includes("/api/pairings"), "the traffic was recorded");
      let stored2 = "";
      for await (const entry of Deno.readDir(instance.dir)) {
        if (entry.isFile) {
          stored2 += new TextDecoder("latin1").decode(await Deno.readFile(`${instance.dir}/${entry.name}`));
        }
      }
      for (const form of forms) {
        assert.ok(!wire.includes(form), "the traffic holds no plaintext key or phrase");
        assert.ok(!stored2.includes(form), "the database holds no plaintext key or phrase");
      }
      assert.ok(!wire.includes(mnemonic.split(" ").slice(0, 3).join(" ")));
    });
  },
});

Deno.test({
  name:
    "recovery in the browser: guardians set on the profile page, a request from the new key, approval, cancel",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    await withBrowser(async (browser, contexts) => {
      const open = async () => {
        const context = await browser.newContext();
        contexts.push(context);
        return await context.newPage();
      };
      // The guardian: an identity, nothing more.
      const guardian = await open();
      await guardian.goto(`${instance.origin}/identity`);
      await createIdentity(guardian);
      const guardianDid = await signedInDid(guardian);

      // The member joins and names the guardian.
      const invite = await owner.createInvite({ maxUses: 1 });
      const member = await open();
      await member.goto(invite.url);
      await member.getByRole("link", { name: /identity to join/ }).click();
      await createIdentity(member);
      await member.waitForURL(/\/invite\//);
      await member.getByRole("button", { name: /^Join / }).click();
      await member.waitForURL(/\/profile$/);
      const memberDid = await signedInDid(member);
      await member.getByLabel("Guardians (one DID per line)").fill(guardianDid);
      await member.getByLabel("Approvals needed").fill("1");
      await member.getByRole("button", { name: "Save guardians" }).click();
      await member.getByText("1 of 1 guardians must approve").waitFor();

      // A new key asks to recover the member's identity.
      const newKey = await open();
      await newKey.goto(`${instance.origin}/identity`);
      await createIdentity(newKey);
      const newDid = await signedInDid(newKey);
      await newKey.goto(`${instance.origin}/identity`);
      await newKey.getByLabel("The DID you lost").fill(memberDid);
      await newKey.getByRole("button", { name: "Ask for recovery" }).click();
      await newKey.waitForURL(/\/profile#recovery$/);
      await newKey.locator("#my-requests").getByText("waiting for guardians").waitFor();

      // The guardian approves on their profile page: the time lock starts.
      await guardian.goto(`${instance.origin}/profile`);
      await guardian.getByRole("button", { name: "Approve this recovery" }).click();
      await guardian.getByText("You approved it.").waitFor();
      await guardian.getByText("approved; time lock running").waitFor();

      // The member, who still has the key, sees it and cancels it.
      await member.goto(`${instance.origin}/profile`);
      await member.getByText("Someone asked to recover your identity").waitFor();
      await member.getByRole("button", { name: "Cancel this recovery" }).click();
      await member.getByText("cancelled with the old key").waitFor();
      const overview = await owner.request<{ did: string }>("GET", "/me");
      assert.ok(overview.did);
      const members = await owner.members();
      assert.ok(members.some((m) => m.did === memberDid), "the member keeps their place");
      assert.ok(!members.some((m) => m.did === newDid));
    });
  },
});

Deno.test({
  name:
    "a key delivered by someone who saw the code is shown with its identity and discarded unless confirmed",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    // Someone signed in, a member with a name and an avatar, who can see the new device's screen.
    const { client: onlooker, secret } = await memberWithSecret(instance, owner);
    const png = base64.decode(TINY_PNG);
    const avatar = { type: "image/png", hash: await imageHash(png) };
    const profile = await signProfile(onlooker.signer!, "Mallory", avatar);
    await onlooker.request("PUT", "/profile", { profile, avatar: TINY_PNG });

    await withBrowser(async (browser, contexts) => {
      const open = async () => {
        const context = await browser.newContext();
        contexts.push(context);
        return await context.newPage();
      };
      // The member's signed-in device.
      const a = await open();
      await a.goto(`${instance.origin}/identity`);
      await createIdentity(a, { linkable: true });
      const did = await signedInDid(a);

      // The new device shows a code; the onlooker delivers their own key to it first.
      const b = await open();
      const shown = await startLinking(b, instance.origin);
      const code = normalizePairingCode(shown.code)!;
      const info = await onlooker.request<{ publicKey: string }>("GET", `/pairings/${code}`);
      await onlooker.request(
        "POST",
        `/pairings/${code}/key`,
        sealKeyForDevice(secret, base64urlnopad.decode(info.publicKey), code, onlooker.did),
      );

      // B says whose identity arrived and keeps nothing until asked.
      const seen = await arrived(b);
      assert.deepEqual(seen, {
        did: onlooker.did,
        name: "Mallory",
        membership: "A member of this community",
      });
      const img = b.locator("#link-avatar img");
      assert.equal(await img.isVisible(), true);
      assert.match((await img.getAttribute("src"))!, /^\/avatars\/did%3Akey%3A/);
      assert.equal(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth), 1, "the avatar loads");
      assert.equal(await storedDid(b), null);
      await b.getByRole("button", { name: "No, discard it" }).click();
      await b.getByText("Discarded: this device kept nothing.").waitFor();
      assert.equal(await storedDid(b), null, "the onlooker's key was not kept");
      const me = await b.evaluate(() => fetch("/api/me").then((r) => r.status));
      assert.equal(me, 401, "and the device did not sign in");

      // A fresh code, typed on the member's own device: their identity arrives and is used once confirmed.
      const again = await startLinking(b, instance.origin);
      await a.goto(`${instance.origin}/profile`);
      await a.getByText(did).first().waitFor();
      await sendKey(a, again.code, again.fingerprint);
      const mine = await arrived(b);
      assert.equal(mine.did, did);
      assert.equal(mine.membership, "Not a member of this community");
      assert.equal(await b.locator("#link-avatar img").count(), 0, "no avatar known: none shown");
      await b.getByRole("button", { name: "Yes, it is mine: sign in" }).click();
      assert.equal(await signedInDid(b), did);
      assert.equal(await storedDid(b), did);
    });
  },
});
