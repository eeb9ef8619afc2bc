/**
 * The writer applies the same rules to every operation, local or from a
 * peer: an edit only by the author, a deletion of someone else's message
 * or a pin only with a capability that names its signer and the action; a
 * peer's redacted trace only fills its place; and no envelope value can
 * put the channel's clocks out of range.
 */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { rebuildConversation } from "../../server/conversation/fold.ts";
import { signDelete, signMessage, signPin, signReact, signUpdate } from "../../server/documents/documents.ts";
import {
  applyBatch,
  type BatchResult,
  type Envelope,
  MAX_LAMPORT,
  MAX_LAMPORT_STEP,
  MAX_SEQ_STEP,
  type OpDocument,
  opIdOf,
  type OpSubmission,
  placeholderId,
} from "../../server/messages/oplog.ts";
import {
  A,
  B,
  channelOf,
  member,
  moderatorCapability,
  R,
  type TempDatabase,
  tempDatabase,
} from "./support.ts";

async function apply(db: TempDatabase, items: Array<Partial<OpSubmission> & { doc: OpSubmission["doc"] }>) {
  const batch: OpSubmission[] = [];
  for (const item of items) {
    batch.push({
      opId: "redacted" in item.doc ? item.opId! : await opIdOf(item.doc as OpDocument),
      channel: channelOf[R],
      envelope: null,
      ...item,
    });
  }
  return await db.writeSql((tx) => applyBatch(tx, R, batch));
}

const codes = (result: BatchResult) =>
  result.outcomes.map((o) => ("refused" in o ? o.refused.code : o.status));

async function message(db: TempDatabase, id: string) {
  const [row] = await db.db.all<{ content: string; deleted: number }>(
    sql`SELECT content, deleted FROM message_index WHERE id = ${id}`,
  );
  return row ? { content: row.content, deleted: Boolean(row.deleted) } : null;
}

let seq = 0;
const fromB = (lamport = 1): Envelope => ({ origin: B, seq: ++seq, lamport });

Deno.test("an edit needs the author; a deletion of someone else's message or a pin needs a capability naming its signer", async () => {
  const author = await member(51);
  const other = await member(52);
  await using db = await tempDatabase();
  const post = await signMessage(author, channelOf[A], "mine");
  assert.deepEqual(codes(await apply(db, [{ doc: post, envelope: { origin: A, seq: 1, lamport: 1 } }])), [
    "applied",
  ]);
  const del = await signDelete(other, channelOf[B], post.id);
  const results = await apply(db, [
    { doc: await signUpdate(other, channelOf[B], post.id, "not mine to edit"), envelope: fromB() },
    { doc: del, envelope: fromB() },
    { doc: del, envelope: fromB(), authority: moderatorCapability(author.did, B) },
    { doc: del, envelope: fromB(), authority: moderatorCapability(other.did, B, ["pin"]) },
    { doc: del, envelope: fromB(), authority: moderatorCapability(other.did, A) },
    { doc: await signPin(other, channelOf[B], post.id, true), envelope: fromB() },
    { doc: await signPin(other, channelOf[R], post.id, true) },
  ]);
  assert.deepEqual(codes(results), [
    "not_author",
    "not_authorized",
    "not_authorized",
    "not_authorized",
    "not_authorized",
    "not_authorized",
    "not_authorized",
  ]);
  assert.deepEqual(await message(db, post.id), { content: "mine", deleted: false });
  const logged = await db.db.all(sql`SELECT id FROM op_log`);
  assert.equal(logged.length, 1, "nothing refused was logged");

  const ok = await apply(db, [{ doc: del, envelope: fromB(), authority: moderatorCapability(other.did, B) }]);
  assert.deepEqual(codes(ok), ["applied"]);
  assert.deepEqual(await message(db, post.id), { content: "", deleted: true });
  const [entry] = await db.db.all<{ authority: string }>(
    sql`SELECT authority FROM op_log WHERE kind = 'Delete'`,
  );
  assert.equal(JSON.parse(entry.authority).controller, other.did, "the capability is kept with the deletion");
});

Deno.test("an edit or deletion that arrives first is folded in only if its signer could make it", async () => {
  const author = await member(53);
  const other = await member(54);
  await using db = await tempDatabase();
  const kept = await signMessage(author, channelOf[A], "kept");
  const removed = await signMessage(author, channelOf[A], "removed by a moderator");
  const early = await apply(db, [
    { doc: await signDelete(other, channelOf[B], kept.id), envelope: fromB() },
    { doc: await signUpdate(other, channelOf[B], kept.id, "rewritten"), envelope: fromB() },
    {
      doc: await signDelete(other, channelOf[B], removed.id),
      envelope: fromB(),
      authority: moderatorCapability(other.did, B),
    },
  ]);
  assert.deepEqual(codes(early), ["logged", "logged", "logged"]);
  await apply(db, [
    { doc: kept, envelope: { origin: A, seq: 1, lamport: 1 } },
    { doc: removed, envelope: { origin: A, seq: 2, lamport: 2 } },
  ]);
  assert.deepEqual(await message(db, kept.id), { content: "kept", deleted: false });
  assert.deepEqual(await message(db, removed.id), { content: "", deleted: true });
});

Deno.test("a peer's redacted trace fills its place under a derived id, is never folded, and gives way to the signed operation", async () => {
  const author = await member(55);
  const stranger = await member(56);
  await using db = await tempDatabase();
  const post = await signMessage(author, channelOf[A], "arrives after a forged trace");
  const envelope = { origin: A, seq: 1, lamport: 1 };
  const trace = (type: string, opId: string) =>
    ({
      "@context": "https://w3id.org/harmony/v1",
      type,
      redacted: true,
      opId,
      target: post.id,
      channel: channelOf[A],
      actor: stranger.did,
      published: post.published,
    }) as unknown as OpSubmission["doc"];
  const place = await placeholderId(channelOf[A], envelope);
  const refused = await apply(db, [
    { doc: trace("Delete", place), opId: place, envelope: { origin: A, seq: 9, lamport: 1 } },
    // Claiming the signed operation's id.
    { doc: trace("Message", await opIdOf(post)), opId: await opIdOf(post), envelope },
  ]);
  assert.deepEqual(codes(refused), ["malformed_operation", "malformed_operation"]);
  assert.deepEqual(codes(await apply(db, [{ doc: trace("Message", place), opId: place, envelope }])), [
    "logged",
  ]);
  // The signed post for the same place replaces the trace.
  assert.deepEqual(codes(await apply(db, [{ doc: post, envelope }])), ["applied"]);
  assert.deepEqual(await message(db, post.id), { content: "arrives after a forged trace", deleted: false });
  const rows = await db.db.all<{ id: string }>(sql`SELECT id FROM op_log`);
  assert.deepEqual(rows.map((r) => r.id), [await opIdOf(post)]);
  const quads = await db.db.all(sql`SELECT 1 FROM quads WHERE object LIKE ${"%redacted%"}`);
  assert.equal(quads.length, 0, "the trace left the quads too");
});

Deno.test("an envelope from ourselves or out of the channel's range is refused; stored values out of range stop nothing", async () => {
  const author = await member(57);
  await using db = await tempDatabase();
  const doc = () => signMessage(author, channelOf[A], "hello");
  const results = await apply(db, [
    { doc: await doc(), envelope: { origin: R, seq: 1, lamport: 1 } },
    { doc: await doc(), envelope: { origin: A, seq: 1, lamport: MAX_LAMPORT + 1 } },
    { doc: await doc(), envelope: { origin: A, seq: 1, lamport: MAX_LAMPORT_STEP + 1 } },
    { doc: await doc(), envelope: { origin: A, seq: MAX_SEQ_STEP + 1, lamport: 1 } },
    { doc: await doc(), envelope: { origin: A, seq: 1, lamport: MAX_LAMPORT_STEP } },
  ]);
  assert.deepEqual(codes(results), [
    "wrong_origin",
    "envelope_out_of_range",
    "envelope_out_of_range",
    "envelope_out_of_range",
    "applied",
  ]);
  // What a database that took such values before they were refused holds.
  await db.writeSql((tx) =>
    tx.run(
      `INSERT INTO op_log (id, channel, origin, seq, lamport, kind, target, actor, document)
       VALUES ('urn:harmony:op:poison', ?, ?, ?, ?, 'Message', 'urn:uuid:x', ?, '{}')`,
      [channelOf[R], R, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, author.did],
    )
  );
  const first = await apply(db, [{ doc: await signMessage(author, channelOf[R], "one") }]);
  const second = await apply(db, [{ doc: await signMessage(author, channelOf[R], "two") }]);
  const lamports = [first, second].map((
    r,
  ) => ("message" in r.outcomes[0] ? r.outcomes[0].message!.lamport : 0));
  assert.deepEqual(lamports, [MAX_LAMPORT_STEP + 1, MAX_LAMPORT_STEP + 2]);
});

Deno.test("rebuilding pins restores only those logged with a capability for them", async () => {
  const author = await member(58);
  const mod = await member(59);
  await using db = await tempDatabase();
  const kept = await signMessage(author, channelOf[A], "pinned by a moderator");
  const forged = await signMessage(author, channelOf[A], "pinned by nobody");
  await apply(db, [
    { doc: kept, envelope: { origin: A, seq: 1, lamport: 1 } },
    { doc: forged, envelope: { origin: A, seq: 2, lamport: 2 } },
    {
      doc: await signPin(mod, channelOf[A], kept.id, true),
      envelope: { origin: A, seq: 3, lamport: 3 },
      authority: moderatorCapability(mod.did, A),
    },
  ]);
  // A pin in the log without its capability (as an edited database or an old log would hold it).
  const pin = await signPin(mod, channelOf[A], forged.id, true);
  await db.writeSql((tx) =>
    tx.run(
      `INSERT INTO op_log (id, channel, origin, seq, lamport, kind, target, actor, document)
       VALUES (?, ?, ?, 4, 4, 'Pin', ?, ?, ?)`,
      ["urn:harmony:op:" + "f".repeat(40), channelOf[R], A, forged.id, mod.did, JSON.stringify(pin)],
    )
  );
  const counts = await db.writeSql((tx) => rebuildConversation(tx));
  assert.equal(counts.pins, 1);
  const pins = await db.db.all<{ message: string }>(sql`SELECT message FROM pins WHERE pinned = 1`);
  assert.deepEqual(pins.map((p) => p.message), [kept.id]);
});

Deno.test("a reaction or pin that named a message through another channel before it came does not stay on it", async () => {
  const author = await member(60);
  const mod = await member(61);
  await using db = await tempDatabase();
  const post = await signMessage(author, channelOf[A], "arrives in R's channel");
  const elsewhere = `${R}/channels/ssssssssss`;
  // Through a bridge of another of our channels, before the message is here: folded, as it may come there.
  const early = await apply(db, [
    { doc: await signReact(mod, channelOf[B], post.id, "👍"), channel: elsewhere, envelope: fromB() },
    {
      doc: await signPin(mod, channelOf[B], post.id, true),
      channel: elsewhere,
      envelope: fromB(),
      authority: moderatorCapability(mod.did, B),
    },
  ]);
  assert.deepEqual(codes(early), ["logged", "logged"]);
  await apply(db, [{ doc: post, envelope: { origin: A, seq: 1, lamport: 1 } }]);
  const shown = async () => ({
    reactions: (await db.db.all(sql`SELECT 1 FROM reactions WHERE message = ${post.id}`)).length,
    pins: (await db.db.all(sql`SELECT 1 FROM pins WHERE message = ${post.id} AND pinned = 1`)).length,
  });
  assert.deepEqual(await shown(), { reactions: 0, pins: 0 });
  await db.writeSql((tx) => rebuildConversation(tx));
  assert.deepEqual(await shown(), { reactions: 0, pins: 0 }, "and a rebuild does not bring them back");
  // Once the message is here, another channel's reaction to it is refused outright.
  const late = await apply(db, [
    { doc: await signReact(mod, channelOf[B], post.id, "🎉"), channel: elsewhere, envelope: fromB() },
  ]);
  assert.deepEqual(codes(late), ["not_found"]);
});
