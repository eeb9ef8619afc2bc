import assert from "node:assert/strict";
import type { ChannelJson, HarmonyClient, MessageJson } from "../../cli/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { messageIndex, opLog } from "../../db/schema.ts";
import { eq } from "drizzle-orm";
import { iri } from "../../db/terms.ts";
import { verify } from "../../server/crypto/dataIntegrity.ts";
import { logEntryIri } from "../../server/messages/oplog.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { assertRefused, http, joinedMember, quickClient } from "./support.ts";

Deno.test("messages: signed posts, edits and deletions, and every way they are refused", async (t) => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const h = instance.harmony;
  const origin = instance.origin;
  const alice = await joinedMember(origin, owner);
  const bob = await joinedMember(origin, owner);
  const [general] = (await http(origin, "GET", "/api/channels")).json as ChannelJson[];
  const other =
    (await http(origin, "POST", "/api/channels", { body: { name: "other" }, token: owner.token! }))
      .json as ChannelJson;

  const post = (client: HarmonyClient, message: unknown, channelId = general.id) =>
    http(origin, "POST", `/api/channels/${channelId}/messages`, { body: { message }, token: client.token! });
  const edit = (client: HarmonyClient, id: string, update: unknown) =>
    http(origin, "PUT", `/api/messages/${encodeURIComponent(id)}`, {
      body: { update },
      token: client.token!,
    });
  const remove = (client: HarmonyClient, id: string, doc: unknown) =>
    http(origin, "DELETE", `/api/messages/${encodeURIComponent(id)}`, {
      body: { delete: doc },
      token: client.token!,
    });
  const fetchMessage = async (id: string) =>
    (await http(origin, "GET", `/api/messages/${encodeURIComponent(id)}`)).json;
  const counts = async () => ({ quads: await quadStore.count(h.db), rows: await h.db.$count(messageIndex) });
  const contents = async (channelId = general.id) =>
    ((await http(origin, "GET", `/api/channels/${channelId}/messages?limit=200`)).json
      .messages as MessageJson[])
      .map((m) => m.content);

  /** Refused with this status and code, and nothing was stored. */
  async function refusedUnchanged(
    send: () => Promise<Awaited<ReturnType<typeof http>>>,
    status: number,
    code?: string,
  ) {
    const before = await counts();
    const reply = await send();
    assertRefused(reply, status, code);
    assert.deepEqual(await counts(), before, "nothing was stored");
    return reply;
  }

  let mine: MessageJson;

  await t.step("a member posts a message they signed; it is stored with its proof", async () => {
    const doc = await alice.signedMessage(general.iri, "first post");
    const reply = await post(alice, doc);
    assert.equal(reply.status, 201, reply.text);
    mine = reply.json;
    assert.equal(mine.id, doc.id);
    assert.equal(mine.author, alice.did);
    assert.equal(mine.content, "first post");
    assert.equal(mine.lamport, 1);
    // The message's state (type, author, content, time, Lamport time) and its signed operation in the log.
    assert.equal(await quadStore.count(h.db, { subject: iri(doc.id), graph: general.iri }), 5);
    const [op] = await h.db.select().from(opLog).where(eq(opLog.target, doc.id));
    assert.deepEqual(JSON.parse(op.document), doc);
    assert.equal(await quadStore.count(h.db, { subject: iri(logEntryIri(general.iri, op.position)) }), 5);
    assert.deepEqual(await contents(), ["first post"]);
  });

  await t.step("posting the same signed message twice stores it once (200 the second time)", async () => {
    const doc = await alice.signedMessage(general.iri, "said twice");
    assert.equal((await post(alice, doc)).status, 201);
    const before = await counts();
    const again = await post(alice, doc);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.id, doc.id);
    assert.deepEqual(await counts(), before);
    assert.equal((await contents()).filter((c) => c === "said twice").length, 1);
  });

  await t.step("refuses reusing a message id for other content (409)", async () => {
    const reuse = await alice.signedMessage(general.iri, "different words", mine.id, mine.published);
    await refusedUnchanged(() => post(alice, reuse), 409, "id_taken");
    const otherTime = await alice.signedMessage(general.iri, "first post", mine.id);
    await refusedUnchanged(() => post(alice, otherTime), 409, "id_taken");
    assert.equal((await fetchMessage(mine.id)).content, "first post");
  });

  await t.step("refuses a message whose signature does not match (401) and stores nothing", async () => {
    const doc = await alice.signedMessage(general.iri, "original");
    await refusedUnchanged(() => post(alice, { ...doc, content: "tampered" }), 401, "bad_signature");
    await refusedUnchanged(
      () => post(alice, { ...doc, published: new Date().toISOString() }),
      401,
      "bad_signature",
    );
    const proof = {
      ...doc.proof,
      proofValue: doc.proof.proofValue.replace(/.$/, (c) => (c === "1" ? "2" : "1")),
    };
    await refusedUnchanged(() => post(alice, { ...doc, proof }), 401, "bad_signature");
    const { proof: _p, ...unsigned } = doc;
    await refusedUnchanged(() => post(alice, unsigned), 401, "bad_signature");
    await refusedUnchanged(
      () => post(alice, { ...doc, proof: { ...doc.proof, proofPurpose: "authentication" } }),
      401,
      "bad_signature",
    );
    assert.ok(!(await contents()).includes("tampered"));
  });

  await t.step("refuses a message signed for another channel (422)", async () => {
    const doc = await alice.signedMessage(other.iri, "meant for #other");
    await refusedUnchanged(() => post(alice, doc, general.id), 422, "wrong_channel");
    const foreign = await alice.signedMessage("https://elsewhere.example/channels/abc", "foreign");
    await refusedUnchanged(() => post(alice, foreign, general.id), 422, "wrong_channel");
    // The same document posted where it was signed for is fine.
    assert.equal((await post(alice, doc, other.id)).status, 201);
  });

  await t.step("refuses posting a message attributed to another DID than the session's (403)", async () => {
    const bobs = await bob.signedMessage(general.iri, "bob's words");
    await refusedUnchanged(() => post(alice, bobs), 403, "forbidden");
    assert.equal((await post(bob, bobs)).status, 201);
  });

  await t.step("refuses posts from non-members (403) and from signed-out callers (401)", async () => {
    const outsider = await quickClient(origin);
    await refusedUnchanged(
      async () => post(outsider, await outsider.signedMessage(general.iri, "let me in")),
      403,
    );
    const doc = await alice.signedMessage(general.iri, "no session");
    await refusedUnchanged(
      () => http(origin, "POST", `/api/channels/${general.id}/messages`, { body: { message: doc } }),
      401,
      "unauthenticated",
    );
    const update = await alice.signedUpdate(general.iri, mine.id, "no session");
    assertRefused(
      await http(origin, "PUT", `/api/messages/${encodeURIComponent(mine.id)}`, { body: { update } }),
      401,
      "unauthenticated",
    );
    const del = await alice.signedDelete(general.iri, mine.id);
    assertRefused(
      await http(origin, "DELETE", `/api/messages/${encodeURIComponent(mine.id)}`, { body: { delete: del } }),
      401,
      "unauthenticated",
    );
  });

  await t.step("refuses a message over 4000 characters (422) with a clear message", async () => {
    const reply = await refusedUnchanged(
      async () => post(alice, await alice.signedMessage(general.iri, "x".repeat(4001))),
      422,
      "message_too_long",
    );
    assert.equal(reply.json.message, "the message is 4001 characters long; the limit is 4000");
    assert.equal((await post(alice, await alice.signedMessage(general.iri, "y".repeat(4000)))).status, 201);
    // Characters, not UTF-16 units: 4000 emoji fit.
    assert.equal((await post(alice, await alice.signedMessage(general.iri, "🎉".repeat(4000)))).status, 201);
  });

  await t.step("refuses empty messages and control characters (422)", async () => {
    await refusedUnchanged(
      async () => post(alice, await alice.signedMessage(general.iri, "  \n ")),
      422,
      "empty_message",
    );
    await refusedUnchanged(
      async () => post(alice, await alice.signedMessage(general.iri, "bell\u0007")),
      422,
      "invalid_characters",
    );
    await refusedUnchanged(
      async () => post(alice, await alice.signedMessage(general.iri, "rtl\u202eevil")),
      422,
      "invalid_characters",
    );
  });

  await t.step("refuses a request body over 64 KiB (413)", async () => {
    const doc = await alice.signedMessage(general.iri, "small");
    await refusedUnchanged(
      () =>
        http(origin, "POST", `/api/channels/${general.id}/messages`, {
          body: { message: doc, padding: "p".repeat(65 * 1024) },
          token: alice.token!,
        }),
      413,
      "too_large",
    );
  });

  await t.step("refuses malformed JSON (400) and malformed documents (422)", async () => {
    const send = (raw: string) => () =>
      http(origin, "POST", `/api/channels/${general.id}/messages`, {
        raw,
        headers: { "content-type": "application/json" },
        token: alice.token!,
      });
    await refusedUnchanged(send("{not json"), 400, "malformed_json");
    await refusedUnchanged(send("[1,2]"), 400, "malformed_json");
    await refusedUnchanged(send(""), 400, "malformed_json");
    const doc = await alice.signedMessage(general.iri, "shape");
    await refusedUnchanged(() => post(alice, { ...doc, extra: 1 }), 422, "malformed_document");
    await refusedUnchanged(() => post(alice, { ...doc, id: "not-a-uuid" }), 422, "malformed_document");
    await refusedUnchanged(
      () => post(alice, { ...doc, "@context": "https://example.org/other" }),
      422,
      "malformed_document",
    );
    await refusedUnchanged(() => post(alice, "a string"), 422, "malformed_document");
  });

  await t.step("refuses a message whose signed time is far from the server's clock (422)", async () => {
    const past = new Date(Date.now() - 11 * 60_000).toISOString();
    await refusedUnchanged(
      async () => post(alice, await alice.signedMessage(general.iri, "from the past", undefined, past)),
      422,
      "clock_skew",
    );
    const future = new Date(Date.now() + 11 * 60_000).toISOString();
    await refusedUnchanged(
      async () => post(alice, await alice.signedMessage(general.iri, "from the future", undefined, future)),
      422,
      "clock_skew",
    );
  });

  await t.step("the author edits their message; the signed Update stays verifiable", async () => {
    const update = await alice.signedUpdate(general.iri, mine.id, "first post (edited)");
    const reply = await edit(alice, mine.id, update);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.content, "first post (edited)");
    assert.equal(reply.json.updated, update.published);
    assert.ok(reply.json.revision > mine.revision);
    assert.ok((await contents()).includes("first post (edited)"));

    const stored = await fetchMessage(mine.id);
    assert.equal(stored.content, "first post (edited)");
    assert.ok(stored.signed.update, "the signed Update is served");
    const result = await verify(stored.signed.update);
    assert.equal(result.verified, true, JSON.stringify(result));
    assert.equal(result.verified && result.signer, alice.did);
    assert.equal(stored.signed.update.content, "first post (edited)");
    assert.equal(stored.signed.update.object, mine.id);
    // Sending the same edit again changes nothing.
    const again = await edit(alice, mine.id, update);
    assert.equal(again.status, 200);
    assert.equal(again.json.revision, reply.json.revision);
  });

  await t.step("an unedited message is served with its verifiable signed original", async () => {
    const doc = await bob.signedMessage(general.iri, "never edited");
    await post(bob, doc);
    const stored = await fetchMessage(doc.id);
    assert.deepEqual(stored.signed.message, doc);
    assert.equal((await verify(stored.signed.message)).verified, true);
    assert.equal(stored.signed.update, null);
  });

  await t.step("refuses an edit older than the stored one (409)", async () => {
    const newer = new Date(Date.now() + 1000).toISOString();
    assert.equal(
      (await edit(alice, mine.id, await alice.signedUpdate(general.iri, mine.id, "newest", newer))).status,
      200,
    );
    const older = new Date(Date.now() - 1000).toISOString();
    const reply = await edit(alice, mine.id, await alice.signedUpdate(general.iri, mine.id, "stale", older));
    assertRefused(reply, 409, "stale_edit");
    assert.equal((await fetchMessage(mine.id)).content, "newest");
  });

  await t.step("refuses edits that are tampered, misdirected or too long", async () => {
    const update = await alice.signedUpdate(general.iri, mine.id, "honest");
    assertRefused(await edit(alice, mine.id, { ...update, content: "forged" }), 401, "bad_signature");
    const other = await alice.signedMessage(general.iri, "another");
    await post(alice, other);
    assertRefused(await edit(alice, other.id, update), 422, "wrong_message");
    assertRefused(
      await edit(alice, mine.id, await alice.signedUpdate(general.iri, mine.id, "z".repeat(4001))),
      422,
      "message_too_long",
    );
    assertRefused(
      await edit(alice, mine.id, await alice.signedUpdate(general.iri + "x", mine.id, "moved")),
      422,
      "wrong_channel",
    );
    assert.equal((await fetchMessage(mine.id)).content, "newest");
  });

  await t.step("refuses a member editing another member's message (403)", async () => {
    const byBob = await bob.signedUpdate(general.iri, mine.id, "bob was here");
    assertRefused(await edit(bob, mine.id, byBob), 403, "forbidden");
    // Nor can alice forward bob's signed edit.
    assertRefused(await edit(alice, mine.id, byBob), 403, "forbidden");
    assert.equal((await fetchMessage(mine.id)).content, "newest");
  });

  await t.step("refuses a member deleting another member's message (403)", async () => {
    assertRefused(await remove(bob, mine.id, await bob.signedDelete(general.iri, mine.id)), 403, "forbidden");
    assert.equal((await fetchMessage(mine.id)).deleted, false);
  });

  await t.step("the author deletes their message; content is gone and the deletion is signed", async () => {
    const doc = await alice.signedMessage(general.iri, "regret this");
    await post(alice, doc);
    const del = await alice.signedDelete(general.iri, doc.id);
    const reply = await remove(alice, doc.id, del);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.deleted, true);
    assert.equal(reply.json.content, "");
    assert.ok(!(await contents()).includes("regret this"));
    const stored = await fetchMessage(doc.id);
    assert.equal((await verify(stored.signed.delete)).verified, true);
    assert.equal(stored.signed.delete.actor, alice.did);
    assert.equal(stored.signed.message, null);
    const text = await quadStore.match(h.db, { subject: iri(doc.id), graph: general.iri });
    assert.ok(!text.some((q) => q.object.value === "regret this"), "the text is gone from the quads");
    // ...and from the operation log: the post keeps its place there, without its text or signature.
    const everything = await quadStore.match(h.db, { graph: general.iri });
    assert.ok(
      !everything.some((q) => q.object.value.includes("regret this")),
      "no quad of the channel holds the text",
    );
    const logged = await h.db.select().from(opLog).where(eq(opLog.target, doc.id));
    assert.ok(logged.every((op) => !op.document.includes("regret this")), "no operation holds the text");
    // An edit after the deletion is refused.
    assertRefused(
      await edit(alice, doc.id, await alice.signedUpdate(general.iri, doc.id, "back")),
      410,
      "deleted",
    );
    // So is posting the deleted message again: a retry cannot bring it back.
    await refusedUnchanged(() => post(alice, doc), 410, "message_deleted");
  });

  await t.step("after an edit, the original post retried is recognised and its id stays taken", async () => {
    const doc = await alice.signedMessage(general.iri, "draft");
    await post(alice, doc);
    await edit(alice, doc.id, await alice.signedUpdate(general.iri, doc.id, "final"));
    const retry = await post(alice, doc);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.json.content, "final");
    const impostor = await alice.signedMessage(general.iri, "other text", doc.id, doc.published);
    await refusedUnchanged(() => post(alice, impostor), 409, "id_taken");
  });

  await t.step("an admin deletes anyone's message", async () => {
    const doc = await bob.signedMessage(general.iri, "moderate me");
    await post(bob, doc);
    const reply = await remove(owner, doc.id, await owner.signedDelete(general.iri, doc.id));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.deleted, true);
    const stored = await fetchMessage(doc.id);
    assert.equal(stored.signed.delete.actor, owner.did);
    assert.equal((await verify(stored.signed.delete)).verified, true);
    assert.equal(stored.author, bob.did);
  });

  await t.step("history stays in Lamport order as messages are posted", async () => {
    const page = (await http(origin, "GET", `/api/channels/${general.id}/messages?limit=200`)).json
      .messages as MessageJson[];
    const lamports = page.map((m) => m.lamport);
    assert.deepEqual(lamports, [...lamports].sort((a, b) => a - b));
    assert.equal(new Set(lamports).size, lamports.length, "one server: Lamport times are unique per channel");
  });
});
