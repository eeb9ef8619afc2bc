/** `harmony react | unreact | reply | thread | pin | pins` against a real instance. */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { harmonyInProcess as harmony } from "../helpers/cli.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { claimedInstance } from "../helpers/instance.ts";

Deno.test("the CLI reacts, replies, posts in a thread and pins", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const dir = await Deno.makeTempDir();
  try {
    const file = await identityFileFromMnemonic(generateMnemonic());
    const path = `${dir}/me.json`;
    await Deno.writeTextFile(path, JSON.stringify(file));
    const me = new HarmonyClient(instance.origin, await signerFromIdentityFile(file));
    await me.signIn();
    const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
    await me.request("POST", "/join", { invite: invite.code });
    const root = await owner.post("general", "a message to talk about");
    const cli = (...args: string[]) => harmony(["--server", instance.origin, "--identity", path, ...args]);

    const reacted = await cli("react", root.id, "👍");
    assert.equal(reacted.code, 0, reacted.stderr);
    assert.equal(reacted.stdout.trim(), "👍 1");
    const bad = await cli("react", root.id, "not an emoji");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /emoji/);
    const unreacted = await cli("unreact", root.id, "👍");
    assert.equal(unreacted.code, 0, unreacted.stderr);
    assert.equal(unreacted.stdout.trim(), "(no reactions)");

    const replied = await cli("reply", root.id, "my answer");
    assert.equal(replied.code, 0, replied.stderr);
    const reply = await me.message(replied.stdout.trim());
    assert.equal(reply.inReplyTo, root.id);

    const posted = await cli("thread", root.id, "in the thread");
    assert.equal(posted.code, 0, posted.stderr);
    const shown = await cli("thread", root.id);
    assert.match(shown.stdout, /a message to talk about\n {2}.*in the thread/);

    const refused = await cli("pin", root.id);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /no capability to pin/);
    await owner.pin(root);
    const pins = await cli("pins", "general");
    assert.match(pins.stdout, new RegExp(`${root.id}  a message to talk about`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
