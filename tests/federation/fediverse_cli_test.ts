/** `harmony fediverse …`: removing replies from the fediverse and blocking, from the command line. */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { harmonyInProcess as harmony } from "../helpers/cli.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { http } from "../http/support.ts";
import { MastodonPeer } from "./mastodon_peer.ts";
import { channelNamed, eventually, groupOf, replyFrom } from "./support.ts";

Deno.test({
  name: "the CLI removes and restores fediverse replies and blocks accounts and servers, signed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance({ HARMONY_ALLOW_PRIVATE_ADDRESSES: "1" });
    await using alice = await MastodonPeer.start({ name: "alice" });
    await using spammer = await MastodonPeer.start({ name: "spammer" });
    const { origin } = instance;
    const identity = await identityFileFromMnemonic(generateMnemonic());
    const file = `${instance.dir}/owner.json`;
    await Deno.writeTextFile(file, JSON.stringify(identity));
    const owner = new HarmonyClient(origin, await signerFromIdentityFile(identity));
    await owner.signIn();
    await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    // A member holding no block-server capability.
    const memberIdentity = await identityFileFromMnemonic(generateMnemonic());
    const memberFile = `${instance.dir}/member.json`;
    await Deno.writeTextFile(memberFile, JSON.stringify(memberIdentity));
    const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
    const member = new HarmonyClient(origin, await signerFromIdentityFile(memberIdentity));
    await member.signIn();
    await member.request("POST", "/join", { invite: invite.code });
    const general = await channelNamed(origin, "general");
    const group = groupOf(origin, general.id);
    await http(origin, "PATCH", `/api/channels/${general.id}`, {
      body: { fediverseReplies: "open" },
      token: owner.token!,
    });
    const kind = replyFrom(alice, { to: [group], content: "<p>Kind words</p>" });
    const spam = replyFrom(spammer, { to: [group], content: "<p>Spam</p>" });
    await alice.post(`${group}/inbox`, kind.create);
    await spammer.post(`${group}/inbox`, spam.create);
    await eventually(async () => (await owner.fediverseReplies()).replies.length === 2, "both replies");

    const cli = (...args: string[]) => harmony(["--server", origin, "--identity", file, ...args]);
    const ok = async (...args: string[]) => {
      const result = await cli(...args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };

    const listed = await ok("fediverse", "replies");
    assert.ok(listed.includes(kind.note.id) && listed.includes(spam.note.id), listed);
    assert.match(
      await ok("fediverse", "remove", kind.note.id, "--reason", "off topic"),
      /Removed the reply by/,
    );
    assert.match(await ok("fediverse", "replies"), /removed/);
    assert.match(await ok("fediverse", "restore", kind.note.id), /Restored the reply by/);

    assert.match(
      await ok("fediverse", "block", spammer.actorId, "--remove-replies", "--reason", "spam"),
      /Blocked .*: 0 follower\(s\) dropped, 1 reply\(ies\) removed/,
    );
    assert.match(
      await ok("fediverse", "block-server", `127.0.0.1:${alice.port}`),
      /Blocked 127\.0\.0\.1:\d+/,
    );
    const blocks = await ok("fediverse", "blocks");
    assert.ok(blocks.includes(spammer.actorId) && blocks.includes(`127.0.0.1:${alice.port}`), blocks);
    assert.equal((await alice.post(`${group}/inbox`, kind.create)).status, 403);

    // Called wrongly: exit 2; refused by the server: exit 1 with its reason.
    const wrong = await cli("fediverse", "block", "not a url");
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /not an account's actor URL/);
    const refusedMember = await harmony([
      "--server",
      origin,
      "--identity",
      memberFile,
      "fediverse",
      "block-server",
      "elsewhere.example",
    ]);
    assert.equal(refusedMember.code, 1);
    assert.match(refusedMember.stderr, /no capability to block fediverse servers/);

    assert.match(await ok("fediverse", "unblock", spammer.actorId), /Unblocked/);
    assert.match(await ok("fediverse", "unblock-server", `127.0.0.1:${alice.port}`), /Unblocked/);
    const actions = (await owner.auditLog()).map((e) => e.action);
    for (
      const action of [
        "remove-reply",
        "restore-reply",
        "block-actor",
        "block-server",
        "unblock-actor",
        "unblock-server",
      ]
    ) {
      assert.ok(actions.includes(action), `${action} is in the log`);
    }
    assert.equal((await owner.verifyAudit()).ok, true);
  },
});
