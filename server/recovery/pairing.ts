/**
 * Adding a device without typing the recovery phrase on it (docs/identity.md).
 * The server is a mailbox that only ever holds public keys and ciphertext:
 *
 * 1. the new device makes a one-time X25519 key pair and opens a pairing
 *    with its public key; it gets a short code (to type on the other
 *    device) and a pick-up token (which only it knows);
 * 2. the signed-in device looks the code up, shows the fingerprint of that
 *    public key to compare, and delivers the member's key sealed to it;
 * 3. the new device picks the sealed key up with its token, once.
 *
 * Pairings live five minutes, in the instance_state table (operational
 * state, not community data: they are never exported), keyed by a hash of
 * the code; a pick-up deletes them.
 */
import { eq, like } from "drizzle-orm";
import { instanceState } from "../../db/schema.ts";
import { forbidden, HarmonyError, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { randomToken, sha256Hex } from "../shared/ids.ts";
import type { Actor } from "../shared/model.ts";
import {
  decodeKey,
  formatPairingCode,
  newPairingCode,
  normalizePairingCode,
  pairingFingerprint,
  SEALED_LENGTH,
  type SealedKey,
} from "./pairingCrypto.ts";

export const PAIRING_TTL_MS = 5 * 60_000;
/** Pairings waiting at once, at most (each is a few hundred bytes). */
export const MAX_PAIRINGS = 1000;
const PREFIX = "pairing:";

interface StoredPairing {
  publicKey: string;
  tokenHash: string;
  expires: number;
  /** Set once the signed-in device delivered the sealed key. */
  did?: string;
  sealed?: SealedKey;
}

export interface PairingInfo {
  code: string;
  publicKey: string;
  fingerprint: string;
  expires: string;
}

const keyOf = async (code: string) => PREFIX + await sha256Hex(code);

function codeFrom(text: string): string {
  const code = normalizePairingCode(text);
  if (!code) throw notFound("there is no such pairing code; check it, or start again on the new device");
  return code;
}

function check<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw invalid("malformed_pairing", (error as Error).message);
  }
}

async function load(q: Harmony["db"], key: string): Promise<StoredPairing | null> {
  const [row] = await q.select().from(instanceState).where(eq(instanceState.key, key));
  return row ? JSON.parse(row.value) as StoredPairing : null;
}

const expired = () =>
  new HarmonyError(410, "pairing_expired", "this pairing expired; start again on the new device");

/** Step 1 (the new device, signed in or not). */
export async function createPairing(
  h: Harmony,
  input: { publicKey?: unknown },
  now = Date.now(),
): Promise<{ code: string; token: string; expires: string; fingerprint: string }> {
  const publicKey = check(() => decodeKey(input.publicKey, 32, "publicKey"));
  const token = randomToken();
  const stored: StoredPairing = {
    publicKey: input.publicKey as string,
    tokenHash: await sha256Hex(token),
    expires: now + PAIRING_TTL_MS,
  };
  const code = await h.database.write(async (tx) => {
    await sweep(tx, now);
    const waiting = await tx.$count(instanceState, like(instanceState.key, `${PREFIX}%`));
    if (waiting >= MAX_PAIRINGS) {
      throw new HarmonyError(
        503,
        "too_many_pairings",
        "too many devices are pairing right now; try again soon",
      );
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = newPairingCode();
      const key = await keyOf(candidate);
      if (await load(tx, key)) continue;
      await tx.insert(instanceState).values({ key, value: JSON.stringify(stored) });
      return candidate;
    }
    throw new HarmonyError(503, "too_many_pairings", "no free pairing code; try again");
  });
  return {
    code: formatPairingCode(code),
    token,
    expires: new Date(stored.expires).toISOString(),
    fingerprint: pairingFingerprint(publicKey),
  };
}

/** Step 2a (the signed-in device): what to compare before sending the key. */
export async function lookupPairing(
  h: Harmony,
  actor: Actor,
  text: string,
  now = Date.now(),
): Promise<PairingInfo> {
  if (!actor.did) throw unauthorized("sign in on this device to add another one");
  const code = codeFrom(text);
  const stored = await load(h.db, await keyOf(code));
  if (!stored) throw notFound("there is no such pairing code; check it, or start again on the new device");
  if (stored.expires <= now) throw expired();
  if (stored.sealed) throw new HarmonyError(409, "pairing_used", "this pairing already received a key");
  return {
    code: formatPairingCode(code),
    publicKey: stored.publicKey,
    fingerprint: pairingFingerprint(decodeKey(stored.publicKey, 32, "publicKey")),
    expires: new Date(stored.expires).toISOString(),
  };
}

/** Step 2b (the signed-in device): the member's key, sealed to the new device. Once. */
export async function deliverPairingKey(
  h: Harmony,
  actor: Actor,
  text: string,
  input: { senderPublicKey?: unknown; nonce?: unknown; ciphertext?: unknown },
  now = Date.now(),
): Promise<void> {
  if (!actor.did) throw unauthorized("sign in on this device to add another one");
  const did = actor.did;
  const code = codeFrom(text);
  // Exactly a sealed 32-byte secret: nothing else can ride along.
  check(() => decodeKey(input.senderPublicKey, 32, "senderPublicKey"));
  check(() => decodeKey(input.nonce, 24, "nonce"));
  check(() => decodeKey(input.ciphertext, SEALED_LENGTH, "ciphertext"));
  const key = await keyOf(code);
  await h.database.write(async (tx) => {
    const stored = await load(tx, key);
    if (!stored) throw notFound("there is no such pairing code; check it, or start again on the new device");
    if (stored.expires <= now) throw expired();
    if (stored.sealed) throw new HarmonyError(409, "pairing_used", "this pairing already received a key");
    const sealed: SealedKey = {
      senderPublicKey: input.senderPublicKey as string,
      nonce: input.nonce as string,
      ciphertext: input.ciphertext as string,
    };
    await tx.update(instanceState).set({ value: JSON.stringify({ ...stored, did, sealed }) })
      .where(eq(instanceState.key, key));
  });
}

/**
 * Step 3 (the new device, with its token): "waiting" until the key was
 * delivered, then the sealed key and the DID it belongs to, once; the
 * pairing is gone afterwards.
 */
export async function pickUpPairing(
  h: Harmony,
  text: string,
  token: unknown,
  now = Date.now(),
): Promise<{ state: "waiting"; expires: string } | { state: "delivered"; did: string; sealed: SealedKey }> {
  const code = codeFrom(text);
  if (typeof token !== "string" || token === "") throw invalid("missing_token", 'send the pick-up "token"');
  const key = await keyOf(code);
  const tokenHash = await sha256Hex(token);
  const outcome = await h.database.write(async (tx) => {
    const stored = await load(tx, key);
    if (!stored) throw notFound("there is no such pairing; it was used or it expired");
    if (stored.tokenHash !== tokenHash) throw forbidden("this pick-up token is not the pairing's");
    if (stored.expires <= now) {
      // Removed now (a throw here would roll the removal back): refused below.
      await tx.delete(instanceState).where(eq(instanceState.key, key));
      return { state: "expired" as const };
    }
    if (!stored.sealed || !stored.did) {
      return { state: "waiting" as const, expires: new Date(stored.expires).toISOString() };
    }
    await tx.delete(instanceState).where(eq(instanceState.key, key));
    return { state: "delivered" as const, did: stored.did, sealed: stored.sealed };
  });
  if (outcome.state === "expired") throw expired();
  return outcome;
}

async function sweep(tx: Harmony["db"], now: number): Promise<number> {
  const rows = await tx.select().from(instanceState).where(like(instanceState.key, `${PREFIX}%`));
  let removed = 0;
  for (const row of rows) {
    let expires = 0;
    try {
      expires = (JSON.parse(row.value) as StoredPairing).expires;
    } catch { /* unreadable: remove it */ }
    if (expires <= now) {
      await tx.delete(instanceState).where(eq(instanceState.key, row.key));
      removed++;
    }
  }
  return removed;
}

/** Removes expired pairings (the recovery service runs it every minute). */
export async function sweepPairings(h: Harmony, now = Date.now()): Promise<number> {
  const [row] = await h.db.select({ key: instanceState.key }).from(instanceState)
    .where(like(instanceState.key, `${PREFIX}%`)).limit(1);
  if (!row) return 0;
  return await h.database.write((tx) => sweep(tx, now));
}
