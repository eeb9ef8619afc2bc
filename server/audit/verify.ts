/**
 * Checking the audit log: the chain (sequence numbers without gaps, each
 * entry naming the previous one's hash, each hash matching its entry) and
 * every entry's signature evidence. Pure and isomorphic: the server
 * (GET /api/audit/verify) and `harmony audit verify` run this same code.
 */
import { canonicalize } from "../crypto/jcs.ts";
import { verify } from "../crypto/dataIntegrity.ts";
import { verifySigned } from "../documents/signed.ts";
import { type AuditEntry, entryHash, GENESIS } from "./chain.ts";

export interface VerifyContext {
  /** The community's IRI (signed actions name it in `arguments.community`). */
  community: string;
  /** The community's did:key: it signs automatic actions, and stands in for requests that carried no signature. */
}

export interface Verification {
  ok: boolean;
  /** Entries checked before the first failure (all of them when ok). */
  checked: number;
  /** The last entry that verified: pin it to notice a log cut short later. */
  head: { seq: number; hash: string } | null;
  failure: { seq: number; reason: string } | null;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Whether an entry's evidence is its actor's valid signature for it: null when it is, the reason otherwise. */
export async function checkEvidence(
  entry: AuditEntry,
  context: VerifyContext,
): Promise<string | null> {
  const evidence = entry.evidence;
  const fail = (reason: string) => reason;
  try {
    if (evidence.type === "Action") {
      const doc = await verifySigned("Action", evidence);
      if (doc.action !== entry.action) {
        return fail(`the signed action is "${doc.action}", not "${entry.action}"`);
      }
      if (doc.target !== entry.target) {
        return fail(`the signed action's target is ${doc.target}, not ${entry.target}`);
      }
      const { community, ...rest } = doc.arguments ?? {};
      if (community !== context.community) return fail("the signed action was made for another community");
      if (canonicalize(rest) !== canonicalize(entry.arguments ?? {})) {
        return fail("the entry's arguments differ from the signed action's");
      }
      if (doc.actor === entry.actor) return null;
      return fail(`the action was signed by ${doc.actor}, not by the entry's actor ${entry.actor}`);
    }
    if (evidence.type === "Delete") {
      const doc = await verifySigned("Delete", evidence);
      if (entry.action !== "delete-message") {
        return fail(`a signed Delete cannot stand for "${entry.action}"`);
      }
      if (doc.object !== entry.target) {
        return fail(`the signed deletion is of ${doc.object}, not ${entry.target}`);
      }
      if (doc.actor !== entry.actor) {
        return fail(`the deletion was signed by ${doc.actor}, not ${entry.actor}`);
      }
      if (new URL(doc.channel).origin !== new URL(context.community).origin) {
        return fail("the signed deletion is for another instance's channel");
      }
      return null;
    }
    const proof = evidence.proof as { proofPurpose?: unknown } | undefined;
    if (proof?.proofPurpose === "capabilityDelegation") {
      const result = await verify(evidence);
      if (!result.verified) return fail(`the delegation's signature does not verify: ${result.error}`);
      if (entry.action !== "role-assign") return fail(`a delegation cannot stand for "${entry.action}"`);
      if (result.signer !== entry.actor) {
        return fail(`the delegation was signed by ${result.signer}, not ${entry.actor}`);
      }
      if (evidence.controller !== entry.target) return fail(`the delegation is for ${evidence.controller}`);
      const target = String(evidence.invocationTarget ?? "");
      if (target !== context.community && !target.startsWith(`${context.community}/`)) {
        return fail("the delegation is for another community");
      }
      return null;
    }
    return fail("the entry carries no signed document");
  } catch (error) {
    return fail(errorText(error));
  }
}

/** Checks one entry against the one before it (null for the first). */
export async function checkEntry(
  entry: AuditEntry,
  previous: AuditEntry | null,
  context: VerifyContext,
): Promise<string | null> {
  const expectedSeq = previous ? previous.seq + 1 : 1;
  if (entry.seq !== expectedSeq) {
    return entry.seq > expectedSeq
      ? `entry ${expectedSeq} is missing (the log jumps from ${expectedSeq - 1} to ${entry.seq})`
      : `entry ${entry.seq} is out of order`;
  }
  const expectedPrevious = previous ? previous.hash : GENESIS;
  if (entry.prevHash !== expectedPrevious) {
    return "its previous hash does not match the entry before it";
  }
  if ((await entryHash(entry)) !== entry.hash) {
    return "its hash does not match its contents (the entry was altered)";
  }
  return await checkEvidence(entry, context);
}

/** Checks a whole log, oldest first; stops at the first entry that fails. */
export async function verifyEntries(entries: AuditEntry[], context: VerifyContext): Promise<Verification> {
  let previous: AuditEntry | null = null;
  for (const entry of entries) {
    const reason = await checkEntry(entry, previous, context);
    if (reason) {
      const expected = previous ? previous.seq + 1 : 1;
      const seq = entry.seq > expected ? expected : entry.seq;
      return {
        ok: false,
        checked: previous ? previous.seq : 0,
        head: previous ? { seq: previous.seq, hash: previous.hash } : null,
        failure: { seq, reason },
      };
    }
    previous = entry;
  }
  return {
    ok: true,
    checked: entries.length,
    head: previous ? { seq: previous.seq, hash: previous.hash } : null,
    failure: null,
  };
}
