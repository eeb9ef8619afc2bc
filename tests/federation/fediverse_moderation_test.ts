/**
 * Moderating the fediverse side: moderators remove replies from the
 * fediverse (and restore them), block accounts, admins block whole servers.
 * Each is a signed, audited action with its own capability, and undoable;
 * a blocked account's or server's activities are refused at the inbox and
 * by the domain, nothing is delivered to it, and its followers are dropped.
 * Real instances and Mastodon-like peers over loopback HTTP.
 */
import assert from "node:assert/strict";
import type { HarmonyClient, MessageJson } from "../../cli/client.ts";
import { opLog } from "../../db/schema.ts";
import { unlessBlocked, withoutBlockedDeliveries } from "../../federation/blocks.ts";
import { Update } from "@fedify/vocab";
import { SqlMessageQueue } from "../../federation/queue.ts";
import { loadConfig } from "../../server/config.ts";
import { rebuildIndexes } from "../../server/exchange/indexes.ts";
import type { Harmony } from "../../server/harmony.ts";
import { startInstance } from "../../server/instance.ts";
import { blockCovers } from "../../server/moderation/remoteBlocks.ts";
import { requestFollow } from "../../server/replication/followers.ts";
import { receiveRemotePost } from "../../server/replication/remoteMessages.ts";
import { HarmonyError } from "../../server/shared/errors.ts";
import { memberOf, newClient } from "../helpers/instance.ts";
import { freePort, http } from "../http/support.ts";
import { refused, snapshotCounts } from "../moderation/support.ts";
import { MastodonPeer } from "./mastodon_peer.ts";
import {
  channelNamed,
  eventually,
  federatedInstance,
  followersOf,
  getAp,
  groupOf,
  replyFrom,
  sleep,
} from "./support.ts";

async function history(origin: string, channelId: string): Promise<MessageJson[]> {
  return (await http(origin, "GET", `/api/channels/${channelId}/messages`)).json.messages;
}

async function openToReplies(origin: string, owner: HarmonyClient, channelId: string): Promise<void> {
  const patch = await http(origin, "PATCH", `/api/channels/${channelId}`, {
    body: { fediverseReplies: "open" },
    token: owner.token!,
  });
  assert.equal(patch.status, 200, patch.text);
}

/** Follows the group and waits for the Accept. */
async function follows(peer: MastodonPeer, group: string): Promise<void> {
  const { reply } = await peer.follow(group);
  assert.equal(reply.status, 202, reply.text);
  await peer.waitFor((b) => b.type === "Accept", `${peer.name}'s Accept`);
}

const boosts = (note: string) => (b: { type?: string; object?: unknown }) =>
  b.type === "Announce" && (b.object === note || (b.object as { id?: string })?.id === note);

Deno.test({
  name: "a moderator removes a fediverse reply and restores it; followers are told; both are audited",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await federatedInstance();
    await using _instance = instance;
    await using alice = await MastodonPeer.start({ name: "alice" });
    await using follower = await MastodonPeer.start({ name: "bob" });
    const { origin } = instance;
    const h = instance.harmony;
    const moderator = await memberOf(instance, owner);
    const member = await memberOf(instance, owner);
    await owner.assignRole(moderator.did, "moderator");
    const general = await channelNamed(origin, "general");
    const group = groupOf(origin, general.id);
    await openToReplies(origin, owner, general.id);
    await follows(follower, group);

    const original = await owner.post("general", "What do you think?");
    const { note, create } = replyFrom(alice, {
      inReplyTo: `${origin}/ap/notes/${original.id.replace("urn:uuid:", "")}`,
      to: [group],
      content: "<p>Buy cheap followers</p>",
    });
    assert.equal((await alice.post(`${group}/inbox`, create)).status, 202);
    await eventually(
      async () => (await history(origin, general.id)).some((m) => m.id === note.id),
      "the reply",
    );
    const announce = await follower.waitFor(boosts(note.id), "the Announce of the reply");

    await t.step(
      "a member without remove-reply cannot remove or restore it (403); nothing changes",
      async () => {
        const before = await snapshotCounts(h);
        await refused(member.removeReply(note.id), 403, /no capability to remove replies from the fediverse/);
        await refused(
          member.restoreReply(note.id),
          403,
          /no capability to remove replies from the fediverse/,
        );
        assert.deepEqual(await snapshotCounts(h), before);
        assert.ok((await history(origin, general.id)).some((m) => m.id === note.id));
      },
    );

    await t.step("a member's own message is not removed this way", async () => {
      await refused(moderator.removeReply(original.id), 422, /only replies from the fediverse/);
    });

    let removal: { seq: number; hash: string };
    await t.step("removed, it leaves the channel, and the Group takes back its Announce", async () => {
      const result = await moderator.removeReply(note.id, "spam");
      removal = result.entry;
      assert.equal(result.author, alice.actorId);
      assert.ok(!(await history(origin, general.id)).some((m) => m.id === note.id));
      const undo = await follower.waitFor(
        (b) => b.type === "Undo" && (b.object?.id ?? b.object) === announce.body.id,
        "the Group's Undo of its Announce",
      );
      assert.equal(undo.body.actor, group);
      // The Undo is served at its id; the Announce it takes back no longer is.
      const served = await getAp(undo.body.id);
      assert.equal(served.status, 200);
      assert.equal(served.json.type, "Undo");
      assert.equal((await getAp(announce.body.id)).status, 404);
      await refused(moderator.removeReply(note.id), 409, /already removed/);
      const listed = await moderator.fediverseReplies();
      assert.equal(listed.removed.find((r) => r.id === note.id)?.removedBy, moderator.did);
      assert.ok(!listed.replies.some((r) => r.id === note.id));
    });

    await t.step("the removal is in the quads: rebuilding the indexes keeps it", async () => {
      const snapshot = async () => ({
        ops: await h.db.select().from(opLog).orderBy(opLog.position),
        messages: (await history(origin, general.id)).map((m) => [m.id, m.content]),
      });
      const before = await snapshot();
      await h.database.write((tx) => rebuildIndexes(tx));
      assert.deepEqual(await snapshot(), before);
    });

    await t.step("restored, it shows again as it was, and is announced again", async () => {
      await moderator.restoreReply(note.id);
      const back = (await history(origin, general.id)).find((m) => m.id === note.id);
      assert.equal(back?.content, "Buy cheap followers");
      assert.equal(back?.author, alice.actorId);
      await follower.waitFor(
        (b) => boosts(note.id)(b) && b.id !== announce.body.id,
        "a new Announce of the restored reply",
      );
      await refused(moderator.restoreReply(note.id), 409, /not removed/);
    });

    await t.step("both actions are in the audit log, signed, and the log verifies", async () => {
      const entries = await member.auditLog();
      const removed = entries.find((e) => e.seq === removal.seq)!;
      assert.equal(removed.action, "remove-reply");
      assert.equal(removed.target, note.id);
      assert.equal(removed.actor, moderator.did);
      assert.deepEqual(removed.arguments, { reason: "spam" });
      assert.ok(entries.some((e) => e.action === "restore-reply" && e.target === note.id));
      assert.equal((await member.verifyAudit()).ok, true);
    });

    await t.step("a reply its author deleted while removed cannot be restored", async () => {
      await moderator.removeReply(note.id);
      const deletion = alice.mint("activities", {
        type: "Delete",
        actor: alice.actorId,
        object: { id: note.id, type: "Tombstone" },
      });
      assert.equal((await alice.post(`${group}/inbox`, deletion)).status, 202);
      await eventually(
        async () =>
          (await moderator.fediverseReplies()).removed.every((r) => r.id !== note.id) ? true : undefined,
        "the author's deletion",
      );
      await refused(moderator.restoreReply(note.id), 410, /its author deleted/);
      // Followers are still told of the author's own Delete.
      await follower.waitFor(
        (b) => b.type === "Announce" && b.object?.type === "Delete" && b.object?.id === deletion.id,
        "the Announce of the author's Delete",
      );
    });
  },
});

Deno.test({
  name:
    "blocked fediverse accounts and servers are refused, sent nothing and unfollowed; unblocking undoes it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await federatedInstance();
    await using _instance = instance;
    await using alice = await MastodonPeer.start({ name: "alice" });
    await using carol = await MastodonPeer.start({ name: "carol" });
    await using bob = await MastodonPeer.start({ name: "bob" });
    const { origin } = instance;
    const h = instance.harmony;
    const admin = await memberOf(instance, owner);
    const moderator = await memberOf(instance, owner);
    const member = await memberOf(instance, owner);
    await owner.assignRole(admin.did, "admin");
    await owner.assignRole(moderator.did, "moderator");
    const general = await channelNamed(origin, "general");
    const group = groupOf(origin, general.id);
    await openToReplies(origin, owner, general.id);
    for (const peer of [alice, carol, bob]) await follows(peer, group);
    const say = async (peer: MastodonPeer, text: string) => {
      const sent = replyFrom(peer, { to: [group], content: `<p>${text}</p>` });
      return { ...sent, reply: await peer.post(`${group}/inbox`, sent.create) };
    };
    for (const text of ["first spam", "second spam"]) {
      assert.equal((await say(alice, text)).reply.status, 202);
    }
    assert.equal((await say(carol, "hello from carol")).reply.status, 202);
    await eventually(async () => (await history(origin, general.id)).length === 3, "the three replies");
    const state = async () => ({
      ...await snapshotCounts(h),
      followers: (await followersOf(origin, general.id)).sort(),
    });

    await t.step(
      "without the capability nobody blocks (403): members, and moderators for servers",
      async () => {
        const before = await state();
        await refused(member.blockActor(alice.actorId), 403, /no capability to block fediverse accounts/);
        await refused(member.blockServer(carol.base), 403, /no capability to block fediverse servers/);
        await refused(moderator.blockServer(carol.base), 403, /no capability to block fediverse servers/);
        await refused(admin.blockServer(origin), 422, /this community's own server/);
        assert.deepEqual(await state(), before);
      },
    );

    await t.step("blocking an account drops its follow and, in the same action, its replies", async () => {
      const result = await moderator.blockActor(alice.actorId, { reason: "spam", removeReplies: true });
      assert.equal(result.followersDropped, 1);
      assert.equal(result.repliesRemoved, 2);
      const left = await history(origin, general.id);
      assert.deepEqual(left.map((m) => m.author), [carol.actorId]);
      assert.ok(!(await followersOf(origin, general.id)).includes(alice.actorId));
      await refused(moderator.blockActor(alice.actorId), 409, /already blocked/);
    });

    await t.step("the blocked account's Follow and reply are refused (403) and change nothing", async () => {
      const before = await state();
      assert.equal((await alice.follow(group)).reply.status, 403);
      const { reply } = await say(alice, "let me back in");
      assert.equal(reply.status, 403);
      assert.match(reply.text, /does not accept activities from this account/);
      await sleep(300);
      assert.deepEqual(await state(), before);
    });

    await t.step("past the inbox, the domain refuses a blocked account's reply and follow too", async () => {
      const blocked = (error: unknown) => error instanceof HarmonyError && error.status === 403;
      await assert.rejects(
        receiveRemotePost(h, {
          channelIri: general.iri,
          id: `${alice.actorId}/statuses/direct`,
          author: alice.actorId,
          content: "straight into the domain",
          published: new Date().toISOString(),
          activityId: `${alice.actorId}/activities/direct`,
          activity: {},
        }),
        blocked,
      );
      await assert.rejects(
        requestFollow(h, {
          channelIri: general.iri,
          actor: alice.actorId,
          inbox: alice.inbox,
          sharedInbox: null,
          followId: `${alice.actorId}/follows/direct`,
          software: "mastodon",
        }),
        blocked,
      );
    });

    await t.step(
      "an inbox listener ignores an activity whose actor is blocked, whatever let it in",
      async () => {
        const ran: string[] = [];
        const listener = unlessBlocked(h, async (_ctx, update: Update) => {
          ran.push(update.actorId!.href);
        });
        for (const peer of [alice, bob]) {
          await listener(
            null as never,
            new Update({ id: new URL(`${peer.actorId}#u`), actor: new URL(peer.actorId) }),
          );
        }
        assert.deepEqual(ran, [bob.actorId]);
      },
    );

    await t.step("blocking a server drops its followers and refuses every activity from it", async () => {
      const result = await admin.blockServer(carol.base, { reason: "abuse" });
      assert.equal(result.followersDropped, 1);
      assert.equal(result.repliesRemoved, 0, "its replies stay unless removeReplies is asked");
      assert.deepEqual(await followersOf(origin, general.id), [bob.actorId]);
      const before = await state();
      assert.equal((await carol.follow(group)).reply.status, 403);
      assert.equal((await say(carol, "still here")).reply.status, 403);
      await sleep(300);
      assert.deepEqual(await state(), before);
    });

    await t.step("nothing is delivered to them; the others still get the channel", async () => {
      const post = await owner.post("general", "after the blocks");
      const note = `${origin}/ap/notes/${post.id.replace("urn:uuid:", "")}`;
      await bob.waitFor(boosts(note), "bob's Announce");
      await sleep(500);
      assert.equal(alice.find(boosts(note)).length, 0);
      assert.equal(carol.find(boosts(note)).length, 0);
    });

    await t.step("a delivery queued before the block is dropped when its turn comes", async () => {
      await queuedDeliveriesSkipBlocked(
        h,
        { blocked: [carol.sharedInbox, alice.inbox], open: bob.inbox },
        alice,
      );
    });

    await t.step("the blocks are listed; unblocking lets them follow and reply again", async () => {
      const listed = await admin.moderation();
      assert.deepEqual(listed.blockedActors?.map((b) => [b.target, b.reason]), [[alice.actorId, "spam"]]);
      assert.deepEqual(listed.blockedServers?.map((b) => [b.target, b.by]), [[carol.base, admin.did]]);
      assert.equal(await member.moderation().catch((e) => e.status), 403);
      assert.equal(
        (await moderator.moderation()).blockedServers,
        null,
        "servers only for who may block them",
      );
      await moderator.unblockActor(alice.actorId);
      await admin.unblockServer(carol.base);
      await refused(moderator.unblockActor(alice.actorId), 404, /not blocked/);
      await refused(admin.unblockServer(carol.base), 404, /not blocked/);
      for (const peer of [alice, carol]) {
        peer.received.length = 0;
        await follows(peer, group);
      }
      assert.equal((await say(alice, "sorry about that")).reply.status, 202);
      await eventually(
        async () => (await history(origin, general.id)).some((m) => m.content === "sorry about that"),
        "alice's reply after the unblock",
      );
    });

    await t.step("every block and unblock is in the audit log, and the log verifies", async () => {
      const entries = await member.auditLog();
      const done = entries.map((e) => [e.action, e.target]);
      for (
        const expected of [
          ["block-actor", alice.actorId],
          ["block-server", carol.base],
          ["unblock-actor", alice.actorId],
          ["unblock-server", carol.base],
        ]
      ) assert.ok(done.some(([a, t]) => a === expected[0] && t === expected[1]), `${expected[0]} is logged`);
      assert.deepEqual(
        entries.find((e) => e.action === "block-actor")?.arguments,
        { reason: "spam", removeReplies: true },
      );
      assert.equal((await member.verifyAudit()).ok, true);
    });
  },
});

/** Jobs queued for blocked inboxes are dropped unsent; the others run. */
async function queuedDeliveriesSkipBlocked(
  h: Harmony,
  inboxes: { blocked: string[]; open: string },
  personal: MastodonPeer,
): Promise<void> {
  const queue = new SqlMessageQueue(h.database, "blocks-test", { workers: 1 });
  const ran: string[] = [];
  const abort = new AbortController();
  const listening = withoutBlockedDeliveries(h, queue).listen((message) => {
    ran.push((message as { inbox: string }).inbox);
  }, { signal: abort.signal });
  const job = (inbox: string, sharedInbox: boolean, actorIds: string[] = []) => ({
    type: "outbox",
    inbox,
    sharedInbox,
    actorIds,
  });
  await queue.enqueue(job(inboxes.blocked[0], true));
  // A personal inbox of a blocked account, on a server that is not blocked.
  await queue.enqueue(job(inboxes.blocked[1], false, [personal.actorId]));
  await queue.enqueue(job(inboxes.open, true));
  await eventually(() => ran.includes(inboxes.open), "the open delivery");
  await eventually(async () => (await queue.getDepth()).queued === 0, "the queue to empty");
  assert.deepEqual(ran, [inboxes.open]);
  abort.abort();
  await queue.close();
  await listening;
}

Deno.test({
  name: "blocks live in the database: after a restart the blocked are still refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "harmony-blocks-" });
    const port = freePort();
    const env = {
      PORT: String(port),
      HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
      DATABASE_URL: `file:${dir}/h.db`,
      HARMONY_ALLOW_PRIVATE_ADDRESSES: "1",
    };
    await using alice = await MastodonPeer.start({ name: "alice" });
    await using carol = await MastodonPeer.start({ name: "carol" });
    try {
      let instance = await startInstance(loadConfig(env), { log: () => {} });
      const owner = await newClient(instance);
      await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
      await owner.blockActor(alice.actorId);
      await owner.blockServer(`127.0.0.1:${carol.port}`);
      await instance.close();

      instance = await startInstance(loadConfig(env), { log: () => {} });
      await owner.signIn();
      const group = groupOf(instance.origin, (await channelNamed(instance.origin, "general")).id);
      assert.equal((await alice.follow(group)).reply.status, 403);
      assert.equal((await carol.follow(group)).reply.status, 403);
      const listed = await owner.moderation();
      assert.equal(listed.blockedActors?.length, 1);
      assert.equal(listed.blockedServers?.[0].target, `https://127.0.0.1:${carol.port}`);
      assert.equal((await owner.verifyAudit()).ok, true);
      await instance.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a server block covers the server's subdomains on the same port, and nothing else", () => {
  const server = { kind: "server" as const, target: "https://example.social" };
  assert.ok(blockCovers(server, "https://example.social/users/a"));
  assert.ok(blockCovers(server, "http://example.social/inbox"), "whatever the scheme");
  assert.ok(blockCovers(server, "https://media.eu.example.social/users/a"));
  assert.ok(!blockCovers(server, "https://example.social:8443/users/a"), "another port is another server");
  assert.ok(!blockCovers(server, "https://notexample.social/users/a"));
  assert.ok(!blockCovers(server, "https://example.social.evil.test/users/a"));
  const address = { kind: "server" as const, target: "http://127.0.0.1:8080" };
  assert.ok(blockCovers(address, "http://127.0.0.1:8080/users/a"));
  assert.ok(!blockCovers(address, "http://127.0.0.1:8081/users/a"));
  assert.ok(!blockCovers({ kind: "server", target: "http://0.1:8080" }, "http://127.0.0.1:8080/x"));
  const actor = { kind: "actor" as const, target: "https://example.social/users/a" };
  assert.ok(blockCovers(actor, "https://example.social/users/a"));
  assert.ok(!blockCovers(actor, "https://example.social/users/ab"));
});
