/** Shared pieces of the unit tests: a real libSQL file in a temporary directory. */
import { type Database, openDatabase } from "../../db/client.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { type KeySigner, signerFromSecret } from "../../server/crypto/signer.ts";

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
