/**
 * Reads a capability invocation (its proof and the delegation chain
 * embedded in it) as plain data, without verifying anything, so the
 * verifier can refuse with a precise reason before the cryptography runs.
 * @digitalbazaar/zcap still verifies the whole chain afterwards.
 */

/** A delegated capability, as callers hand it over or a chain embeds it (nothing about it is trusted). */
export interface DelegatedZcap {
  "@context": unknown;
  id: string;
  parentCapability: string;
  invocationTarget: string;
  controller: string | string[];
  allowedAction?: string | string[];
  expires: string;
  proof: unknown;
}

/** A delegated capability whose shape was checked (its one delegation proof picked out). */
export interface CheckedZcap extends DelegatedZcap {
  proof: Record<string, unknown> & { capabilityChain: unknown[]; created: string };
}

export interface InvocationProof {
  type: string;
  cryptosuite: string;
  proofPurpose: "capabilityInvocation";
  verificationMethod: string;
  created: string;
  capability: string | DelegatedZcap;
  capabilityAction: string;
  invocationTarget: string;
  proofValue: string;
}

export interface ReadChain {
  proof: InvocationProof;
  rootId: string;
  /** Delegated capabilities, root side first; the last is the invoked one. Empty when the root is invoked. */
  delegations: CheckedZcap[];
  /** Every capability id, root first. */
  ids: string[];
}

export class MalformedInvocation extends Error {
  override name = "MalformedInvocation";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isAbsoluteUri(value: unknown): value is string {
  return typeof value === "string" && /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/.test(value);
}

function fail(message: string): never {
  throw new MalformedInvocation(message);
}

/** The only capabilityInvocation proof of `document` (other proofs may sit beside it). */
export function invocationProofOf(document: unknown): InvocationProof {
  if (!isRecord(document)) fail("the invocation must be a JSON object");
  const proofs = Array.isArray(document.proof) ? document.proof : [document.proof];
  const invocations = proofs.filter((p) => isRecord(p) && p.proofPurpose === "capabilityInvocation");
  if (invocations.length !== 1) fail("the document must carry exactly one capabilityInvocation proof");
  const p = invocations[0] as Record<string, unknown>;
  if (p.type !== "DataIntegrityProof") fail("the invocation proof must be a DataIntegrityProof");
  if (typeof p.cryptosuite !== "string") fail("the invocation proof names no cryptosuite");
  for (const field of ["verificationMethod", "created", "capabilityAction", "proofValue"]) {
    if (typeof p[field] !== "string" || p[field] === "") fail(`the invocation proof has no "${field}"`);
  }
  if (Number.isNaN(Date.parse(p.created as string))) fail('the invocation proof\'s "created" is not a date');
  if (!isAbsoluteUri(p.invocationTarget)) {
    fail('the invocation proof\'s "invocationTarget" is not an absolute URI');
  }
  if (typeof p.capability !== "string" && !isRecord(p.capability)) {
    fail('the invocation proof\'s "capability" must be a root capability id or a delegated capability');
  }
  return p as unknown as InvocationProof;
}

function checkZcap(value: unknown): CheckedZcap {
  if (!isRecord(value)) fail("a delegated capability in the chain is not an object");
  const z = value;
  if (!isAbsoluteUri(z.id)) fail('a delegated capability has no absolute "id"');
  if (!isAbsoluteUri(z.parentCapability)) fail(`capability ${z.id} has no "parentCapability"`);
  if (!isAbsoluteUri(z.invocationTarget)) fail(`capability ${z.id} has no absolute "invocationTarget"`);
  const controllers = Array.isArray(z.controller) ? z.controller : [z.controller];
  if (controllers.length === 0 || !controllers.every(isAbsoluteUri)) {
    fail(`capability ${z.id} has no controller`);
  }
  if (z.allowedAction !== undefined) {
    const actions = Array.isArray(z.allowedAction) ? z.allowedAction : [z.allowedAction];
    if (actions.length === 0 || !actions.every((a) => typeof a === "string")) {
      fail(`capability ${z.id} has a malformed "allowedAction"`);
    }
  }
  if (typeof z.expires !== "string" || Number.isNaN(Date.parse(z.expires))) {
    fail(`capability ${z.id} has no valid "expires"`);
  }
  const proofs = (Array.isArray(z.proof) ? z.proof : [z.proof]).filter((p) =>
    isRecord(p) && p.proofPurpose === "capabilityDelegation"
  );
  if (proofs.length !== 1) fail(`capability ${z.id} must carry exactly one capabilityDelegation proof`);
  const proof = proofs[0] as Record<string, unknown>;
  if (!Array.isArray(proof.capabilityChain) || proof.capabilityChain.length === 0) {
    fail(`capability ${z.id} has no "capabilityChain"`);
  }
  if (typeof proof.created !== "string" || Number.isNaN(Date.parse(proof.created))) {
    fail(`capability ${z.id}'s delegation proof has no valid "created"`);
  }
  return { ...z, proof } as unknown as CheckedZcap;
}

/**
 * Reads the proof and the chain it embeds: `[root id, …ids, parent]` in
 * each delegation proof, the parent embedded in full. Enforces the shape
 * zcap enforces (ids as strings, only the last entry embedded, no cycles,
 * consistent chains) and `maxChainLength` (root included).
 */
export function readInvocation(document: unknown, maxChainLength: number): ReadChain {
  const proof = invocationProofOf(document);
  if (typeof proof.capability === "string") {
    if (!isAbsoluteUri(proof.capability)) fail("the invoked root capability id is not an absolute URI");
    return { proof, rootId: proof.capability, delegations: [], ids: [proof.capability] };
  }
  const tail = checkZcap(proof.capability);
  const chain = tail.proof.capabilityChain;
  if (chain.length + 1 > maxChainLength) {
    fail(`the capability chain is longer than ${maxChainLength}`);
  }
  const idsAbove = chain.map((entry, i) => {
    const isLast = i === chain.length - 1;
    if (typeof entry === "string" && (!isLast || chain.length === 1)) return entry;
    if (isLast && chain.length > 1 && isRecord(entry) && typeof entry.id === "string") return entry.id;
    return fail("the capability chain must list ids, with only its last (delegated) capability embedded");
  });
  if (!idsAbove.every(isAbsoluteUri)) fail("the capability chain holds an id that is not an absolute URI");
  const ids = [...idsAbove, tail.id];
  if (new Set(ids).size !== ids.length) fail("the capability chain contains a cycle");

  if (tail.parentCapability !== idsAbove.at(-1)) fail("the capability chain is inconsistent");

  // Walk up through the embedded parents: each one's chain must repeat the
  // tail's up to it, its own parent embedded last (or the root id, first).
  const delegations: CheckedZcap[] = [tail];
  let current = tail;
  for (let depth = chain.length - 1; depth >= 1; depth--) {
    const parent = checkZcap(current.proof.capabilityChain.at(-1));
    const parentChain = parent.proof.capabilityChain;
    if (parent.id !== ids[depth] || parentChain.length !== depth) {
      fail("the capability chain is inconsistent");
    }
    parentChain.forEach((entry, i) => {
      const embedded = i === depth - 1 && depth > 1;
      const id = embedded ? (isRecord(entry) ? entry.id : undefined) : entry;
      if (id !== ids[i]) fail("the capability chain is inconsistent");
    });
    if (parent.parentCapability !== ids[depth - 1]) fail("the capability chain is inconsistent");
    delegations.unshift(parent);
    current = parent;
  }
  return { proof, rootId: ids[0], delegations, ids };
}

export function actionsOf(zcap: { allowedAction?: string | string[] }): string[] | null {
  if (zcap.allowedAction === undefined) return null;
  return Array.isArray(zcap.allowedAction) ? zcap.allowedAction : [zcap.allowedAction];
}

export function controllersOf(zcap: { controller: string | string[] }): string[] {
  return Array.isArray(zcap.controller) ? zcap.controller : [zcap.controller];
}
