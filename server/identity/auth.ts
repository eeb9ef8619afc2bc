/**
 * Sign-in with a Verifiable Presentation: the server issues a one-time
 * challenge, the member's key signs a presentation binding it to this
 * origin (eddsa-jcs-2022, proofPurpose "authentication"), and the server
 * opens a session. Only hashes of session tokens are stored.
 *
 * A session lasts 30 days from sign-in, provided it is used (any request
 * that presents it) within an hour: a sign-in nobody follows up costs a row
 * for an hour, not a month, and a DID holds at most MAX_UNUSED_SESSIONS of
 * those (signing in again drops its oldest). Expired rows are removed by
 * sweeper.ts.
 */
import { and, eq, gt, isNull, lte } from "drizzle-orm";
import { challenges, sessions } from "../../db/schema.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { verify } from "../crypto/dataIntegrity.ts";
import { HarmonyError } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { randomToken, sha256Hex } from "../shared/ids.ts";
import { isInstant } from "../documents/signed.ts";
import { CREDENTIALS_V2 } from "../documents/documents.ts";

export const CHALLENGE_TTL_MS = 5 * 60_000;
export const SESSION_TTL_MS = 30 * 86_400_000;
/** How long a session may wait for its first use after sign-in. */
export const UNUSED_SESSION_TTL_MS = 60 * 60_000;
/** Sessions one DID may hold that nobody has used yet. */
export const MAX_UNUSED_SESSIONS = 20;

const refused = (code: string, message: string) => new HarmonyError(401, code, message);

export interface Challenge {
  challenge: string;
  domain: string;
  expires: string;
}

export async function issueChallenge(h: Harmony, now = Date.now()): Promise<Challenge> {
  const nonce = randomToken(24);
  const expiresAt = now + CHALLENGE_TTL_MS;
  await h.database.write((tx) => tx.insert(challenges).values({ nonce, domain: h.config.origin, expiresAt }));
  return { challenge: nonce, domain: h.config.origin, expires: new Date(expiresAt).toISOString() };
}

/** Checks a sign-in presentation; returns the holder's DID. */
export async function verifyPresentation(
  h: Harmony,
  presentation: unknown,
  now = Date.now(),
): Promise<string> {
  if (typeof presentation !== "object" || presentation === null || Array.isArray(presentation)) {
    throw refused("malformed_presentation", "expected a Verifiable Presentation object");
  }
  const vp = presentation as Record<string, unknown>;
  const context = Array.isArray(vp["@context"]) ? vp["@context"] : [vp["@context"]];
  if (context[0] !== CREDENTIALS_V2) {
    throw refused("malformed_presentation", `the presentation's first @context must be ${CREDENTIALS_V2}`);
  }
  const types = Array.isArray(vp.type) ? vp.type : [vp.type];
  if (!types.includes("VerifiablePresentation")) {
    throw refused("malformed_presentation", "the presentation's type must include VerifiablePresentation");
  }
  if (!isDidKey(vp.holder)) throw refused("malformed_presentation", "the holder must be an Ed25519 did:key");
  const proof = vp.proof as Record<string, unknown> | undefined;
  if (typeof proof !== "object" || proof === null || Array.isArray(proof)) {
    throw refused("malformed_presentation", "the presentation has no proof");
  }
  if (typeof proof.challenge !== "string" || typeof proof.domain !== "string") {
    throw refused("malformed_presentation", "the proof must carry the challenge and the domain");
  }
  if (proof.domain !== h.config.origin) {
    throw refused("wrong_domain", `this presentation was made for ${proof.domain}, not ${h.config.origin}`);
  }
  if (proof.proofPurpose !== "authentication") {
    throw refused("wrong_purpose", 'the proof purpose must be "authentication"');
  }
  if (!isInstant(proof.created)) {
    throw refused("malformed_presentation", "the proof must say when it was created");
  }
  const created = Date.parse(proof.created);
  if (created > now + 60_000 || created < now - CHALLENGE_TTL_MS) {
    throw refused(
      "stale_presentation",
      "the presentation was not created just now; check your clock and sign in again",
    );
  }
  const result = await verify(vp);
  if (!result.verified) {
    throw refused("bad_signature", `the presentation's signature is not valid: ${result.error}`);
  }
  if (result.signer !== vp.holder) {
    throw refused("bad_signature", "the presentation is signed by another key than its holder's");
  }

  const nonce = proof.challenge;
  // Consume the challenge atomically: of two requests racing with the same
  // nonce, exactly one succeeds.
  type Row = typeof challenges.$inferSelect;
  const consumed = await h.database.write(async (tx): Promise<Row | "unknown" | null> => {
    const update = await tx.update(challenges).set({ usedAt: now }).where(and(
      eq(challenges.nonce, nonce),
      isNull(challenges.usedAt),
      gt(challenges.expiresAt, now),
      eq(challenges.domain, h.config.origin),
    ));
    if (update.rowsAffected === 1) return null;
    const [row] = await tx.select().from(challenges).where(eq(challenges.nonce, nonce));
    return row ?? "unknown";
  });
  if (consumed === "unknown") {
    throw refused("unknown_challenge", "this challenge was not issued here; request a new one");
  }
  if (consumed?.usedAt) {
    throw refused("replayed_challenge", "this challenge was already used; request a new one");
  }
  if (consumed) throw refused("expired_challenge", "this challenge has expired; request a new one");
  return vp.holder as string;
}

export interface Session {
  did: string;
  csrfToken: string;
  expiresAt: number;
}

/** Opens a session; `expiresAt` is its end once used (until then the row ends after UNUSED_SESSION_TTL_MS). */
export async function openSession(
  h: Harmony,
  did: string,
  now = Date.now(),
): Promise<Session & { token: string }> {
  const token = randomToken(32);
  const csrfToken = randomToken(24);
  const tokenHash = await sha256Hex(token);
  await h.database.writeSql(async (q) => {
    await q.run(
      "INSERT INTO sessions (token_hash, did, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      [tokenHash, did, csrfToken, now, now + UNUSED_SESSION_TTL_MS],
    );
    const unused = `did = ? AND expires_at <= created_at + ${UNUSED_SESSION_TTL_MS}`;
    await q.run(
      `DELETE FROM sessions WHERE ${unused} AND token_hash NOT IN (
         SELECT token_hash FROM sessions WHERE ${unused} ORDER BY created_at DESC, token_hash LIMIT ?)`,
      [did, did, MAX_UNUSED_SESSIONS],
    );
  });
  return { token, did, csrfToken, expiresAt: now + SESSION_TTL_MS };
}

/** The first use of a session: it now lasts its full term from sign-in. */
async function firstUse(h: Harmony, tokenHash: string, createdAt: number): Promise<number> {
  const expiresAt = createdAt + SESSION_TTL_MS;
  await h.database.write((tx) =>
    tx.update(sessions).set({ expiresAt }).where(and(
      eq(sessions.tokenHash, tokenHash),
      lte(sessions.expiresAt, createdAt + UNUSED_SESSION_TTL_MS),
    ))
  );
  return expiresAt;
}

/**
 * Sessions looked up recently, by token hash. A process-local cache of the
 * sessions table (every request looks one up); signing out here evicts at
 * once, and entries live at most SESSION_CACHE_MS, which bounds how long a
 * session closed by another process stays usable here.
 */
const sessionCache = new Map<string, { session: Session; cachedAt: number }>();
const SESSION_CACHE_MS = 30_000;
const SESSION_CACHE_MAX = 10_000;

export async function findSession(h: Harmony, token: string, now = Date.now()): Promise<Session | null> {
  if (!token || token.length > 100) return null;
  const tokenHash = await sha256Hex(token);
  const cacheKey = `${h.config.origin} ${tokenHash}`;
  const cached = sessionCache.get(cacheKey);
  if (cached && now - cached.cachedAt < SESSION_CACHE_MS && cached.session.expiresAt > now) {
    return cached.session;
  }
  sessionCache.delete(cacheKey);
  const [row] = await h.db.select().from(sessions).where(and(
    eq(sessions.tokenHash, tokenHash),
    gt(sessions.expiresAt, now),
  ));
  if (!row) return null;
  const unused = row.expiresAt <= row.createdAt + UNUSED_SESSION_TTL_MS;
  const expiresAt = unused ? await firstUse(h, tokenHash, row.createdAt) : row.expiresAt;
  const session = { did: row.did, csrfToken: row.csrfToken, expiresAt };
  if (sessionCache.size >= SESSION_CACHE_MAX) sessionCache.delete(sessionCache.keys().next().value!);
  sessionCache.set(cacheKey, { session, cachedAt: now });
  return session;
}

export async function closeSession(h: Harmony, token: string): Promise<void> {
  const hash = await sha256Hex(token);
  sessionCache.delete(`${h.config.origin} ${hash}`);
  await h.database.write((tx) => tx.delete(sessions).where(eq(sessions.tokenHash, hash)));
}
