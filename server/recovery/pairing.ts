/**
 * Adding a device without typing the recovery phrase on it (docs/identity.md).
 * The server is a mailbox that only ever holds public keys and ciphertext:
 *
 * 1. the new device makes a one-time X25519 key pair and opens a pairing
 *    with its public key; it gets a short code (to type on the other
 *    device) and a pick-up token (which only it knows);
 * 2. the signed-in device looks the code up, shows the fingerprint of that
 *    public key to compare, and delivers the member's key sealed to it;
 * 3. the new device picks the sealed key up with its token, once, with
 *    whose identity it is (DID, name, avatar), and asks before using it:
 *    whoever saw the code could have delivered their own key first.
 *
 * Pairings live five minutes in the `pairings` table (operational state,
 * never exported), keyed by a hash of the code; a pick-up deletes them.
 * Limits, kept in the database like everything that matters: a requester
 * (an address, server/shared/requester.ts) holds at most a few pairings at
 * once, so nobody fills the instance's cap for everyone; and codes are
 * looked up at most a few times per window per address and per DID, so
 * they cannot be guessed.
 */
import { and, eq, gt, lte, sql } from "drizzle-orm";
import { pairingLookups, pairings } from "../../db/schema.ts";
import { HarmonyError, invalid, notFound, unauthorized } from "../shared/errors.ts";
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
export const MAX_PAIRINGS = 10_000;
/** Pairings one requester may have waiting at once. */
export const MAX_PAIRINGS_PER_REQUESTER = 5;
/** Code look-ups and key deliveries per requester address, and per DID, in one window. */
export const MAX_LOOKUPS_PER_WINDOW = 10;
export const LOOKUP_WINDOW_MS = 5 * 60_000;

interface StoredPairing {
  publicKey: string;
  tokenHash: string;
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

/** Whose key arrived, as the community knows them: shown on the new device before it is used. */
export interface ArrivedIdentity {
  did: string;
  /** Their display name here, if they have a profile (chosen by them: the DID is what proves who it is). */
  name: string | null;
  /** The path of their avatar, if any. */
  avatar: string | null;
  /** Whether the DID is a member of this community. */
  member: boolean;
}

export type PickUp =
  | { state: "waiting"; expires: string }
  | { state: "delivered"; did: string; sealed: SealedKey; identity: ArrivedIdentity };

/** Refusals that say how long to wait (the HTTP layer sends Retry-After). */
class PairingLimit extends HarmonyError {
  readonly retryAfter: number;
  constructor(message: string, waitMs: number) {
    super(429, "too_many_pairings", message);
    this.retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  }
}

const codeHashOf = (code: string) => sha256Hex(code);

const noSuchCode = () =>
  notFound("there is no such pairing code; check it, or start again on the new device");

function codeFrom(text: string): string {
  const code = normalizePairingCode(text);
  if (!code) throw noSuchCode();
  return code;
}

function check<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw invalid("malformed_pairing", (error as Error).message);
  }
}

interface Row {
  requester: string;
  expires: number;
  state: StoredPairing;
}

async function load(q: Harmony["db"], codeHash: string): Promise<Row | null> {
  const [row] = await q.select().from(pairings).where(eq(pairings.codeHash, codeHash));
  return row ? { requester: row.requester, expires: row.expires, state: JSON.parse(row.state) } : null;
}

const expired = () =>
  new HarmonyError(410, "pairing_expired", "this pairing expired; start again on the new device");

async function requireRoom(q: Harmony["db"], requester: string, now: number): Promise<void> {
  const mine = await q.select({ expires: pairings.expires }).from(pairings)
    .where(and(eq(pairings.requester, requester), gt(pairings.expires, now))).orderBy(pairings.expires);
  if (mine.length >= MAX_PAIRINGS_PER_REQUESTER) {
    throw new PairingLimit(
      `you have ${mine.length} devices waiting to pair already; use one of their codes or wait for one to expire`,
      mine[0].expires - now,
    );
  }
}

/** Step 1 (the new device, signed in or not). `requester` is who asks (an address). */
export async function createPairing(
  h: Harmony,
  requester: string,
  input: { publicKey?: unknown },
  now = Date.now(),
): Promise<{ code: string; token: string; expires: string; fingerprint: string }> {
  const publicKey = check(() => decodeKey(input.publicKey, 32, "publicKey"));
  const token = randomToken();
  const stored: StoredPairing = { publicKey: input.publicKey as string, tokenHash: await sha256Hex(token) };
  const expires = now + PAIRING_TTL_MS;
  // Refused before any write: a requester over its limit costs one indexed read.
  await requireRoom(h.db, requester, now);
  const code = await h.database.write(async (tx) => {
    await tx.delete(pairings).where(lte(pairings.expires, now));
    await requireRoom(tx, requester, now);
    if (await tx.$count(pairings) >= MAX_PAIRINGS) {
      throw new HarmonyError(
        503,
        "too_many_pairings",
        "too many devices are pairing right now; try again soon",
      );
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = newPairingCode();
      const codeHash = await codeHashOf(candidate);
      if (await load(tx, codeHash)) continue;
      await tx.insert(pairings).values({ codeHash, requester, expires, state: JSON.stringify(stored) });
      return candidate;
    }
    throw new HarmonyError(503, "too_many_pairings", "no free pairing code; try again");
  });
  return {
    code: formatPairingCode(code),
    token,
    expires: new Date(expires).toISOString(),
    fingerprint: pairingFingerprint(publicKey),
  };
}

/**
 * Counts one look-up of a code against the requester's address and DID;
 * refuses (and counts nothing) when either used up its window.
 */
async function countLookup(h: Harmony, requester: string, did: string, now: number): Promise<void> {
  const keys = [`address:${requester}`, `did:${did}`];
  await h.database.write(async (tx) => {
    const windows = [];
    for (const key of keys) {
      const [row] = await tx.select().from(pairingLookups).where(eq(pairingLookups.key, key));
      const current = row && now - row.windowStart < LOOKUP_WINDOW_MS ? row : null;
      if (current && current.count >= MAX_LOOKUPS_PER_WINDOW) {
        throw new PairingLimit(
          "too many pairing codes looked up; wait a few minutes, then type the code again",
          current.windowStart + LOOKUP_WINDOW_MS - now,
        );
      }
      windows.push({ key, windowStart: current?.windowStart ?? now, count: (current?.count ?? 0) + 1 });
    }
    for (const window of windows) {
      await tx.insert(pairingLookups).values(window).onConflictDoUpdate({
        target: pairingLookups.key,
        set: { windowStart: window.windowStart, count: window.count },
      });
    }
  });
}

/** Step 2a (the signed-in device): what to compare before sending the key. */
export async function lookupPairing(
  h: Harmony,
  actor: Actor,
  requester: string,
  text: string,
  now = Date.now(),
): Promise<PairingInfo> {
  if (!actor.did) throw unauthorized("sign in on this device to add another one");
  await countLookup(h, requester, actor.did, now);
  const code = codeFrom(text);
  const stored = await load(h.db, await codeHashOf(code));
  if (!stored) throw noSuchCode();
  if (stored.expires <= now) throw expired();
  if (stored.state.sealed) throw new HarmonyError(409, "pairing_used", "this pairing already received a key");
  return {
    code: formatPairingCode(code),
    publicKey: stored.state.publicKey,
    fingerprint: pairingFingerprint(decodeKey(stored.state.publicKey, 32, "publicKey")),
    expires: new Date(stored.expires).toISOString(),
  };
}

/** Step 2b (the signed-in device): the member's key, sealed to the new device. Once. */
export async function deliverPairingKey(
  h: Harmony,
  actor: Actor,
  requester: string,
  text: string,
  input: { senderPublicKey?: unknown; nonce?: unknown; ciphertext?: unknown },
  now = Date.now(),
): Promise<void> {
  if (!actor.did) throw unauthorized("sign in on this device to add another one");
  const did = actor.did;
  // Exactly a sealed 32-byte secret: nothing else can ride along.
  check(() => decodeKey(input.senderPublicKey, 32, "senderPublicKey"));
  check(() => decodeKey(input.nonce, 24, "nonce"));
  check(() => decodeKey(input.ciphertext, SEALED_LENGTH, "ciphertext"));
  // A delivery tells whether a code exists as a look-up does, so it counts as one.
  await countLookup(h, requester, did, now);
  const code = codeFrom(text);
  const codeHash = await codeHashOf(code);
  await h.database.write(async (tx) => {
    const stored = await load(tx, codeHash);
    if (!stored) throw noSuchCode();
    if (stored.expires <= now) throw expired();
    if (stored.state.sealed) {
      throw new HarmonyError(409, "pairing_used", "this pairing already received a key");
    }
    const sealed: SealedKey = {
      senderPublicKey: input.senderPublicKey as string,
      nonce: input.nonce as string,
      ciphertext: input.ciphertext as string,
    };
    await tx.update(pairings).set({ state: JSON.stringify({ ...stored.state, did, sealed }) })
      .where(eq(pairings.codeHash, codeHash));
  });
}

async function arrivedIdentity(h: Harmony, did: string): Promise<ArrivedIdentity> {
  const { profiles, members } = await h.snapshot();
  const profile = profiles.get(did);
  return {
    did,
    name: profile?.name || null,
    avatar: profile?.avatarHash
      ? `/avatars/${encodeURIComponent(did)}?v=${encodeURIComponent(profile.avatarHash.slice(7, 19))}`
      : null,
    member: members.has(did),
  };
}

/**
 * Step 3 (the new device, with its token): "waiting" until the key was
 * delivered, then the sealed key and whose identity it is, once; the
 * pairing is gone afterwards. A wrong token is answered as an unknown code,
 * so picking up tells nobody else which codes exist.
 */
export async function pickUpPairing(
  h: Harmony,
  text: string,
  token: unknown,
  now = Date.now(),
): Promise<PickUp> {
  if (typeof token !== "string" || token === "") throw invalid("missing_token", 'send the pick-up "token"');
  const code = normalizePairingCode(text);
  const gone = () => notFound("there is no such pairing; it was used or it expired");
  if (!code) throw gone();
  const codeHash = await codeHashOf(code);
  const tokenHash = await sha256Hex(token);
  const outcome = await h.database.write(async (tx) => {
    const stored = await load(tx, codeHash);
    if (!stored || stored.state.tokenHash !== tokenHash) return { state: "gone" as const };
    if (stored.expires <= now) {
      // Removed now (a throw here would roll the removal back): refused below.
      await tx.delete(pairings).where(eq(pairings.codeHash, codeHash));
      return { state: "expired" as const };
    }
    if (!stored.state.sealed || !stored.state.did) {
      return { state: "waiting" as const, expires: new Date(stored.expires).toISOString() };
    }
    await tx.delete(pairings).where(eq(pairings.codeHash, codeHash));
    return { state: "delivered" as const, did: stored.state.did, sealed: stored.state.sealed };
  });
  if (outcome.state === "gone") throw gone();
  if (outcome.state === "expired") throw expired();
  if (outcome.state === "waiting") return outcome;
  return { ...outcome, identity: await arrivedIdentity(h, outcome.did) };
}

/** Removes expired pairings and past look-up windows (the recovery service runs it every minute). */
export async function sweepPairings(h: Harmony, now = Date.now()): Promise<number> {
  const [due] = await h.db.all<{ n: number }>(sql`
    SELECT (SELECT count(*) FROM pairings WHERE expires <= ${now})
         + (SELECT count(*) FROM pairing_lookups WHERE window_start <= ${now - LOOKUP_WINDOW_MS}) AS n`);
  if (!due || Number(due.n) === 0) return 0;
  return await h.database.write(async (tx) => {
    const a = await tx.delete(pairings).where(lte(pairings.expires, now));
    const b = await tx.delete(pairingLookups).where(lte(pairingLookups.windowStart, now - LOOKUP_WINDOW_MS));
    return a.rowsAffected + b.rowsAffected;
  });
}

/** Pairings waiting now (for tests and figures). */
export async function waitingPairings(h: Harmony, now = Date.now()): Promise<number> {
  return await h.db.$count(pairings, gt(pairings.expires, now));
}
