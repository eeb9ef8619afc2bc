/**
 * The upload flow in a real browser: the owner sets the file limits in the
 * settings, picks an image and a text file in the composer and posts; the
 * other member sees the image inline, live, and downloads the text file.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { launchBrowser, skipBrowser } from "../browser/browser.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { PNG } from "./support.ts";

async function clientFor(origin: string, mnemonic: string): Promise<HarmonyClient> {
  const client = new HarmonyClient(
    origin,
    await signerFromIdentityFile(await identityFileFromMnemonic(mnemonic)),
  );
  await client.signIn();
  return client;
}

async function signIn(page: Page, origin: string, mnemonic: string, returnTo: string): Promise<void> {
  await page.goto(`${origin}/identity?return=${returnTo}`);
  await page.locator("#restore-words").fill(mnemonic);
  await page.getByRole("button", { name: "Restore" }).click();
  await page.waitForURL(new RegExp(`${returnTo}$`));
}

Deno.test({
  name: "a member picks files and posts; the other member sees the image inline live and downloads the file",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const ownerWords = generateMnemonic();
    const guestWords = generateMnemonic();
    const owner = await clientFor(instance.origin, ownerWords);
    await owner.claim(instance.claimUrl!.split("/claim/")[1]);
    const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
    const guest = await clientFor(instance.origin, guestWords);
    await guest.join(invite.code);
    const general = (await owner.channels())[0];
    const channelPath = `/channels/${general.id}`;

    const browser = await launchBrowser();
    try {
      const ownerPage = await (await browser.newContext()).newPage();
      const guestContext = await browser.newContext({ acceptDownloads: true });
      const guestPage = await guestContext.newPage();

      // The owner sets the limits in the settings page.
      await signIn(ownerPage, instance.origin, ownerWords, "/settings");
      await ownerPage.getByRole("button", { name: "Save file limits" }).waitFor();
      await ownerPage.getByLabel("Largest file (MB)").fill("2");
      await ownerPage.getByLabel("Files per message").fill("3");
      await ownerPage.getByRole("button", { name: "Save file limits" }).click();
      await ownerPage.getByText("File limits saved.").waitFor();
      assert.deepEqual(await owner.fileLimits(), { maxFileSize: 2 * 1024 * 1024, maxFilesPerMessage: 3 });

      await signIn(guestPage, instance.origin, guestWords, channelPath);
      await ownerPage.goto(`${instance.origin}${channelPath}`);

      // Pick two files: they upload at once and wait in the composer.
      await ownerPage.locator("#composer-files").setInputFiles([
        { name: "red dot.png", mimeType: "image/png", buffer: Buffer.from(PNG) },
        { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("meeting notes\n") },
      ]);
      await ownerPage.locator("#pending-files li[data-file-id]").nth(1).waitFor();
      await ownerPage.getByPlaceholder(/^Message #/).fill("holiday picture");
      await ownerPage.getByPlaceholder(/^Message #/).press("Enter");
      await ownerPage.locator("#pending-files li").first().waitFor({ state: "detached" });

      // The guest sees the image inline, live, at its size, loaded through the download route.
      const message = guestPage.locator("article.message", { hasText: "holiday picture" });
      const image = message.locator('img[alt="red dot.png"]');
      await image.waitFor();
      assert.equal(await image.getAttribute("width"), "3");
      assert.equal(await image.getAttribute("loading"), "lazy");
      await guestPage.waitForFunction(
        () =>
          (document.querySelector('img[alt="red dot.png"]') as HTMLImageElement | null)?.naturalWidth === 3,
      );

      // The text file is a card; clicking it downloads the file.
      const card = message.locator("a.file-card");
      assert.match(await card.innerText(), /notes\.txt[\s\S]*14 B · text/);
      const [download] = await Promise.all([guestPage.waitForEvent("download"), card.click()]);
      assert.equal(download.suggestedFilename(), "notes.txt");
      const path = await download.path();
      assert.equal(await Deno.readTextFile(path), "meeting notes\n");

      // What was signed: the message carries both descriptors.
      const stored = (await owner.history(general.id)).messages.at(-1)!;
      assert.deepEqual(stored.attachments?.map((a) => a.name), ["red dot.png", "notes.txt"]);
    } finally {
      await browser.close();
    }
  },
});
