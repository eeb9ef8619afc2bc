/**
 * Pins in a real browser: a moderator pins from the message's actions (the
 * Pin operation is signed on the device), every open page shows the pin
 * live, the channel's Pins page lists it, and unpinning takes it back.
 * Members who may not pin are not offered the button.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { launchBrowser, restoreIdentity, skipBrowser } from "../browser/browser.ts";
import { newPerson, startTestInstance } from "../helpers/instance.ts";

Deno.test({
  name:
    "in the browser, a moderator pins and unpins a message; pages show it live and the Pins page lists it",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const owner = await newPerson(instance);
    await owner.client.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    await owner.client.setProfile("Olive");
    const bob = await newPerson(instance);
    const invite = await owner.client.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
    await bob.client.request("POST", "/join", { invite: invite.code });
    await bob.client.setProfile("Bob");
    const general = await owner.client.channel("general");
    const message = await bob.client.post(general.id, "the meeting is on Thursday at noon");
    const path = `/channels/${general.id}`;

    let browser: Browser | null = null;
    try {
      browser = await launchBrowser();
      const ownerPage = await (await browser.newContext()).newPage();
      const bobPage = await (await browser.newContext()).newPage();
      await restoreIdentity(ownerPage, instance.origin, owner.mnemonic, path);
      await restoreIdentity(bobPage, instance.origin, bob.mnemonic, path);
      const onOwner = ownerPage.locator(`article.message[data-id="${message.id}"]`);
      const onBob = bobPage.locator(`article.message[data-id="${message.id}"]`);
      await onBob.waitFor();

      // A member is not offered Pin.
      await onBob.hover();
      assert.equal(await onBob.getByRole("button", { name: "Pin" }).count(), 0);

      await onOwner.hover();
      await onOwner.getByRole("button", { name: "Pin" }).click();
      await onOwner.locator(".pin-badge").waitFor();
      await onBob.locator(".pin-badge").waitFor(); // over the live stream
      const pins = await bob.client.pins(general.id);
      assert.deepEqual(pins.map((p) => [p.message.id, p.pinnedBy]), [[message.id, owner.client.did]]);

      await bobPage.getByRole("link", { name: "Pins" }).click();
      await bobPage.waitForURL(`${instance.origin}${path}/pins`);
      await bobPage.getByText("the meeting is on Thursday at noon").waitFor();
      assert.match(await bobPage.locator(".pin-list").textContent() ?? "", /pinned by Olive/);

      await onOwner.hover();
      await onOwner.getByRole("button", { name: "Unpin" }).click();
      await onOwner.locator(".pin-badge").waitFor({ state: "detached" });
      assert.deepEqual(await bob.client.pins(general.id), []);
      await bobPage.reload();
      await bobPage.getByText("Nothing is pinned.").waitFor();
    } finally {
      await browser?.close();
    }
  },
});
