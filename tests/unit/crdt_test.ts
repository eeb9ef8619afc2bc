/**
 * The operation log is a CRDT: replicas that apply the same operations, in
 * any order, in any batches, any number of times, reach the same state.
 */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import {
  applyBatch,
  type OpDocument,
  opIdOf,
  type OpSubmission,
  placeholderId,
} from "../../server/messages/oplog.ts";
import { opsSince, stateHash, versionVector } from "../../server/replication/sync.ts";
import { signDelete, signMessage, signUpdate } from "../../server/documents/documents.ts";
import type { KeySigner } from "../../server/crypto/signer.ts";
import {
  A,
  B,
  channelOf,
  member,
  moderatorCapability,
  R,
  random,
  replay,
  type ReplicatedOp,
  shuffled,
  tempDatabase,
} from "./support.ts";

/**
 * Two origins working through a partition: each posts, edits its own
 * authors' messages and deletes messages it knows of, with Lamport clocks;
 * now and then they exchange everything. Returns every operation made.
 */
async function scenario(seed: number, steps: number): Promise<ReplicatedOp[]> {
  const next = random(seed);
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const authors: Record<string, KeySigner[]> = {
    [A]: [await member(1), await member(2)],
    [B]: [await member(3), await member(4)],
  };
  const state: Record<string, { clock: number; seq: number; known: ReplicatedOp[] }> = {
    [A]: { clock: 0, seq: 0, known: [] },
    [B]: { clock: 0, seq: 0, known: [] },
  };
  const all: ReplicatedOp[] = [];
  let time = Date.parse("2026-11-01T00:00:00Z");
  for (let step = 0; step < steps; step++) {
    const origin = next() < 0.5 ? A : B;
    const here = state[origin];
    const roll = next();
    const posts = here.known.filter((op) => op.doc.type === "Message");
    let doc: OpDocument;
    let authority: ReplicatedOp["authority"];
    const published = new Date(time += 1000).toISOString();
    if (roll < 0.1) {
      // Exchange: both sides learn everything the other knows.
      const union = [
        ...new Map(
          [...state[A].known, ...state[B].known].map((op) => [op.envelope.origin + op.envelope.seq, op]),
        ).values(),
      ];
      const top = Math.max(state[A].clock, state[B].clock);
      for (const side of [A, B]) Object.assign(state[side], { known: [...union], clock: top });
      continue;
    } else if (roll < 0.55 || posts.length === 0) {
      doc = await signMessage(
        pick(authors[origin]),
        channelOf[origin],
        `post ${step} from ${origin}`,
        undefined,
        published,
      );
    } else if (roll < 0.85) {
      const own = posts.filter((op) =>
        authors[origin].some((a) => a.did === (op.doc as { attributedTo: string }).attributedTo)
      );
      if (!own.length) continue;
      const target = pick(own).doc as { id: string; attributedTo: string };
      const author = authors[origin].find((a) => a.did === target.attributedTo)!;
      doc = await signUpdate(author, channelOf[origin], target.id, `edit ${step} on ${origin}`, published);
    } else {
      // The author, or a moderator of the community (with the capability that lets them).
      const target = pick(posts).doc as { id: string; attributedTo: string };
      const deleter = pick(authors[origin]);
      doc = await signDelete(deleter, channelOf[origin], target.id, published);
      if (deleter.did !== target.attributedTo) authority = moderatorCapability(deleter.did, origin);
    }
    const op = { doc, authority, envelope: { origin, seq: ++here.seq, lamport: ++here.clock } };
    here.known.push(op);
    all.push(op);
  }
  return all;
}

Deno.test("replicas converge to one state whatever the order, batching and duplication of operations", async () => {
  for (const seed of [1, 7, 42]) {
    const ops = await scenario(seed, 160);
    await using first = await tempDatabase();
    await using second = await tempDatabase();
    const next = random(seed * 31);
    // The first replica applies them in creation order, one at a time...
    assert.deepEqual(await replay(first, R, ops, () => 1), [], "no operation refused");
    // ...the second shuffled, in random batches, with a third of them sent twice.
    const noisy = shuffled([...ops, ...ops.filter(() => next() < 0.33)], next);
    await replay(second, R, noisy, () => 1 + Math.floor(next() * 12));

    const [h1, h2] = [await stateHash(first.db, channelOf[R]), await stateHash(second.db, channelOf[R])];
    assert.equal(h1.hash, h2.hash, `seed ${seed}: the replicas diverged`);
    assert.equal(h1.messages, h2.messages);
    const posts = ops.filter((op) => op.doc.type === "Message").length;
    for (const replica of [first, second]) {
      const rows = await replica.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM message_index`);
      assert.equal(Number(rows[0].n), posts, "every message exactly once (live or tombstone)");
    }
    const logged = await second.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM op_log`);
    assert.equal(Number(logged[0].n), ops.length, "every operation logged exactly once");
  }
});

Deno.test("an edit wins over another by (Lamport time, operation id); a deletion wins over every edit", async () => {
  const author = await member(9);
  const other = await member(10);
  const post = await signMessage(author, channelOf[A], "original", undefined, "2026-11-01T00:00:00.000Z");
  const early = await signUpdate(author, channelOf[A], post.id, "early edit", "2026-11-01T00:00:02.000Z");
  const late = await signUpdate(author, channelOf[A], post.id, "late edit", "2026-11-01T00:00:01.000Z");
  const forged = await signUpdate(other, channelOf[A], post.id, "not the author", "2026-11-01T00:00:03.000Z");
  const ops: ReplicatedOp[] = [
    { doc: post, envelope: { origin: A, seq: 1, lamport: 1 } },
    { doc: early, envelope: { origin: A, seq: 2, lamport: 2 } },
    // Lamport time decides, not the signed wall-clock time.
    { doc: late, envelope: { origin: A, seq: 3, lamport: 5 } },
    { doc: forged, envelope: { origin: B, seq: 1, lamport: 9 } },
  ];
  await using db = await tempDatabase();
  await replay(db, R, [...ops].reverse(), () => 1);
  const [row] = await db.db.all<{ content: string; deleted: number }>(
    sql`SELECT content, deleted FROM message_index WHERE id = ${post.id}`,
  );
  assert.equal(
    row.content,
    "late edit",
    "the highest Lamport time wins; an edit by someone else never applies",
  );

  const deletion = await signDelete(other, channelOf[B], post.id, "2026-11-01T00:00:04.000Z");
  await replay(db, R, [{
    doc: deletion,
    envelope: { origin: B, seq: 2, lamport: 3 },
    authority: moderatorCapability(other.did, B),
  }], () => 1);
  const newer = await signUpdate(author, channelOf[A], post.id, "after deletion", "2026-11-01T00:00:05.000Z");
  await replay(db, R, [{ doc: newer, envelope: { origin: A, seq: 4, lamport: 20 } }], () => 1);
  const [gone] = await db.db.all<{ content: string; deleted: number }>(
    sql`SELECT content, deleted FROM message_index WHERE id = ${post.id}`,
  );
  assert.deepEqual({ ...gone, deleted: Boolean(gone.deleted) }, { content: "", deleted: true });
});

Deno.test("a peer may not reuse an origin's sequence number for a different operation", async () => {
  const author = await member(11);
  await using db = await tempDatabase();
  const one = await signMessage(author, channelOf[B], "one");
  const two = await signMessage(author, channelOf[B], "two");
  const result = await db.writeSql(async (tx) =>
    applyBatch(tx, A, [
      {
        doc: one,
        opId: await opIdOf(one),
        channel: channelOf[A],
        envelope: { origin: B, seq: 1, lamport: 1 },
      },
      {
        doc: two,
        opId: await opIdOf(two),
        channel: channelOf[A],
        envelope: { origin: B, seq: 1, lamport: 2 },
      },
    ])
  );
  assert.equal("refused" in result.outcomes[1] && result.outcomes[1].refused.code, "sequence_taken");
  assert.equal((await stateHash(db.db, channelOf[A])).messages, 1);
});

Deno.test("version vectors count contiguous operations per origin, and opsSince pages exactly the missing ones", async () => {
  const author = await member(12);
  await using db = await tempDatabase();
  const ops: ReplicatedOp[] = [];
  for (let seq = 1; seq <= 7; seq++) {
    if (seq === 5) continue; // a gap: 5 never arrived
    ops.push({
      doc: await signMessage(author, channelOf[B], `m${seq}`),
      envelope: { origin: B, seq, lamport: seq },
    });
  }
  for (let seq = 1; seq <= 3; seq++) {
    ops.push({
      doc: await signMessage(author, channelOf[A], `a${seq}`),
      envelope: { origin: A, seq, lamport: seq },
    });
  }
  await replay(db, R, ops, () => 3);
  assert.deepEqual(await versionVector(db.db, channelOf[R]), { [A]: 3, [B]: 4 });

  const seen: string[] = [];
  let after = null;
  do {
    const page = await opsSince(db.db, channelOf[R], { [B]: 2 }, { after, limit: 2 });
    seen.push(...page.ops.map((op) => `${op.envelope.origin === A ? "A" : "B"}${op.envelope.seq}`));
    after = page.next;
  } while (after);
  assert.deepEqual(seen, ["A1", "A2", "A3", "B3", "B4", "B6", "B7"]);
});

Deno.test("a deleted message's text leaves the log, and a replica that only gets its trace converges", async () => {
  const author = await member(13);
  const post = await signMessage(author, channelOf[B], "to be deleted");
  const keep = await signMessage(author, channelOf[B], "to keep");
  const deletion = await signDelete(author, channelOf[B], post.id);
  await using full = await tempDatabase();
  await replay(full, A, [
    { doc: post, envelope: { origin: B, seq: 1, lamport: 1 } },
    { doc: keep, envelope: { origin: B, seq: 2, lamport: 2 } },
    { doc: deletion, envelope: { origin: B, seq: 3, lamport: 3 } },
  ], () => 1);
  const log = await full.db.all<{ document: string }>(sql`SELECT document FROM op_log ORDER BY position`);
  assert.ok(log.every((r) => !r.document.includes("to be deleted")), "the text is gone from the log");
  const quads = await full.db.all<{ object: string }>(sql`SELECT object FROM quads`);
  assert.ok(quads.every((r) => !r.object.includes("to be deleted")), "and from every quad");

  // A second replica is sent what the first has now: the redacted trace, not the post.
  const page = await opsSince(full.db, channelOf[A], {});
  assert.ok(!JSON.stringify(page.ops).includes("to be deleted"), "a peer is never sent the text");
  await using late = await tempDatabase();
  const batch: OpSubmission[] = [];
  for (const op of page.ops) {
    const doc = op.document;
    // A trace is named after its place, never after the operation it claims to be.
    const opId = "redacted" in doc ? await placeholderId(doc.channel, op.envelope) : await opIdOf(doc);
    batch.push({
      doc: "redacted" in doc ? { ...doc, opId } : doc,
      opId,
      channel: channelOf[R],
      envelope: op.envelope,
    });
  }
  const result = await late.writeSql((tx) => applyBatch(tx, R, batch));
  assert.deepEqual(result.outcomes.filter((o) => "refused" in o), []);
  assert.equal((await stateHash(late.db, channelOf[R])).hash, (await stateHash(full.db, channelOf[A])).hash);
  assert.deepEqual(
    await versionVector(late.db, channelOf[R]),
    { [B]: 3 },
    "the trace fills its place in the log",
  );
});
