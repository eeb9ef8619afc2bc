/**
 * Reading the operation log for replication: version vectors, the
 * operations a peer is missing, and a hash of a channel's converged state.
 */
import { hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Queryable } from "../../db/client.ts";
import { sql } from "drizzle-orm";
import type { Capability, Envelope, OpDocument, RedactedOp } from "../messages/oplog.ts";

/** For each origin, the n such that its operations 1..n are all here. */
export type VersionVector = Record<string, number>;

export interface ReplicatedOp {
  envelope: Envelope;
  /** Redacted when its message was deleted: it then only fills its place in the log. */
  document: OpDocument | RedactedOp;
  /** A moderation's capability (server/messages/authority.ts), when it has one. */
  authority?: Capability;
}

/** The kinds of members' signed operations: only these replicate (fediverse replies stay where they arrived). */
export const REPLICATED_KINDS = ["Message", "Update", "Delete", "React", "Unreact", "Pin", "Unpin"] as const;
const replicatedKinds = sql`kind IN (${sql.join(REPLICATED_KINDS.map((k) => sql`${k}`), sql`, `)})`;

export async function versionVector(q: Queryable, channel: string): Promise<VersionVector> {
  const rows = await q.all<{ origin: string; n: number; top: number }>(sql`
    SELECT origin, count(*) AS n, max(seq) AS top FROM op_log
    WHERE channel = ${channel} AND ${replicatedKinds} GROUP BY origin`);
  const vector: VersionVector = {};
  for (const { origin, n, top } of rows) {
    if (Number(n) === Number(top)) {
      vector[origin] = Number(top);
      continue;
    }
    // A gap: the first sequence number whose rank is not itself.
    const [gap] = await q.all<{ rank: number }>(sql`
      SELECT rank FROM (
        SELECT seq, row_number() OVER (ORDER BY seq) AS rank FROM op_log
        WHERE channel = ${channel} AND origin = ${origin} AND ${replicatedKinds}
      ) WHERE seq != rank ORDER BY rank LIMIT 1`);
    vector[origin] = gap ? Number(gap.rank) - 1 : Number(top);
  }
  return vector;
}

export interface OpsPage {
  ops: ReplicatedOp[];
  /** Pass back as `after` for the next page; null when done. */
  next: { origin: string; seq: number } | null;
}

/**
 * The operations of a channel a peer with `vector` has not seen, in
 * (origin, seq) order, a page at a time.
 */
export async function opsSince(
  q: Queryable,
  channel: string,
  vector: VersionVector,
  options: { after?: { origin: string; seq: number } | null; limit?: number } = {},
): Promise<OpsPage> {
  const limit = Math.min(Math.max(options.limit ?? 200, 1), 1000);
  const known = Object.entries(vector).filter(([, n]) => Number.isSafeInteger(n) && n > 0);
  const unseen = known.length
    ? sql`(${sql.join(known.map(([origin]) => sql`origin != ${origin}`), sql` AND `)} OR ${
      sql.join(known.map(([origin, n]) => sql`(origin = ${origin} AND seq > ${n})`), sql` OR `)
    })`
    : sql`1 = 1`;
  const after = options.after
    ? sql`(origin, seq) > (${options.after.origin}, ${options.after.seq})`
    : sql`1 = 1`;
  const rows = await q.all<
    { origin: string; seq: number; lamport: number; document: string; authority: string | null }
  >(sql`
    SELECT origin, seq, lamport, document, authority FROM op_log
    WHERE channel = ${channel} AND ${replicatedKinds} AND ${unseen} AND ${after}
    ORDER BY origin, seq LIMIT ${limit + 1}`);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    ops: page.map((r) => ({
      envelope: { origin: r.origin, seq: Number(r.seq), lamport: Number(r.lamport) },
      document: JSON.parse(r.document),
      ...(r.authority ? { authority: JSON.parse(r.authority) } : {}),
    })),
    next: rows.length > limit && last ? { origin: last.origin, seq: Number(last.seq) } : null,
  };
}

/**
 * A hash of a channel's replicated state: every live member message in
 * total order with its winning content. Replicas that have applied the
 * same operations, in any order, have the same hash; the channel's local
 * IRI, change counters and tombstones are left out (a replica that never
 * saw a message before its deletion looks the same as one that did).
 */
export async function stateHash(
  q: Queryable,
  channel: string,
): Promise<{ hash: string; messages: number; reactions: number; pins: number }> {
  const hasher = sha256.create();
  const encoder = new TextEncoder();
  let messages = 0;
  let after: [number, string, string] | null = null;
  while (true) {
    const page: Array<
      {
        id: string;
        lamport: number;
        author: string;
        content: string;
        updated: string | null;
      }
    > = await q.all(sql`
      SELECT id, lamport, author, content, updated FROM message_index
      WHERE channel = ${channel} AND author LIKE 'did:key:%' AND deleted = 0
        AND ${after ? sql`(lamport, author, id) > (${after[0]}, ${after[1]}, ${after[2]})` : sql`1 = 1`}
      ORDER BY lamport, author, id LIMIT 5000`);
    for (const m of page) {
      hasher.update(
        encoder.encode([m.id, m.lamport, m.author, m.content, m.updated ?? ""].join("\u001f") + "\n"),
      );
    }
    messages += page.length;
    if (page.length < 5000) break;
    const last = page[page.length - 1];
    after = [Number(last.lamport), last.author, last.id];
  }
  // Reactions and pins of live messages (server/conversation/): named by their operations, which
  // every replica names alike. Left out when there are none, so such channels hash as before.
  const reactions = await q.all<{ message: string; actor: string; emoji: string; op_id: string }>(sql`
    SELECT r.message, r.actor, r.emoji, r.op_id FROM reactions r JOIN message_index m ON m.id = r.message
    WHERE r.channel = ${channel} AND m.deleted = 0 ORDER BY r.op_id`);
  for (const r of reactions) {
    hasher.update(encoder.encode(["react", r.op_id, r.message, r.actor, r.emoji].join("\u001f") + "\n"));
  }
  const pins = await q.all<{ message: string; op_id: string }>(sql`
    SELECT p.message, p.op_id FROM pins p JOIN message_index m ON m.id = p.message
    WHERE p.channel = ${channel} AND p.pinned = 1 AND m.deleted = 0 ORDER BY p.message`);
  for (const p of pins) hasher.update(encoder.encode(["pin", p.message, p.op_id].join("\u001f") + "\n"));
  return {
    hash: `sha256:${hex.encode(hasher.digest())}`,
    messages,
    reactions: reactions.length,
    pins: pins.length,
  };
}
