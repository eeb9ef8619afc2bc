/**
 * Following a public channel from the fediverse, checked with a plain
 * ActivityPub peer that signs and verifies like Mastodon (no Fedify on its
 * side), and with a peer whose NodeInfo says Lemmy (group-aware).
 */
import assert from "node:assert/strict";
import { MastodonPeer } from "./mastodon_peer.ts";
import {
  channelNamed,
  eventually,
  federatedInstance,
  followersOf,
  getAp,
  groupOf,
  sleep,
} from "./support.ts";

Deno.test("a Mastodon-like peer follows a public channel and gets its messages, edits and deletions", async (t) => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await using peer = await MastodonPeer.start({ name: "alice" });
  await using lemmy = await MastodonPeer.start({ name: "lemmings", software: "lemmy" });
  const origin = instance.origin;
  const general = await channelNamed(origin, "general");
  const group = groupOf(origin, general.id);
  let follow: Record<string, unknown>;
  let inbox: string;

  await t.step(
    "a Follow of a public channel is accepted automatically (Accept embeds the Follow)",
    async () => {
      const sent = await peer.follow(group);
      follow = sent.follow;
      inbox = sent.inbox;
      assert.equal(sent.reply.status, 202, sent.reply.text);
      assert.equal(inbox, `${group}/inbox`);
      const accept = await peer.waitFor((b) => b.type === "Accept", "an Accept");
      assert.equal(accept.body.actor, group);
      assert.equal(accept.body.object.id, follow.id);
      assert.equal(accept.path, `/users/alice/inbox`);
      // The Accept is dereferenceable at its id.
      const fetched = await getAp(accept.body.id);
      assert.equal(fetched.status, 200);
      assert.equal(fetched.json.type, "Accept");
    },
  );

  await t.step("the followers collection lists the follower", async () => {
    assert.deepEqual(await followersOf(origin, general.id), [peer.actorId]);
    const collection = await getAp(`${group}/followers`);
    assert.equal(collection.json.totalItems, 1);
  });

  const lemmyFollow = await lemmy.follow(group);
  await lemmy.waitFor((b) => b.type === "Accept", "an Accept");

  let message: Awaited<ReturnType<typeof owner.post>>;
  await t.step("a member's post reaches Mastodon as Announce(Note), dereferenceable at its id", async () => {
    message = await owner.post("general", "Hello **fediverse** <script>alert(1)</script>");
    const announce = await peer.waitFor(
      (b) => b.type === "Announce" && b.object?.type === "Note",
      "Announce(Note)",
    );
    const note = announce.body.object;
    assert.equal(announce.body.actor, group);
    assert.ok(String(announce.body.to).includes("https://www.w3.org/ns/activitystreams#Public"));
    assert.match(note.content, /<strong>fediverse<\/strong>/);
    assert.doesNotMatch(note.content, /<script>/);
    assert.equal(note.audience, group);
    assert.equal(note.attributedTo, `${origin}/ap/actors/${owner.did.replace("did:key:", "")}`);
    assert.equal(note.url, `${origin}/channels/${general.id}#m-${message.id.replace("urn:uuid:", "")}`);
    const fetched = await getAp(note.id);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.json.type, "Note");
    assert.equal(fetched.json.content, note.content);
    assert.equal(fetched.json.source?.content, message.content);
    const again = await getAp(announce.body.id);
    assert.equal(again.status, 200);
    assert.equal(again.json.type, "Announce");
    // The author's Person resolves too, with the member's did:key.
    const author = await getAp(note.attributedTo);
    assert.equal(author.json.alsoKnownAs, owner.did);
  });

  await t.step("a group-aware server (NodeInfo: lemmy) gets FEP-1b12's Announce(Create(Note))", async () => {
    const announce = await lemmy.waitFor(
      (b) => b.type === "Announce" && b.object?.type === "Create",
      "Announce(Create)",
    );
    assert.equal(announce.body.object.object.type, "Note");
    assert.equal(announce.body.object.object.audience, group);
    assert.equal(announce.body.object.actor, `${origin}/ap/actors/${owner.did.replace("did:key:", "")}`);
    const create = await getAp(announce.body.object.id);
    assert.equal(create.status, 200);
    assert.equal(create.json.type, "Create");
    assert.equal(lemmy.find((b) => b.type === "Announce" && b.object?.type === "Note").length, 0);
  });

  await t.step("an edit arrives as Announce(Update(Note)) with the new content", async () => {
    await owner.edit(message, "Hello again, *fediverse*");
    const announce = await peer.waitFor(
      (b) => b.type === "Announce" && b.object?.type === "Update",
      "Announce(Update)",
    );
    assert.match(announce.body.object.object.content, /Hello again, <em>fediverse<\/em>/);
    assert.ok(announce.body.object.object.updated);
    assert.equal((await getAp(announce.body.object.id)).status, 200);
    await lemmy.waitFor((b) => b.type === "Announce" && b.object?.type === "Update", "Announce(Update)");
  });

  await t.step("a deletion arrives as Announce(Delete) and the Note is gone (404)", async () => {
    const noteId = `${origin}/ap/notes/${message.id.replace("urn:uuid:", "")}`;
    await owner.delete(message);
    const announce = await peer.waitFor(
      (b) => b.type === "Announce" && b.object?.type === "Delete",
      "Announce(Delete)",
    );
    const object = announce.body.object.object;
    assert.equal(typeof object === "string" ? object : object.id, noteId);
    assert.equal((await getAp(noteId)).status, 404);
    assert.equal((await getAp(announce.body.object.id)).status, 200);
    // The Create of a deleted message is not served any more either.
    const create = lemmy.find((b) => b.object?.type === "Create")[0].body.object.id;
    assert.equal((await getAp(create)).status, 404);
  });

  await t.step("Undo(Follow) unfollows: the peer leaves the collection and gets nothing more", async () => {
    const reply = await peer.undo(follow, inbox);
    assert.equal(reply.status, 202);
    await eventually(
      async () => !(await followersOf(origin, general.id)).includes(peer.actorId),
      "the unfollow",
    );
    const before = peer.received.length;
    await owner.post("general", "after the unfollow");
    await lemmy.waitFor((b) => b.object?.object?.content?.includes("after the unfollow"), "the next post");
    await sleep(300);
    assert.equal(peer.received.length, before, "nothing was delivered after Undo(Follow)");
    assert.deepEqual(await followersOf(origin, general.id), [lemmy.actorId]);
    assert.ok(lemmyFollow.follow.id);
  });
});
