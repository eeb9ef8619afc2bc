/**
 * Admission by credential: under the policy "present a credential of type
 * T from issuer D", a joiner presents a Verifiable Presentation (signed with
 * their own key over a challenge from /api/auth/challenge, domain = our
 * origin) holding such a credential. Checked here, in this order:
 *
 * 1. the presentation's shape; its holder is the joiner; its domain is our
 *    origin; its challenge is one we issued, unused and unexpired;
 * 2. a credential in it is issued by D, has type T, names the joiner as its
 *    only subject, and is within its validity period;
 * 3. @digitalbazaar/vc verifies the presentation's proof (challenge, domain)
 *    and every credential's proof and status (another issuer's status list
 *    is fetched under the address policy, verified and cached: status.ts);
 * 4. the key that signed the presentation belongs to its holder. The
 *    library does not check this: a presentation naming the member as
 *    holder but signed by anyone else would otherwise pass.
 *
 * Nothing is written here: join() consumes the challenge in the same
 * transaction that adds the member (consumeChallenge), so a refused
 * presentation leaves no trace and a challenge admits at most once.
 */
// deno-lint-ignore-file no-explicit-any
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Queryable, Tx } from "../../db/client.ts";
import { challenges } from "../../db/schema.ts";
import { CHALLENGE_TTL_MS } from "../identity/auth.ts";
import { didOfVerificationMethod, isDidKey } from "../crypto/didkey.ts";
import { HarmonyError } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { AdmissionPolicy } from "../shared/model.ts";
import { isInstant } from "../documents/signed.ts";
import { CredentialRevoked, statusChecker, StatusUnavailable, verifyError } from "./status.ts";

const CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2";
/** The most credentials one presentation may hold (each may cost a status list fetch). */
export const MAX_PRESENTED_CREDENTIALS = 3;

type CredentialPolicy = Extract<AdmissionPolicy, { policy: "credential" }>;

const refuse = (status: 401 | 403 | 422 | 503, code: string, message: string) =>
  new HarmonyError(status, code, message);

function asArray(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value.id === "string") return value.id;
  return null;
}

/** Where a challenge stands, read without changing it. */
async function challengeState(
  q: Queryable,
  h: Harmony,
  nonce: string,
  now: number,
): Promise<"live" | "unknown" | "used" | "expired"> {
  const [row] = await q.select().from(challenges).where(eq(challenges.nonce, nonce));
  if (!row || row.domain !== h.config.origin) return "unknown";
  if (row.usedAt !== null) return "used";
  if (row.expiresAt <= now) return "expired";
  return "live";
}

function challengeRefusal(state: "unknown" | "used" | "expired"): HarmonyError {
  if (state === "unknown") {
    return refuse(401, "unknown_challenge", "this challenge was not issued here; request a new one");
  }
  if (state === "used") {
    return refuse(401, "replayed_challenge", "this challenge was already used; request a new one");
  }
  return refuse(401, "expired_challenge", "this challenge has expired; request a new one");
}

/**
 * Marks the challenge used inside `tx` (the join's transaction). Of two
 * joins racing with one challenge, exactly one gets through.
 */
export async function consumeChallenge(tx: Tx, h: Harmony, nonce: string, now = Date.now()): Promise<void> {
  const update = await tx.update(challenges).set({ usedAt: now }).where(and(
    eq(challenges.nonce, nonce),
    isNull(challenges.usedAt),
    gt(challenges.expiresAt, now),
    eq(challenges.domain, h.config.origin),
  ));
  if (update.rowsAffected === 1) return;
  const state = await challengeState(tx, h, nonce, now);
  throw challengeRefusal(state === "live" ? "used" : state);
}

/** Whether the credential's types include `wanted` (a term as written, or an expanded IRI). */
async function hasType(credential: Record<string, any>, wanted: string): Promise<boolean> {
  const types = asArray(credential.type);
  if (types.includes(wanted)) return true;
  if (!wanted.includes(":")) return false;
  try {
    const { jsonld, createDocumentLoader } = await import("./vcStack.ts");
    const [expanded] = await jsonld.expand(
      { "@context": credential["@context"], "@type": types },
      { documentLoader: createDocumentLoader(), safe: true } as any,
    ) as any[];
    return asArray(expanded?.["@type"]).includes(wanted);
  } catch {
    return false;
  }
}

/** The first credential that answers the policy for `joiner`, or a refusal saying what is missing. */
async function pickCredential(
  credentials: Record<string, any>[],
  policy: CredentialPolicy,
  joiner: string,
): Promise<Record<string, any>> {
  const fromIssuer = credentials.filter((c) => idOf(c.issuer) === policy.issuer);
  if (fromIssuer.length === 0) {
    const issuers = credentials.map((c) => idOf(c.issuer) ?? "(none)").join(", ");
    throw refuse(
      403,
      "untrusted_issuer",
      `this community admits holders of a ${policy.credentialType} issued by ${policy.issuer}; ` +
        `the presented credential was issued by ${issuers}`,
    );
  }
  const typed: Record<string, any>[] = [];
  for (const c of fromIssuer) if (await hasType(c, policy.credentialType)) typed.push(c);
  if (typed.length === 0) {
    throw refuse(
      403,
      "wrong_credential_type",
      `the credential from ${policy.issuer} is not a ${policy.credentialType}`,
    );
  }
  const own = typed.filter((c) => {
    const subjects = asArray(c.credentialSubject);
    return subjects.length > 0 && subjects.every((s) => idOf(s) === joiner);
  });
  if (own.length === 0) {
    throw refuse(403, "not_your_credential", "the credential was issued to someone else, not to you");
  }
  return own[0];
}

function checkValidity(credential: Record<string, any>, now: number): void {
  const { validFrom, validUntil } = credential;
  if (validUntil !== undefined) {
    const until = Date.parse(String(validUntil));
    if (Number.isNaN(until)) {
      throw refuse(422, "malformed_credential", "the credential's validUntil is not a date");
    }
    if (until <= now) {
      throw refuse(403, "credential_expired", `the credential expired at ${validUntil}`);
    }
  }
  if (validFrom !== undefined) {
    const from = Date.parse(String(validFrom));
    if (Number.isNaN(from)) {
      throw refuse(422, "malformed_credential", "the credential's validFrom is not a date");
    }
    if (from > now + 300_000) {
      throw refuse(403, "credential_not_yet_valid", `the credential is valid only from ${validFrom}`);
    }
  }
}

export interface Admission {
  /** The challenge to consume in the join's transaction. */
  challenge: string;
  /** The policy it was checked against (join refuses if it changed meanwhile). */
  policy: CredentialPolicy;
  /** The id of the credential that admitted the joiner. */
  credentialId: string | null;
}

/**
 * Checks a join presentation against `policy` for `joiner` (the signed-in
 * DID). Returns what join() must still do in its transaction; throws a
 * HarmonyError naming the reason otherwise. Reads only.
 */
export async function checkAdmissionPresentation(
  h: Harmony,
  joiner: string,
  presentation: unknown,
  policy: CredentialPolicy,
  now = Date.now(),
): Promise<Admission> {
  if (!isObject(presentation)) {
    throw refuse(422, "malformed_presentation", "presentation must be a Verifiable Presentation object");
  }
  const vp = presentation;
  if (asArray(vp["@context"])[0] !== CREDENTIALS_V2) {
    throw refuse(
      422,
      "malformed_presentation",
      `the presentation's first @context must be ${CREDENTIALS_V2}`,
    );
  }
  if (!asArray(vp.type).includes("VerifiablePresentation")) {
    throw refuse(
      422,
      "malformed_presentation",
      "the presentation's type must include VerifiablePresentation",
    );
  }
  if (!isDidKey(vp.holder)) {
    throw refuse(422, "malformed_presentation", "the presentation's holder must be your did:key");
  }
  if (vp.holder !== joiner) {
    throw refuse(403, "wrong_holder", "the presentation's holder is not the identity you are signed in with");
  }
  const proofs = asArray(vp.proof);
  const proof = proofs[0];
  if (proofs.length !== 1 || !isObject(proof)) {
    throw refuse(422, "malformed_presentation", "the presentation must carry exactly one proof");
  }
  if (typeof proof.challenge !== "string" || typeof proof.domain !== "string") {
    throw refuse(422, "malformed_presentation", "the proof must carry the challenge and the domain");
  }
  if (proof.proofPurpose !== "authentication") {
    throw refuse(401, "wrong_purpose", 'the proof purpose must be "authentication"');
  }
  if (proof.domain !== h.config.origin) {
    throw refuse(
      401,
      "wrong_domain",
      `this presentation was made for ${proof.domain}, not ${h.config.origin}`,
    );
  }
  if (!isInstant(proof.created)) {
    throw refuse(422, "malformed_presentation", "the proof must say when it was created");
  }
  const created = Date.parse(proof.created);
  if (created > now + 60_000 || created < now - CHALLENGE_TTL_MS) {
    throw refuse(401, "stale_presentation", "the presentation was not made just now; sign a new one");
  }
  const state = await challengeState(h.db, h, proof.challenge, now);
  if (state !== "live") throw challengeRefusal(state);

  const credentials = asArray(vp.verifiableCredential);
  if (credentials.length === 0) {
    throw refuse(422, "no_credential", `present a ${policy.credentialType} issued by ${policy.issuer}`);
  }
  if (credentials.length > MAX_PRESENTED_CREDENTIALS || !credentials.every(isObject)) {
    throw refuse(
      422,
      "malformed_presentation",
      `a presentation holds 1 to ${MAX_PRESENTED_CREDENTIALS} credentials (JSON objects)`,
    );
  }
  const chosen = await pickCredential(credentials as Record<string, any>[], policy, joiner);
  checkValidity(chosen, now);

  let result: any;
  const { vc, credentialVerifySuites, createDocumentLoader } = await import("./vcStack.ts");
  try {
    result = await vc.verify({
      presentation: vp,
      challenge: proof.challenge,
      domain: h.config.origin,
      suite: credentialVerifySuites,
      documentLoader: createDocumentLoader(),
      checkStatus: statusChecker(h),
      now: new Date(now),
    });
  } catch (error) {
    throw refuse(401, "bad_signature", `the presentation could not be verified: ${(error as Error).message}`);
  }
  const presentationResult = result.presentationResult;
  if (!presentationResult?.verified) {
    throw refuse(
      401,
      "bad_signature",
      `the presentation's proof is not valid: ${verifyError(presentationResult ?? result)}`,
    );
  }
  // The holder binding the library leaves out.
  const method = presentationResult.results?.[0]?.verificationMethod;
  const signer = typeof method?.controller === "string" ? method.controller : null;
  if (
    signer !== vp.holder || typeof proof.verificationMethod !== "string" ||
    didOfVerificationMethod(proof.verificationMethod) !== vp.holder
  ) {
    throw refuse(403, "holder_mismatch", "the presentation is signed by another key than its holder's");
  }
  const results: any[] = result.credentialResults ?? [];
  const index = credentials.indexOf(chosen);
  const chosenResult = results[index];
  for (const r of [chosenResult, ...results.filter((_, i) => i !== index)]) {
    if (r?.verified) continue;
    const statusError = r?.statusResult?.error;
    if (statusError instanceof CredentialRevoked) {
      throw refuse(403, "credential_revoked", `the credential was revoked by its issuer`);
    }
    if (statusError instanceof StatusUnavailable) {
      throw refuse(
        503,
        "status_unavailable",
        `the credential's status cannot be checked: ${statusError.message}`,
      );
    }
    const message = verifyError(r);
    if (/validUntil|expired/i.test(message)) {
      throw refuse(403, "credential_expired", `the credential has expired: ${message}`);
    }
    throw refuse(403, "invalid_credential", `the credential does not verify: ${message}`);
  }
  if (!result.verified) {
    throw refuse(401, "bad_signature", `the presentation does not verify: ${verifyError(result)}`);
  }
  return { challenge: proof.challenge, policy, credentialId: idOf(chosen) };
}

/** Whether two credential policies are the same. */
export function samePolicy(a: AdmissionPolicy, b: AdmissionPolicy): boolean {
  if (a.policy !== b.policy) return false;
  if (a.policy !== "credential" || b.policy !== "credential") return true;
  return a.credentialType === b.credentialType && a.issuer === b.issuer;
}
