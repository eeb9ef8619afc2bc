/** Shared pieces of the unit tests: a real libSQL file in a temporary directory. */
import { type Database, openDatabase } from "../../db/client.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { type KeySigner, signerFromSecret } from "../../server/crypto/signer.ts";
import {
  applyBatch,
  type Capability,
  type Envelope,
  type OpDocument,
  opIdOf,
  type OpSubmission,
} from "../../server/messages/oplog.ts";

export interface TempDatabase extends Database {
  dir: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A migrated libSQL database in its own temporary directory, removed on dispose. */
export async function tempDatabase(): Promise<TempDatabase> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-unit-" });
  const database = await openDatabase(`file:${dir}/test.db`);
  return Object.assign(database, {
    dir,
    async [Symbol.asyncDispose]() {
      database.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  });
}

/** A small deterministic PRNG (mulberry32), so a failing shuffled run can be replayed. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The signer of test member `n` (a fixed secret, so runs are reproducible). */
export async function member(n: number): Promise<KeySigner> {
  const secret = new Uint8Array(32).fill(n);
  return await signerFromSecret(identityFromSigningSecret(secret).did, secret);
}

/**
 * The two origins of the replication tests, the replica that receives what
 * they make (an instance never receives its own operations from a peer),
 * and the channel each holds.
 */
export const A = "https://a.example";
export const B = "https://b.example";
export const R = "https://replica.example";
export const channelOf: Record<string, string> = {
  [A]: `${A}/channels/aaaaaaaaaa`,
  [B]: `${B}/channels/bbbbbbbbbb`,
  [R]: `${R}/channels/rrrrrrrrrr`,
};

/** An operation as a replica receives it: the signed document, where it was made, a moderation's capability. */
export interface ReplicatedOp {
  doc: OpDocument;
  envelope: Envelope;
  authority?: Capability;
}

/**
 * A capability giving `did` moderation `actions` in the community at
 * `origin`, as an operation carries it. applyBatch checks what it names;
 * its chain is checked before (server/replication/admission.ts), so this
 * one has none.
 */
export function moderatorCapability(
  did: string,
  origin: string,
  actions = ["delete-any", "pin"],
): Capability {
  return {
    id: `urn:uuid:${crypto.randomUUID()}`,
    controller: did,
    invocationTarget: `${origin}/community`,
    allowedAction: actions,
  };
}

/**
 * Applies operations in the given order and batch sizes, as the replica at
 * `self`; returns the refusals (an empty list when every one was taken).
 */
export async function replay(
  db: TempDatabase,
  self: string,
  ops: ReplicatedOp[],
  batchSizes: () => number,
): Promise<unknown[]> {
  const refusals: unknown[] = [];
  let i = 0;
  while (i < ops.length) {
    const size = Math.max(1, batchSizes());
    const batch: OpSubmission[] = [];
    for (const op of ops.slice(i, i + size)) {
      batch.push({
        doc: op.doc,
        opId: await opIdOf(op.doc),
        channel: channelOf[self],
        envelope: op.envelope,
        authority: op.authority,
      });
    }
    const result = await db.writeSql((tx) => applyBatch(tx, self, batch));
    refusals.push(...result.outcomes.filter((outcome) => "refused" in outcome));
    i += size;
  }
  return refusals;
}

/** A seeded Fisher–Yates shuffle. */
export function shuffled<T>(list: T[], next: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
