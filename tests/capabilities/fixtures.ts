/**
 * Shared setting for the capability tests: instance B
 * hosts two channel inboxes (its community did:key controls their roots);
 * instance A runs a channel actor, a relay and a bot, each with an
 * Ed25519 key on its actor document (resolved like the bridge layer
 * will, from fetched actor documents).
 */
import jsigs from "jsonld-signatures";
import { CapabilityDelegation, CapabilityInvocation } from "@digitalbazaar/zcap";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import { createSignCryptosuite } from "@digitalbazaar/eddsa-jcs-2022-cryptosuite";
import { DI_V2, ZCAP_V1 } from "../../server/capabilities/contexts.ts";
import { didFromPublicKey, ed25519Multibase, verificationMethodOf } from "../../server/crypto/didkey.ts";
import { type HttpsController, staticDocumentLoader } from "../../server/capabilities/loader.ts";
import { type SuiteSigner, suiteSigner } from "../../server/capabilities/signer.ts";
import {
  delegate,
  type DelegatedZcap,
  invoke,
  rootCapabilityId,
  withCapabilityContexts,
  type Zcap,
} from "../../server/capabilities/zcap.ts";
import { verifyInvocation, type VerifyInvocationOptions } from "../../server/capabilities/verify.ts";

export const B = "https://b.example";
export const T = `${B}/channels/general/inbox`;
export const T2 = `${B}/channels/random/inbox`;
export const A_CHANNEL = "https://a.example/channels/lobby";
export const A_RELAY = "https://a.example/actors/relay";
export const A_BOT = "https://a.example/actors/bot";
export const ACTIONS = ["post", "edit", "delete", "react"];

/** A fixed clock: every test runs at t0 + some minutes. */
export const t0 = new Date("2030-01-01T00:00:00Z");
export const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

export interface KeyPair {
  publicKeyMultibase: string;
  signer: SuiteSigner;
}

async function newPair(): Promise<{ privateKey: CryptoKey; publicKey: Uint8Array }> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  return {
    privateKey: pair.privateKey,
    publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
  };
}

export async function newDidKey(): Promise<KeyPair & { did: string }> {
  const { privateKey, publicKey } = await newPair();
  const did = didFromPublicKey(publicKey);
  return {
    did,
    publicKeyMultibase: ed25519Multibase(publicKey),
    signer: suiteSigner(verificationMethodOf(did), privateKey),
  };
}

export async function newActorKey(actor: string, fragment = "key-1"): Promise<KeyPair & { id: string }> {
  const { privateKey, publicKey } = await newPair();
  const id = `${actor}#${fragment}`;
  return { id, publicKeyMultibase: ed25519Multibase(publicKey), signer: suiteSigner(id, privateKey) };
}

export interface World {
  community: Awaited<ReturnType<typeof newDidKey>>;
  channel: Awaited<ReturnType<typeof newActorKey>>;
  relay: Awaited<ReturnType<typeof newActorKey>>;
  bot: Awaited<ReturnType<typeof newActorKey>>;
  actors: Map<string, HttpsController>;
  revoked: Set<string>;
  /** root → A's channel actor (post, edit, delete, react; 60 min). */
  z1: Zcap;
  /** z1 → relay (post, react; 50 min). */
  z2: Zcap;
  /** z2 → bot (post; 40 min). */
  z3: Zcap;
  options(overrides?: Partial<VerifyInvocationOptions>): VerifyInvocationOptions;
}

export async function world(): Promise<World> {
  const community = await newDidKey();
  const channel = await newActorKey(A_CHANNEL);
  const relay = await newActorKey(A_RELAY);
  const bot = await newActorKey(A_BOT);
  const actors = new Map<string, HttpsController>();
  for (const [actor, key] of [[A_CHANNEL, channel], [A_RELAY, relay], [A_BOT, bot]] as const) {
    actors.set(actor, {
      controller: actor,
      keys: [{ id: key.id, publicKeyMultibase: key.publicKeyMultibase }],
    });
  }
  const revoked = new Set<string>();
  const z1 = await delegate({
    parent: rootCapabilityId(T),
    controller: A_CHANNEL,
    invocationTarget: T,
    allowedAction: ACTIONS,
    expires: at(60),
    signer: community.signer,
    now: at(0),
  });
  const z2 = await delegate({
    parent: z1,
    controller: A_RELAY,
    invocationTarget: T,
    allowedAction: ["post", "react"],
    expires: at(50),
    signer: channel.signer,
    now: at(1),
  });
  const z3 = await delegate({
    parent: z2,
    controller: A_BOT,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(40),
    signer: relay.signer,
    now: at(2),
  });
  const options = (overrides: Partial<VerifyInvocationOptions> = {}): VerifyInvocationOptions => ({
    expectedTarget: T,
    expectedAction: "post",
    rootControllerOf: (target) => target === T || target === T2 ? community.did : null,
    isRevoked: (ids) => ids.some((id) => revoked.has(id)),
    resolveHttpsController: (url) => actors.get(url.split("#")[0]) ?? null,
    now: at(10),
    ...overrides,
  });
  return { community, channel, relay, bot, actors, revoked, z1, z2, z3, options };
}

let counter = 0;

/** An activity as A would send it into B's bridged channel. */
export function activity(actor: string, content = "hello from A"): Record<string, unknown> {
  const n = ++counter;
  return {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/harmony/v1"],
    id: `${actor}/activities/${n}`,
    type: "Create",
    actor,
    to: T,
    object: { id: `${actor}/notes/${n}`, type: "Note", content, attributedTo: actor },
  };
}

export function invokeAs(
  key: { signer: SuiteSigner },
  capability: string | DelegatedZcap,
  options: {
    action?: string;
    target?: string;
    created?: Date;
    actor?: string;
    document?: Record<string, unknown>;
  } = {},
) {
  return invoke(options.document ?? activity(options.actor ?? A_CHANNEL), {
    capability,
    action: options.action ?? "post",
    invocationTarget: options.target ?? T,
    signer: key.signer,
    created: options.created ?? at(5),
  });
}

export { verifyInvocation };

// --- Forging: the library's own API, without our (or its) sign-time checks ---

/** Signs an invocation with jsonld-signatures directly: no check of target or action. */
export async function rawInvoke(
  key: { signer: SuiteSigner },
  capability: string | DelegatedZcap,
  options: { action: string; target: string; created?: Date; document?: Record<string, unknown> },
): Promise<Record<string, unknown>> {
  const document = structuredClone(options.document ?? activity(A_CHANNEL));
  document["@context"] = withCapabilityContexts(document["@context"]);
  return await jsigs.sign(document, {
    suite: new DataIntegrityProof({
      signer: key.signer,
      date: options.created ?? at(5),
      cryptosuite: createSignCryptosuite(),
    }),
    purpose: new CapabilityInvocation({
      capability,
      capabilityAction: options.action,
      invocationTarget: options.target,
    }),
    documentLoader: staticDocumentLoader,
  });
}

/** Delegates with zcap's API and `_skipLocalValidationForTesting`: lets escalations be signed. */
export async function rawDelegate(
  key: { signer: SuiteSigner },
  parent: string | DelegatedZcap,
  fields: {
    controller: string;
    invocationTarget: string;
    allowedAction: string[];
    expires: Date;
    created: Date;
  },
): Promise<Zcap> {
  const zcap = {
    "@context": [ZCAP_V1, DI_V2],
    id: `urn:uuid:${crypto.randomUUID()}`,
    parentCapability: typeof parent === "string" ? parent : parent.id,
    invocationTarget: fields.invocationTarget,
    controller: fields.controller,
    allowedAction: fields.allowedAction,
    expires: fields.expires.toISOString(),
  };
  return await jsigs.sign(zcap, {
    suite: new DataIntegrityProof({ signer: key.signer, date: fields.created, cryptosuite: eddsaRdfc2022 }),
    purpose: new CapabilityDelegation({ parentCapability: parent, _skipLocalValidationForTesting: true }),
    documentLoader: staticDocumentLoader,
  });
}
