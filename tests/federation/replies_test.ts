/** Replies from the fediverse enter a channel only when its owner opened it to them. */
import assert from "node:assert/strict";
import type { MessageJson } from "../../cli/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { opLog } from "../../db/schema.ts";
import { rebuildIndexes } from "../../server/exchange/indexes.ts";
import { assertNoInjectedMarkup, http } from "../http/support.ts";
import { MastodonPeer } from "./mastodon_peer.ts";
import { channelNamed, eventually, federatedInstance, groupOf, sleep } from "./support.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

/** A Mastodon-style reply: a Note served at its id, in a Create. */
function reply(peer: MastodonPeer, fields: Record<string, unknown>) {
  const id = `${peer.actorId}/statuses/${crypto.randomUUID()}`;
  const note: Record<string, unknown> & { id: string } = {
    "@context": "https://www.w3.org/ns/activitystreams",
    id,
    type: "Note",
    attributedTo: peer.actorId,
    published: new Date().toISOString(),
    cc: [PUBLIC],
    ...fields,
  };
  peer.serve(note);
  const create = peer.mint("activities", {
    type: "Create",
    actor: peer.actorId,
    object: note,
    to: note.to ?? [],
    cc: note.cc,
  });
  return { note, create };
}

Deno.test("replies from the fediverse enter an open channel, and are refused with no effect otherwise", async (t) => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await using alice = await MastodonPeer.start({ name: "alice" });
  await using follower = await MastodonPeer.start({ name: "bob" });
  await using mallory = await MastodonPeer.start({ name: "mallory" });
  const origin = instance.origin;
  const h = instance.harmony;
  const general = await channelNamed(origin, "general");
  const group = groupOf(origin, general.id);
  const ownerActor = `${origin}/ap/actors/${owner.did.replace("did:key:", "")}`;
  const history = async () => ((await http(origin, "GET", `/api/channels/${general.id}/messages`)).json
    .messages as MessageJson[]);
  const state = async () => ({
    messages: (await history()).length,
    ops: await h.db.$count(opLog),
    remoteActors: await quadStore.count(h.db, { graph: h.iris.remoteActors }),
  });

  await follower.follow(group);
  await follower.waitFor((b) => b.type === "Accept", "the Accept");
  const original = await owner.post("general", "What do you think?");
  const originalNote = `${origin}/ap/notes/${original.id.replace("urn:uuid:", "")}`;

  await t.step("by default (members only) a reply is refused and changes nothing", async () => {
    assert.equal(
      (await channelNamed(origin, "general") as { fediverseReplies?: string }).fediverseReplies,
      "members",
    );
    const before = await state();
    const { create } = reply(alice, {
      inReplyTo: originalNote,
      to: [ownerActor],
      content: "<p>ignored?</p>",
    });
    assert.equal((await alice.post(`${ownerActor}/inbox`, create)).status, 202);
    await sleep(400);
    assert.deepEqual(await state(), before);
  });

  await t.step("the owner opens the channel to fediverse replies", async () => {
    const patch = await http(origin, "PATCH", `/api/channels/${general.id}`, {
      body: { fediverseReplies: "open" },
      token: owner.token!,
    });
    assert.equal(patch.status, 200, patch.text);
    assert.equal(patch.json.fediverseReplies, "open");
  });

  let entered: MessageJson;
  let note: Record<string, unknown>;
  await t.step("a reply to a channel's message enters it, with the peer as its author", async () => {
    const sent = reply(alice, {
      inReplyTo: originalNote,
      to: [ownerActor],
      content: '<p><span class="h-card"><a href="https://elsewhere.example/@owner" class="u-url mention">' +
        "@<span>owner</span></a></span> Looks <b>great</b> &amp; fast &lt;script&gt;alert(1)&lt;/script&gt;</p>" +
        '<p>More at <a href="https://example.com/page">example.com/page</a> <img src=x onerror=alert(1)></p>',
    });
    note = sent.note;
    assert.equal((await alice.post(`${ownerActor}/inbox`, sent.create)).status, 202);
    entered = await eventually(async () => (await history()).find((m) => m.id === sent.note.id), "the reply");
    assert.equal(entered.author, alice.actorId);
    assert.equal(
      entered.content,
      "@owner Looks great & fast <script>alert(1)</script>\n\nMore at https://example.com/page",
    );
  });

  await t.step("the index tables rebuild from the quads, the reply's Remote operation included", async () => {
    const snapshot = async () => ({
      ops: await h.db.select().from(opLog).orderBy(opLog.position),
      messages: (await history()).map((m) => [m.id, m.author, m.content]),
    });
    const before = await snapshot();
    assert.ok(before.ops.some((op) => op.kind === "Remote" && op.actor === alice.actorId));
    await h.database.write((tx) => rebuildIndexes(tx));
    assert.deepEqual(await snapshot(), before);
  });

  await t.step("the channel page shows the reply under its author's fediverse name, escaped", async () => {
    const page = await http(origin, "GET", `/channels/${general.id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Alice Example/);
    assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assertNoInjectedMarkup(page.text, "channel page with a fediverse reply");
  });

  await t.step("the channel announces the reply to its followers", async () => {
    const announce = await follower.waitFor(
      (b) => b.type === "Announce" && (b.object === note.id || b.object?.id === note.id),
      "the Announce of the reply",
    );
    assert.equal(announce.body.actor, group);
  });

  await t.step("a reply addressed to the group (not in reply to anything) enters it too", async () => {
    const sent = reply(alice, { to: [group], content: "<p>Hello group</p>" });
    assert.equal((await alice.post(`${group}/inbox`, sent.create)).status, 202);
    await eventually(async () => (await history()).find((m) => m.content === "Hello group"), "the message");
  });

  await t.step("its author's Update edits it; someone else's Update changes nothing", async () => {
    const forged = mallory.mint("activities", {
      type: "Update",
      actor: mallory.actorId,
      object: {
        ...note,
        attributedTo: mallory.actorId,
        content: "<p>forged</p>",
        updated: new Date().toISOString(),
      },
    });
    assert.equal((await mallory.post(`${group}/inbox`, forged)).status, 202);
    const update = alice.mint("activities", {
      type: "Update",
      actor: alice.actorId,
      object: {
        ...note,
        content: "<p>Edited on Mastodon</p>",
        updated: new Date(Date.now() + 1000).toISOString(),
      },
    });
    assert.equal((await alice.post(`${group}/inbox`, update)).status, 202);
    const edited = await eventually(
      async () => (await history()).find((m) => m.id === note.id && m.content === "Edited on Mastodon"),
      "the edit",
    );
    assert.ok(edited.updated);
    assert.ok(!(await history()).some((m) => m.content.includes("forged")));
  });

  await t.step("its author's Delete removes it", async () => {
    const deletion = alice.mint("activities", {
      type: "Delete",
      actor: alice.actorId,
      object: { id: note.id, type: "Tombstone" },
    });
    assert.equal((await alice.post(`${group}/inbox`, deletion)).status, 202);
    await eventually(async () => !(await history()).some((m) => m.id === note.id), "the deletion");
  });

  await t.step("a Note attributed to someone other than the sender is refused", async () => {
    const before = await state();
    const sent = reply(mallory, { to: [group], content: "<p>I am alice</p>", attributedTo: alice.actorId });
    assert.equal((await mallory.post(`${group}/inbox`, sent.create)).status, 202);
    await sleep(300);
    assert.deepEqual(await state(), before);
  });
});
