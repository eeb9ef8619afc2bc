/**
 * Authorization capabilities (ZCAP, https://w3c-ccg.github.io/zcap-spec/)
 * as plain data, produced and checked with @digitalbazaar/zcap 9.
 *
 * - Every target this instance hosts (a channel inbox, later anything
 *   else) has a root capability `urn:zcap:root:<target>` controlled by
 *   the community's did:key (communityKey.ts); it is never written down,
 *   the verifier's document loader answers it.
 * - `delegate` hands part of a capability (same target, a subset of its
 *   actions, an earlier expiry) to a controller: an http(s) actor or a DID.
 *   Signed with eddsa-rdfc-2022, proof purpose capabilityDelegation.
 * - `invoke` adds a capabilityInvocation proof (eddsa-jcs-2022) to a
 *   document, embedding the capability and its chain.
 * - `verifyInvocation` (verify.ts) checks one.
 */
// deno-lint-ignore-file no-explicit-any
import jsigs from "jsonld-signatures";
import { CapabilityDelegation, CapabilityInvocation } from "@digitalbazaar/zcap";
import { DI_V2, ZCAP_V1 } from "./contexts.ts";
import { ROOT_PREFIX, type RootCapability, rootCapabilityId, staticDocumentLoader } from "./loader.ts";
import { type DelegatedZcap, invocationProofOf } from "./chain.ts";
import { delegationSigningSuite, invocationSigningSuite } from "./suites.ts";
import type { SuiteSigner } from "./signer.ts";

export { rootCapability, rootCapabilityId } from "./loader.ts";
export type { RootCapability } from "./loader.ts";
export type { DelegatedZcap } from "./chain.ts";
export { Reasons, verifyInvocation } from "./verify.ts";
export type { VerifyInvocationOptions, VerifyInvocationResult } from "./verify.ts";

/** The proof `delegate` puts on a capability. */
export interface DelegationProof {
  type: "DataIntegrityProof";
  cryptosuite: "eddsa-rdfc-2022";
  created: string;
  verificationMethod: string;
  proofPurpose: "capabilityDelegation";
  /** The root id, the ids after it, and the parent (embedded) when it is not the root. */
  capabilityChain: (string | Zcap)[];
  proofValue: string;
}

/** What a delegated capability looks like once signed. */
export interface Zcap extends DelegatedZcap {
  "@context": [typeof ZCAP_V1, typeof DI_V2];
  controller: string;
  allowedAction: string[];
  proof: DelegationProof;
}

export interface DelegateOptions {
  /** The root capability's id (or the root itself), or the delegated capability to delegate further. */
  parent: string | RootCapability | DelegatedZcap;
  /** Who may use the new capability: an http(s) actor URL or a DID. */
  controller: string;
  invocationTarget: string;
  allowedAction: string[];
  expires: Date;
  /** The parent's controller's key. */
  signer: SuiteSigner;
  /** The delegation time (proof `created`); defaults to now. */
  now?: Date;
  /** The new capability's id; defaults to a fresh `urn:uuid:`. */
  id?: string;
}

export class CapabilityError extends Error {
  override name = "CapabilityError";
}

function isAbsoluteUri(value: unknown): value is string {
  return typeof value === "string" && /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/.test(value);
}

function isRoot(parent: DelegateOptions["parent"]): parent is string | RootCapability {
  return typeof parent === "string" || !("parentCapability" in parent);
}

function actionsOf(capability: { allowedAction?: string | string[] }): string[] | null {
  const { allowedAction } = capability;
  if (allowedAction === undefined) return null;
  return Array.isArray(allowedAction) ? allowedAction : [allowedAction];
}

/**
 * Delegates `parent` to `controller`. Refuses anything its parent does
 * not allow (another target, an action the parent lacks, a later expiry,
 * an expired parent), so no escalation is ever signed.
 */
export async function delegate(options: DelegateOptions): Promise<Zcap> {
  const { parent, controller, invocationTarget, signer } = options;
  const now = options.now ?? new Date();
  const allowedAction = [...new Set(options.allowedAction)];
  if (!isAbsoluteUri(controller)) throw new CapabilityError("the controller must be an actor URL or a DID");
  if (!isAbsoluteUri(invocationTarget)) {
    throw new CapabilityError("the invocation target must be an absolute URI");
  }
  if (allowedAction.length === 0 || !allowedAction.every((a) => typeof a === "string" && a !== "")) {
    throw new CapabilityError("allowedAction must list at least one action");
  }
  if (!(options.expires instanceof Date) || Number.isNaN(options.expires.getTime())) {
    throw new CapabilityError("expires must be a valid date");
  }
  if (options.expires.getTime() <= now.getTime()) throw new CapabilityError("expires must be in the future");

  let parentRef: string | DelegatedZcap;
  if (isRoot(parent)) {
    const rootId = typeof parent === "string" ? parent : parent.id;
    if (!rootId.startsWith(ROOT_PREFIX)) throw new CapabilityError("the parent is not a root capability id");
    if (rootCapabilityId(invocationTarget) !== rootId) {
      throw new CapabilityError("a capability delegated from a root must have the root's target");
    }
    parentRef = rootId;
  } else {
    if (parent.invocationTarget !== invocationTarget) {
      throw new CapabilityError("a delegated capability must have its parent's target");
    }
    const parentActions = actionsOf(parent);
    if (parentActions && !allowedAction.every((a) => parentActions.includes(a))) {
      throw new CapabilityError("allowedAction must not exceed the parent's");
    }
    const parentExpires = Date.parse(parent.expires);
    if (!(parentExpires > now.getTime())) throw new CapabilityError("the parent capability has expired");
    if (options.expires.getTime() > parentExpires) {
      throw new CapabilityError("the capability must not outlive its parent");
    }
    parentRef = parent;
  }

  const zcap = {
    "@context": [ZCAP_V1, DI_V2],
    id: options.id ?? `urn:uuid:${crypto.randomUUID()}`,
    parentCapability: typeof parentRef === "string" ? parentRef : parentRef.id,
    invocationTarget,
    controller,
    allowedAction,
    expires: options.expires.toISOString(),
  };
  return await jsigs.sign(zcap, {
    suite: delegationSigningSuite(signer, now),
    purpose: new CapabilityDelegation({ parentCapability: parentRef }),
    documentLoader: staticDocumentLoader,
  }) as Zcap;
}

export interface InvokeOptions {
  /** The capability invoked: a delegated one (embedded in the proof) or a root (by id). */
  capability: string | RootCapability | DelegatedZcap;
  action: string;
  invocationTarget: string;
  /** The capability controller's key. */
  signer: SuiteSigner;
  /** The invocation time (proof `created`); defaults to now. */
  created?: Date;
}

/** `context` with zcap v1 and data integrity v2 appended when missing. */
export function withCapabilityContexts(context: unknown): unknown[] {
  const list = context === undefined ? [] : Array.isArray(context) ? [...context] : [context];
  if (!list.includes(ZCAP_V1)) list.push(ZCAP_V1);
  if (!list.includes(DI_V2)) list.push(DI_V2);
  return list;
}

/**
 * Returns a copy of `document` with a capabilityInvocation proof
 * (eddsa-jcs-2022). Its `@context` gains zcap v1 and data integrity v2
 * when it lacks them (zcap requires its context on the proof, and a JCS
 * proof carries the document's context).
 */
export async function invoke<T extends Record<string, unknown>>(
  document: T,
  options: InvokeOptions,
): Promise<T & { "@context": unknown[]; proof: unknown }> {
  const { capability, action, invocationTarget, signer } = options;
  if (typeof action !== "string" || action === "") throw new CapabilityError("the action must be a string");
  if (document.proof !== undefined) {
    let hasInvocation = true;
    try {
      invocationProofOf(document);
    } catch {
      hasInvocation = false;
    }
    if (hasInvocation) throw new CapabilityError("the document already carries a capability invocation");
  }
  let capabilityRef: string | DelegatedZcap;
  if (typeof capability === "string" || !("parentCapability" in capability)) {
    const rootId = typeof capability === "string" ? capability : capability.id;
    if (rootCapabilityId(invocationTarget) !== rootId) {
      throw new CapabilityError("the invocation target is not the capability's target");
    }
    capabilityRef = rootId;
  } else {
    if (capability.invocationTarget !== invocationTarget) {
      throw new CapabilityError("the invocation target is not the capability's target");
    }
    const actions = actionsOf(capability);
    if (actions && !actions.includes(action)) {
      throw new CapabilityError(`action "${action}" is not allowed by the capability`);
    }
    capabilityRef = capability;
  }
  const copy: Record<string, unknown> = structuredClone(document);
  copy["@context"] = withCapabilityContexts(copy["@context"]);
  const signed = await jsigs.sign(copy, {
    suite: invocationSigningSuite(signer, options.created ?? new Date()),
    purpose: new CapabilityInvocation({
      capability: capabilityRef,
      capabilityAction: action,
      invocationTarget,
    }),
    documentLoader: staticDocumentLoader,
  });
  return signed as any;
}
