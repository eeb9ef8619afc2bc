/**
 * Reactions (an observed-remove set) and pins (last writer wins) fold as a
 * CRDT: the same operations applied in any order, in any batches, any
 * number of times, give the same state.
 */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { type OpDocument, opIdOf } from "../../server/messages/oplog.ts";
import { stateHash } from "../../server/replication/sync.ts";
import { signMessage, signPin, signReact, signUnreact } from "../../server/documents/documents.ts";
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
  type TempDatabase,
  tempDatabase,
} from "../unit/support.ts";

const EMOJI = ["👍", "❤️", "🎉", "🇫🇷"];

/**
 * Two origins through partitions: posts (some in threads), reactions,
 * removals of the reactions each side has seen, pins and unpins; now and
 * then they exchange everything.
 */
async function scenario(seed: number, steps: number): Promise<ReplicatedOp[]> {
  const next = random(seed);
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const members = [await member(21), await member(22), await member(23)];
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
    const posts = here.known.filter((op) => op.doc.type === "Message").map((op) => op.doc as { id: string });
    const published = new Date(time += 1000).toISOString();
    const who = pick(members);
    let doc: OpDocument;
    let authority: ReplicatedOp["authority"];
    if (roll < 0.1) {
      const union = [
        ...new Map(
          [...state[A].known, ...state[B].known].map((op) => [op.envelope.origin + op.envelope.seq, op]),
        ).values(),
      ];
      const top = Math.max(state[A].clock, state[B].clock);
      for (const side of [A, B]) Object.assign(state[side], { known: [...union], clock: top });
      continue;
    } else if (roll < 0.3 || posts.length === 0) {
      const root = posts.length && next() < 0.3 ? pick(posts).id : undefined;
      doc = await signMessage(who, channelOf[origin], `post ${step}`, undefined, published, { thread: root });
    } else if (roll < 0.65) {
      doc = await signReact(who, channelOf[origin], pick(posts).id, pick(EMOJI), published);
    } else if (roll < 0.85) {
      // Remove the reactions this member has seen here with one emoji on one message.
      const seen = here.known.filter((op) => op.doc.type === "React" && op.doc.actor === who.did);
      if (!seen.length) continue;
      const one = pick(seen).doc as { object: string; content: string };
      const same = seen.filter((op) => {
        const d = op.doc as { object: string; content: string };
        return d.object === one.object && d.content === one.content;
      });
      const removes = await Promise.all(same.map((op) => opIdOf(op.doc)));
      doc = await signUnreact(who, channelOf[origin], one.object, one.content, removes, published);
    } else {
      doc = await signPin(who, channelOf[origin], pick(posts).id, next() < 0.6, published);
      authority = moderatorCapability(who.did, origin);
    }
    const op = { doc, authority, envelope: { origin, seq: ++here.seq, lamport: ++here.clock } };
    here.known.push(op);
    all.push(op);
  }
  return all;
}

async function conversationState(db: TempDatabase) {
  return {
    reactions: await db.db.all(
      sql`SELECT op_id, message, actor, emoji, lamport FROM reactions ORDER BY op_id`,
    ),
    pins: await db.db.all(sql`SELECT message, pinned, actor, lamport, op_id FROM pins ORDER BY message`),
    threads: await db.db.all(sql`SELECT id, thread_root FROM message_index ORDER BY id`),
  };
}

Deno.test("reactions and pins converge whatever the order, batching and duplication of operations", async () => {
  for (const seed of [3, 11, 2026]) {
    const ops = await scenario(seed, 220);
    assert.ok(ops.some((op) => op.doc.type === "Unreact"), "the scenario removes reactions");
    await using first = await tempDatabase();
    await using second = await tempDatabase();
    await using third = await tempDatabase();
    const next = random(seed * 17);
    assert.deepEqual(await replay(first, R, ops, () => 1), [], "no operation refused");
    assert.deepEqual(
      await replay(
        second,
        R,
        shuffled([...ops, ...ops.filter(() => next() < 0.3)], next),
        () => 1 + Math.floor(next() * 9),
      ),
      [],
      "no operation refused",
    );
    assert.deepEqual(
      await replay(third, R, [...ops].reverse(), () => 1 + Math.floor(next() * 40)),
      [],
      "no operation refused",
    );
    const states = await Promise.all([first, second, third].map(conversationState));
    assert.deepEqual(states[1], states[0], `seed ${seed}: shuffled replica diverged`);
    assert.deepEqual(states[2], states[0], `seed ${seed}: reversed replica diverged`);
    const hashes = [
      await stateHash(first.db, channelOf[R]),
      await stateHash(second.db, channelOf[R]),
      await stateHash(third.db, channelOf[R]),
    ];
    assert.equal(hashes[1].hash, hashes[0].hash);
    assert.equal(hashes[2].hash, hashes[0].hash);
    assert.ok(hashes[0].reactions > 0);
  }
});

Deno.test("a reaction whose removal arrived first stays removed; an unobserved concurrent reaction stays", async () => {
  const ann = await member(31);
  const post = await signMessage(ann, channelOf[A], "react to me", undefined, "2026-11-01T00:00:00.000Z");
  const first = await signReact(ann, channelOf[A], post.id, "👍", "2026-11-01T00:00:01.000Z");
  // Made on B without seeing the removal below (concurrent): the same member, the same emoji.
  const concurrent = await signReact(ann, channelOf[B], post.id, "👍", "2026-11-01T00:00:02.000Z");
  const removal = await signUnreact(
    ann,
    channelOf[A],
    post.id,
    "👍",
    [await opIdOf(first)],
    "2026-11-01T00:00:03.000Z",
  );
  const ops: ReplicatedOp[] = [
    { doc: post, envelope: { origin: A, seq: 1, lamport: 1 } },
    { doc: first, envelope: { origin: A, seq: 2, lamport: 2 } },
    { doc: concurrent, envelope: { origin: B, seq: 1, lamport: 3 } },
    { doc: removal, envelope: { origin: A, seq: 3, lamport: 3 } },
  ];
  for (const order of [[3, 1, 2, 0], [0, 1, 2, 3], [2, 3, 0, 1]]) {
    await using db = await tempDatabase();
    assert.deepEqual(await replay(db, R, order.map((i) => ops[i]), () => 1), [], "no operation refused");
    const rows = await db.db.all<{ op_id: string }>(sql`SELECT op_id FROM reactions`);
    assert.deepEqual(rows.map((r) => r.op_id), [await opIdOf(concurrent)], `order ${order}`);
  }
});

Deno.test("an Unreact from a peer never removes another member's reaction", async () => {
  const ann = await member(32);
  const ben = await member(33);
  const post = await signMessage(ann, channelOf[A], "mine", undefined, "2026-11-01T00:00:00.000Z");
  const annReact = await signReact(ann, channelOf[A], post.id, "🎉", "2026-11-01T00:00:01.000Z");
  const forged = await signUnreact(ben, channelOf[B], post.id, "🎉", [await opIdOf(annReact)]);
  await using db = await tempDatabase();
  await replay(db, R, [
    { doc: forged, envelope: { origin: B, seq: 1, lamport: 1 } },
    { doc: post, envelope: { origin: A, seq: 1, lamport: 1 } },
    { doc: annReact, envelope: { origin: A, seq: 2, lamport: 2 } },
  ], () => 1);
  const rows = await db.db.all<{ actor: string }>(sql`SELECT actor FROM reactions`);
  assert.deepEqual(rows.map((r) => r.actor), [ann.did]);
});

Deno.test("pins: the Pin or Unpin with the highest (Lamport time, op id) wins", async () => {
  const mod = await member(34);
  const post = await signMessage(mod, channelOf[A], "pin me", undefined, "2026-11-01T00:00:00.000Z");
  const pin = await signPin(mod, channelOf[A], post.id, true, "2026-11-01T00:00:01.000Z");
  const unpin = await signPin(mod, channelOf[B], post.id, false, "2026-11-01T00:00:02.000Z");
  const ops: ReplicatedOp[] = [
    { doc: post, envelope: { origin: A, seq: 1, lamport: 1 } },
    { doc: pin, envelope: { origin: A, seq: 2, lamport: 5 }, authority: moderatorCapability(mod.did, A) },
    // Signed later by the clock, but earlier by Lamport time: it loses.
    { doc: unpin, envelope: { origin: B, seq: 1, lamport: 4 }, authority: moderatorCapability(mod.did, B) },
  ];
  for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0]]) {
    await using db = await tempDatabase();
    assert.deepEqual(await replay(db, R, order.map((i) => ops[i]), () => 1), [], "no operation refused");
    const [row] = await db.db.all<{ pinned: number }>(sql`SELECT pinned FROM pins`);
    assert.equal(Boolean(row.pinned), true, `order ${order}`);
  }
});
