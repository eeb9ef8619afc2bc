/**
 * The import's checks refuse no genuine export: communities whose owner
 * handed over ownership and then moved to a new key by recovery, with
 * avatars, direct messages and attached files, a channel bridged with
 * another instance (its peer's messages, edits and deletions), and one that
 * took fediverse replies all import.
 */
import assert from "node:assert/strict";
import { base64 } from "@scure/base";
import { openDatabase } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { imageHash } from "../../server/community/images.ts";
import { importNQuads } from "../../server/exchange/exchange.ts";
import { readInstanceKeys } from "../../server/exchange/keys.ts";
import type { Harmony } from "../../server/harmony.ts";
import type { HarmonyClient } from "../../cli/client.ts";
import { joinedMember } from "../dms/support.ts";
import { PNG } from "../files/support.ts";
import { http, quickClient } from "../http/support.ts";
import {
  approve,
  eventually,
  recoveryCommunity,
  requestRecovery,
  setUp,
  status,
} from "../recovery/support.ts";
import { bridge, claimNode, eventually as until, joinNode, startNode } from "../bridges/support.ts";
import { MastodonPeer } from "../federation/mastodon_peer.ts";
import { channelNamed, eventually as soon, federatedInstance, groupOf } from "../federation/support.ts";

async function importsCleanly(h: Harmony, exporter: HarmonyClient): Promise<number> {
  const exported = await new Response(await exporter.exportNQuads()).text();
  const keys = await readInstanceKeys(h.database);
  const dir = await Deno.makeTempDir({ prefix: "harmony-import-" });
  const database = await openDatabase(`file:${dir}/imported.db`);
  try {
    const count = await importNQuads(database, exported, { origin: h.config.origin, keys });
    assert.equal(count, await quadStore.count(database.db));
    return count;
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "a community with an ownership handover, a recovered owner, avatars, DMs and files imports",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner, member, guardians, community } = await recoveryCommunity({
      HARMONY_RECOVERY_DELAY_SECONDS: "1",
    });
    await using _ = instance;
    const origin = instance.origin;
    const profile = await member.signedProfile("Member with a face", {
      type: "image/png",
      hash: await imageHash(PNG),
    });
    const saved = await http(origin, "PUT", "/api/profile", {
      body: { profile, avatar: base64.encode(PNG) },
      token: member.token!,
    });
    assert.equal(saved.status, 200, saved.text);
    const file = await member.upload("general", PNG, "dot.png");
    await member.post("general", "with a file", [file]);
    const [a, b] = [await joinedMember(origin, owner), await joinedMember(origin, owner)];
    const sent = await http(origin, "POST", "/api/dms", {
      body: { envelope: await a.seal(b.did, "psst") },
      token: a.client.token!,
    });
    assert.equal(sent.status, 201, sent.text);

    await owner.transferOwnership(member.did);
    await setUp(member, community, [guardians[0]], 1);
    const newKey = await quickClient(origin);
    const request = await requestRecovery(newKey, community, member.did);
    await approve(guardians[0], request);
    await eventually(async () => (await status(newKey, request)).status === "completed", "the recovery");
    assert.equal((await newKey.community()).owner, newKey.did);

    assert.ok(await importsCleanly(instance.harmony, newKey) > 0);
  },
});

Deno.test({
  name: "a channel bridged with another instance, its peer's posts, edits and deletions included, imports",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await startNode("a");
    await using b = await startNode("b");
    const ownerA = await claimNode(a);
    const ownerB = await claimNode(b);
    const channelA = await ownerA.createChannel("shared", { visibility: "public" });
    const channelB = await ownerB.createChannel("shared", { visibility: "public" });
    await bridge({ node: a, owner: ownerA, channel: channelA }, {
      node: b,
      owner: ownerB,
      channel: channelB,
    });
    const alice = await joinNode(a, ownerA);
    const bob = await joinNode(b, ownerB);
    await alice.post("shared", "from a");
    const fromB = await bob.post("shared", "from b");
    const gone = await bob.post("shared", "soon gone");
    await bob.edit(fromB, "from b, edited");
    await bob.delete(gone);
    await alice.post("shared", "react to me");
    const onB = await until(
      "b to see a's message",
      async () => (await bob.history("shared")).messages.find((m) => m.content === "react to me"),
    );
    await bob.react(onB, "🎉");
    await until("a to see b's edit and deletion", async () => {
      const messages = (await alice.history("shared")).messages;
      return messages.some((m) => m.content === "from b, edited") &&
        !messages.some((m) => m.content === "soon gone");
    });
    assert.ok(await importsCleanly(a.instance.harmony, ownerA) > 0);
  },
});

Deno.test({
  name: "a channel with fediverse replies, one edited by its author and one deleted, imports",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await federatedInstance();
    await using _ = instance;
    await using alice = await MastodonPeer.start({ name: "alice" });
    const origin = instance.origin;
    const general = await channelNamed(origin, "general");
    const group = groupOf(origin, general.id);
    await http(origin, "PATCH", `/api/channels/${general.id}`, {
      body: { fediverseReplies: "open" },
      token: owner.token!,
    });
    const original = await owner.post("general", "What do you think?");
    const notes = [];
    for (const text of ["kept", "edited", "deleted"]) {
      const note = {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${alice.actorId}/statuses/${crypto.randomUUID()}`,
        type: "Note",
        attributedTo: alice.actorId,
        published: new Date().toISOString(),
        inReplyTo: `${origin}/ap/notes/${original.id.replace("urn:uuid:", "")}`,
        to: [group],
        content: `<p>${text}</p>`,
      };
      alice.serve(note);
      const create = alice.mint("activities", {
        type: "Create",
        actor: alice.actorId,
        object: note,
        to: [group],
      });
      assert.equal((await alice.post(`${group}/inbox`, create)).status, 202);
      notes.push(note);
    }
    const history = async () => (await owner.history("general")).messages;
    await soon(async () => (await history()).length === 4, "the replies");
    const update = alice.mint("activities", {
      type: "Update",
      actor: alice.actorId,
      object: { ...notes[1], content: "<p>edited on Mastodon</p>", updated: new Date().toISOString() },
    });
    await alice.post(`${group}/inbox`, update);
    const deletion = alice.mint("activities", {
      type: "Delete",
      actor: alice.actorId,
      object: { id: notes[2].id, type: "Tombstone" },
    });
    await alice.post(`${group}/inbox`, deletion);
    await soon(async () => {
      const messages = await history();
      return messages.length === 3 && messages.some((m) => m.content === "edited on Mastodon");
    }, "the edit and the deletion");
    assert.ok(await importsCleanly(instance.harmony, owner) > 0);
  },
});
