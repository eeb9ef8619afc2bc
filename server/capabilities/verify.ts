/**
 * Verifying a capability invocation.
 *
 * First the embedded chain is read as plain data and checked for what
 * gives a precise reason (target, action, attenuation, expiry,
 * revocation, freshness); then @digitalbazaar/zcap 9 verifies everything
 * (signatures, controllers, every delegation rule), always. Its errors
 * are generic (a target mismatch comes out as NotFoundError), hence the
 * checks before it; the two must agree, and the chain zcap verified must
 * be the one checked for revocation.
 *
 * Status codes: 401 when the request cannot be authenticated (malformed,
 * a signature that does not verify, a key that cannot be resolved, a
 * signer that is not the capability's controller, a stale invocation);
 * 403 when it is authentic but not authorized (another target, an action
 * not allowed, a delegation beyond its parent, expired, revoked, a target
 * we do not host).
 *
 * Replay protection is the caller's: remember `proofValue` until
 * `freshUntil` (the bridge layer keeps them in seen_invocations).
 */
// deno-lint-ignore-file no-explicit-any
import jsigs from "jsonld-signatures";
import { CapabilityInvocation } from "@digitalbazaar/zcap";
import {
  createDocumentLoader,
  type ResolveHttpsController,
  rootCapabilityId,
  type RootControllerOf,
} from "./loader.ts";
import { actionsOf, MalformedInvocation, type ReadChain, readInvocation } from "./chain.ts";
import { JCS, RDFC, verifySuites } from "./suites.ts";

export interface VerifyInvocationOptions {
  /** The URL the invocation was received at (the channel inbox). */
  expectedTarget: string;
  /** The action the request performs (e.g. "post" for a Create). */
  expectedAction: string;
  /** The DID controlling the root capability of a target we host, or null. */
  rootControllerOf: RootControllerOf;
  /** Whether any of these capability ids (root first) is revoked. Asked on every call. */
  isRevoked: (capabilityIds: string[]) => boolean | Promise<boolean>;
  /** Keys of http(s) controllers (actors); without it only did:key controllers verify. */
  resolveHttpsController?: ResolveHttpsController;
  now?: Date;
  /** Tolerated clock difference with the invoker, for `created` in the future (default 60 s). */
  maxClockSkewSeconds?: number;
  /** How old an invocation may be (default 300 s). */
  freshnessSeconds?: number;
  /** Longest chain accepted, root included (default 5). */
  maxChainLength?: number;
  /** Use the cache of verified delegation proofs (default true). */
  useDelegationCache?: boolean;
}

export interface VerifiedInvocation {
  verified: true;
  /** The controller of the invoking key: an actor URL or a DID. */
  invoker: string;
  verificationMethod: string;
  /** The capability invoked (the tail of the chain). */
  capabilityId: string;
  /** Every capability in the chain, root first. */
  chainIds: string[];
  action: string;
  proofValue: string;
  /** The invocation proof's `created` (ISO 8601, as signed). */
  created: string;
  /** After this the invocation is stale anyway: keep `proofValue` until then to refuse replays. */
  freshUntil: Date;
}

export interface RefusedInvocation {
  verified: false;
  status: 401 | 403;
  reason: string;
  /** What the libraries said, for logs. */
  detail?: string;
}

export type VerifyInvocationResult = VerifiedInvocation | RefusedInvocation;

export const Reasons = {
  malformed: "malformed invocation",
  otherTarget: "capability was issued for another channel/target",
  notHosted: "no capability can be invoked on this target",
  expired: "capability expired",
  revoked: "capability revoked",
  actionNotAllowed: (action: string) => `action ${JSON.stringify(action)} not allowed by the capability`,
  actionMismatch: (claimed: string, expected: string) =>
    `invocation is for action ${JSON.stringify(claimed)}, not ${JSON.stringify(expected)}`,
  escalation: "capability exceeds its parent's authority",
  chainSignature: "invalid signature in the capability chain",
  invocationSignature: "invalid signature on the invocation",
  notFresh: "invocation is not fresh",
  notController: "not signed by the capability's controller",
  unknownKey: "unknown verification method",
  invalidChain: "invalid capability chain",
} as const;

function refuse(status: 401 | 403, reason: string, detail?: string): RefusedInvocation {
  return detail === undefined
    ? { verified: false, status, reason }
    : { verified: false, status, reason, detail };
}

/** The checks that give precise reasons; null when they all pass. */
function precheck(
  read: ReadChain,
  options: { expectedTarget: string; expectedAction: string; now: number; skewMs: number; freshMs: number },
): RefusedInvocation | null {
  const { proof, rootId, delegations } = read;
  const { expectedTarget, expectedAction, now } = options;

  if (proof.cryptosuite !== JCS && proof.cryptosuite !== RDFC) {
    return refuse(401, Reasons.malformed, `unsupported cryptosuite ${proof.cryptosuite}`);
  }
  // A capability for one target never authorizes another.
  if (proof.invocationTarget !== expectedTarget) {
    return refuse(403, Reasons.otherTarget, `the invocation names ${proof.invocationTarget}`);
  }
  if (rootId !== rootCapabilityId(expectedTarget)) {
    return refuse(403, Reasons.otherTarget, `the chain starts at ${rootId}`);
  }
  for (const zcap of delegations) {
    if (zcap.invocationTarget !== expectedTarget) {
      return refuse(403, Reasons.otherTarget, `${zcap.id} is for ${zcap.invocationTarget}`);
    }
  }

  if (proof.capabilityAction !== expectedAction) {
    return refuse(403, Reasons.actionMismatch(proof.capabilityAction, expectedAction));
  }
  for (const zcap of delegations) {
    const actions = actionsOf(zcap);
    if (actions && !actions.includes(expectedAction)) {
      return refuse(403, Reasons.actionNotAllowed(expectedAction), `${zcap.id} allows ${actions.join(", ")}`);
    }
  }

  for (const [i, zcap] of delegations.entries()) {
    if (Date.parse(zcap.expires) <= now) {
      const which = i === delegations.length - 1 ? "the invoked capability" : "a capability in its chain";
      return refuse(403, Reasons.expired, `${which} (${zcap.id}) expired at ${zcap.expires}`);
    }
  }

  // Each delegation within its parent's authority.
  for (let i = 1; i < delegations.length; i++) {
    const parent = delegations[i - 1];
    const child = delegations[i];
    const parentActions = actionsOf(parent);
    const childActions = actionsOf(child);
    if (parentActions && (!childActions || !childActions.every((a) => parentActions.includes(a)))) {
      return refuse(403, Reasons.escalation, `${child.id} allows actions ${parent.id} does not`);
    }
    if (Date.parse(child.expires) > Date.parse(parent.expires)) {
      return refuse(403, Reasons.escalation, `${child.id} expires after ${parent.id}`);
    }
  }

  const created = Date.parse(proof.created);
  if (created < now - options.freshMs || created > now + options.skewMs) {
    return refuse(401, Reasons.notFresh, `created ${proof.created}`);
  }
  return null;
}

function messages(error: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 8 || error === null || error === undefined) return out;
  if (Array.isArray(error)) {
    for (const e of error) messages(e, out, depth + 1);
    return out;
  }
  const e = error as { name?: string; message?: string; errors?: unknown; cause?: unknown };
  out.push(`${e.name ?? "Error"}: ${e.message ?? String(error)}`);
  if (e.errors) messages(e.errors, out, depth + 1);
  if (e.cause) messages(e.cause, out, depth + 1);
  return out;
}

type Rule = [RegExp, 401 | 403, (expectedAction: string) => string];

const chainRules: Rule[] = [
  [/ChainMismatch/, 401, () => Reasons.malformed],
  [/has been revoked/, 403, () => Reasons.revoked],
  [
    /used to invoke|not authorized by controller for proof purpose "capabilityInvocation"/,
    401,
    () => Reasons.notController,
  ],
  [
    /"invocationTarget" in a delegated capability|does not match expected root capability/,
    403,
    () => Reasons.otherTarget,
  ],
  [/Invocation target .* does not match|Expected target .* does not match/, 403, () => Reasons.otherTarget],
  [/must not be less restrictive than its parent/, 403, () => Reasons.escalation],
  [/is not allowed by the capability|does not match the expected action/, 403, Reasons.actionNotAllowed],
  [/has expired/, 403, () => Reasons.expired],
  [/timestamp is out of range/, 401, () => Reasons.notFresh],
  [
    /Invalid signature|used to delegate|not authorized by controller for proof purpose "capabilityDelegation"|DocumentNotFoundError|Did not verify any proofs|Safe mode/,
    401,
    () => Reasons.chainSignature,
  ],
];

function mapLibraryFailure(result: any, expectedAction: string): RefusedInvocation {
  const top = result?.results?.[0];
  if (!top) return refuse(401, Reasons.malformed, messages(result?.error).join(" | "));
  if (top.purposeResult === undefined) {
    // The invocation proof itself did not verify (its key or its signature).
    const detail = messages(top.error).join(" | ");
    if (/DocumentNotFoundError|Unable to load verification method/.test(detail)) {
      return refuse(401, Reasons.unknownKey, detail);
    }
    return refuse(401, Reasons.invocationSignature, detail);
  }
  const detail = messages(top.purposeResult.error ?? top.error).join(" | ");
  for (const [pattern, status, reason] of chainRules) {
    if (pattern.test(detail)) return refuse(status, reason(expectedAction), detail);
  }
  return refuse(401, Reasons.invalidChain, detail);
}

class ChainMismatch extends Error {
  override name = "ChainMismatch";
}

/**
 * Verifies a capability invocation received at `expectedTarget` for
 * `expectedAction`. Never throws for bad input: every refusal comes back
 * with a status and a reason (it throws only if `rootControllerOf` or
 * `isRevoked` does, e.g. when the database fails).
 */
export async function verifyInvocation(
  document: unknown,
  options: VerifyInvocationOptions,
): Promise<VerifyInvocationResult> {
  const now = options.now ?? new Date();
  const skewSeconds = options.maxClockSkewSeconds ?? 60;
  const freshSeconds = options.freshnessSeconds ?? 300;
  const maxChainLength = options.maxChainLength ?? 5;
  const { expectedTarget, expectedAction } = options;

  let read: ReadChain;
  try {
    read = readInvocation(document, maxChainLength);
  } catch (error) {
    if (error instanceof MalformedInvocation) return refuse(401, Reasons.malformed, error.message);
    throw error;
  }
  const early = precheck(read, {
    expectedTarget,
    expectedAction,
    now: now.getTime(),
    skewMs: skewSeconds * 1000,
    freshMs: freshSeconds * 1000,
  });
  if (early) return early;

  const rootController = await options.rootControllerOf(expectedTarget);
  if (!rootController) return refuse(403, Reasons.notHosted, expectedTarget);
  if (await options.isRevoked([...read.ids])) return refuse(403, Reasons.revoked);

  const suite = verifySuites(options.useDelegationCache ?? true);
  const documentLoader = createDocumentLoader({
    rootControllerOf: (target) =>
      target === expectedTarget ? rootController : options.rootControllerOf(target),
    resolveHttpsController: options.resolveHttpsController,
  });
  let result: any;
  try {
    result = await jsigs.verify(document, {
      suite,
      purpose: new CapabilityInvocation({
        expectedTarget,
        expectedAction,
        expectedRootCapability: rootCapabilityId(expectedTarget),
        suite,
        date: now,
        maxChainLength,
        maxClockSkew: skewSeconds,
        maxTimestampDelta: Math.max(freshSeconds, skewSeconds),
        // The chain zcap verified must be the one checked for revocation above.
        inspectCapabilityChain: ({ capabilityChain }: { capabilityChain: { id: string }[] }) => {
          const ids = capabilityChain.map((z) => z.id);
          const same = ids.length === read.ids.length && ids.every((id, i) => id === read.ids[i]);
          return Promise.resolve(
            same ? { valid: true } : { valid: false, error: new ChainMismatch("the verified chain differs") },
          );
        },
      }),
      documentLoader,
    });
  } catch (error) {
    return refuse(401, Reasons.malformed, messages(error).join(" | "));
  }
  if (!result?.verified) return mapLibraryFailure(result, expectedAction);

  const top = result.results[0];
  const invoker = top.purposeResult?.invoker?.id ?? top.verificationMethod?.controller;
  if (typeof invoker !== "string") return refuse(401, Reasons.notController, "no invoker in the result");
  const created = Date.parse(read.proof.created);
  return {
    verified: true,
    invoker,
    verificationMethod: read.proof.verificationMethod,
    capabilityId: read.ids[read.ids.length - 1],
    chainIds: read.ids,
    action: read.proof.capabilityAction,
    proofValue: read.proof.proofValue,
    created: read.proof.created,
    freshUntil: new Date(created + freshSeconds * 1000),
  };
}
