/**
 * Builders for the documents a member signs (shapes in server/documents/signed.ts,
 * docs/api.md). Pure and isomorphic: the browser, the command-line client
 * and bots all sign through these, so every client signs the same bytes.
 */
import { type Secured, sign, type Signer } from "../crypto/dataIntegrity.ts";
import { didOfVerificationMethod } from "../crypto/didkey.ts";
import { HARMONY_CONTEXT_URL } from "../rdf/vocab.ts";
import { newUrnUuid } from "../shared/ids.ts";
import type {
  Attachment,
  SignedAction,
  SignedDelete,
  SignedMessage,
  SignedPin,
  SignedProfile,
  SignedReact,
  SignedRecoveryApproval,
  SignedRecoveryCancel,
  SignedRecoveryRequest,
  SignedRecoverySetup,
  SignedUnreact,
  SignedUpdate,
} from "./signed.ts";

export const CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2";

const now = () => new Date().toISOString();

function didOf(signer: Signer): string {
  const did = didOfVerificationMethod(signer.verificationMethod);
  if (!did) throw new Error("the signer's verification method is not a did:key key");
  return did;
}

/** A sign-in presentation bound to one challenge and one origin. */
export function signPresentation(
  signer: Signer,
  challenge: string,
  domain: string,
  created = now(),
): Promise<Secured<Record<string, unknown>>> {
  return sign(
    {
      "@context": [CREDENTIALS_V2],
      type: ["VerifiablePresentation"],
      holder: didOf(signer),
    },
    signer,
    { proofPurpose: "authentication", challenge, domain, created },
  );
}

const assertion = (created: string) => ({ proofPurpose: "assertionMethod", created });

/**
 * What a message may carry besides its text: the message it replies to and
 * the thread it belongs to (same channel), and the descriptors of files
 * uploaded first (POST /api/files).
 */
export interface MessageOptions {
  inReplyTo?: string | null;
  thread?: string | null;
  attachment?: Attachment[];
  /** Who the text mentions (server/attention/mentionText.ts): member DIDs and role IRIs. */
  mentions?: string[];
}

export function signMessage(
  signer: Signer,
  channel: string,
  content: string,
  id = newUrnUuid(),
  published = now(),
  options: MessageOptions = {},
): Promise<SignedMessage> {
  const doc: Record<string, unknown> = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Message",
    id,
    channel,
    attributedTo: didOf(signer),
    content,
    published,
  };
  if (options.inReplyTo) doc.inReplyTo = options.inReplyTo;
  if (options.thread) doc.thread = options.thread;
  if (options.attachment?.length) doc.attachment = options.attachment.map(descriptorOf);
  // Absent when nobody is mentioned.
  if (options.mentions?.length) doc.mentions = options.mentions;
  return sign(doc, signer, assertion(published)) as unknown as Promise<SignedMessage>;
}

// ---- conversation (server/conversation/): reactions and pins

/** Reacts to a message with one emoji. */
export function signReact(
  signer: Signer,
  channel: string,
  messageId: string,
  emoji: string,
  published = now(),
): Promise<SignedReact> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "React",
    actor: didOf(signer),
    object: messageId,
    channel,
    content: emoji,
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedReact>;
}

/** Takes back one's reactions with `emoji`: `removes` are the React operation ids one has seen. */
export function signUnreact(
  signer: Signer,
  channel: string,
  messageId: string,
  emoji: string,
  removes: string[],
  published = now(),
): Promise<SignedUnreact> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Unreact",
    actor: didOf(signer),
    object: messageId,
    channel,
    content: emoji,
    removes,
    published,
  };
  return sign(doc, signer, assertion(published)) as unknown as Promise<SignedUnreact>;
}

/** Pins a message to its channel (`pin` true) or takes it down. */
export function signPin(
  signer: Signer,
  channel: string,
  messageId: string,
  pin: boolean,
  published = now(),
): Promise<SignedPin> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: pin ? "Pin" : "Unpin",
    actor: didOf(signer),
    object: messageId,
    channel,
    published,
  };
  return sign(doc, signer, assertion(published)) as unknown as Promise<SignedPin>;
}

/** Only the descriptor's own fields, in case a caller passes a richer object. */
function descriptorOf(a: Attachment): Attachment {
  const out: Attachment = {
    id: a.id,
    url: a.url,
    name: a.name,
    mediaType: a.mediaType,
    size: a.size,
    digest: a.digest,
  };
  if (a.width !== undefined) out.width = a.width;
  if (a.height !== undefined) out.height = a.height;
  return out;
}

export function signUpdate(
  signer: Signer,
  channel: string,
  messageId: string,
  content: string,
  published = now(),
  mentions: string[] = [],
): Promise<SignedUpdate> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Update",
    actor: didOf(signer),
    object: messageId,
    channel,
    content,
    published,
    ...(mentions.length ? { mentions } : {}),
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedUpdate>;
}

export function signDelete(
  signer: Signer,
  channel: string,
  messageId: string,
  published = now(),
): Promise<SignedDelete> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Delete",
    actor: didOf(signer),
    object: messageId,
    channel,
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedDelete>;
}

export function signProfile(
  signer: Signer,
  name: string,
  avatar?: { type: string; hash: string } | null,
  updated = now(),
): Promise<SignedProfile> {
  const doc: Record<string, unknown> = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Profile",
    id: didOf(signer),
    name,
    updated,
  };
  if (avatar) {
    doc.avatarType = avatar.type;
    doc.avatarHash = avatar.hash;
  }
  return sign(doc, signer, assertion(updated)) as unknown as Promise<SignedProfile>;
}

const ZCAP_CONTEXT = ["https://w3id.org/zcap/v1", "https://w3id.org/security/data-integrity/v2"];

/** A delegated capability (ZCAP) as members sign and store them. */
export interface DelegatedCapability {
  "@context": string[];
  id: string;
  parentCapability: string;
  invocationTarget: string;
  controller: string;
  allowedAction: string[];
  expires: string;
  proof: Record<string, unknown> & { capabilityChain: unknown[] };
}

/**
 * The capability chain of a delegation from `parent` (a root capability id
 * or a delegated capability), as ZCAP defines it: the root id, the ids of
 * the capabilities in between, and the parent itself, embedded.
 */
export function chainFrom(parent: string | DelegatedCapability): unknown[] {
  if (typeof parent === "string") return [parent];
  const chain = parent.proof.capabilityChain;
  const last = chain[chain.length - 1];
  return [...chain.slice(0, -1), typeof last === "string" ? last : (last as { id: string }).id, parent];
}

/**
 * A member delegates (part of) a capability they hold: the same or a
 * narrower target (a channel under the community), a subset of its
 * actions, an expiry no later than the parent's. Signed with eddsa-jcs-2022
 * (ZCAP proof purpose "capabilityDelegation").
 */
export function signDelegation(
  signer: Signer,
  options: {
    parent: DelegatedCapability;
    controller: string;
    invocationTarget: string;
    allowedAction: string[];
    expires: string;
    id?: string;
    created?: string;
  },
): Promise<DelegatedCapability> {
  const created = options.created ?? now();
  const doc = {
    "@context": ZCAP_CONTEXT,
    id: options.id ?? newUrnUuid(),
    parentCapability: options.parent.id,
    invocationTarget: options.invocationTarget,
    controller: options.controller,
    allowedAction: options.allowedAction,
    expires: options.expires,
  };
  return sign(doc, signer, {
    proofPurpose: "capabilityDelegation",
    created,
    capabilityChain: chainFrom(options.parent),
  } as never) as unknown as Promise<DelegatedCapability>;
}

/**
 * A moderation or role action (kick, ban, timeout, slow mode, a role
 * change...): signed by the acting member, sent with the request and kept
 * in the community's audit log (server/audit). `community` (the community's
 * IRI) goes into `arguments`, so the action cannot be replayed elsewhere.
 */
export function signAction(
  signer: Signer,
  options: { action: string; target: string; community: string; arguments?: Record<string, unknown> },
  published = now(),
): Promise<SignedAction> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Action",
    action: options.action,
    actor: didOf(signer),
    target: options.target,
    arguments: { ...options.arguments, community: options.community },
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as unknown as Promise<SignedAction>;
}

// ---- social recovery (server/recovery, docs/identity.md)

/**
 * The member names their guardians and how many of them must approve a
 * recovery. `id` comes from the server (`POST /api/recovery/ids`): one the
 * client chose is refused.
 */
export function signRecoverySetup(
  signer: Signer,
  community: string,
  guardians: string[],
  threshold: number,
  id: string,
  published = now(),
): Promise<SignedRecoverySetup> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "RecoverySetup",
    id,
    community,
    actor: didOf(signer),
    guardians,
    threshold,
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as unknown as Promise<SignedRecoverySetup>;
}

/**
 * Signed by the NEW key: asks to take over `oldIdentity`'s place in the
 * community. `id` comes from the server, as for the setup.
 */
export function signRecoveryRequest(
  signer: Signer,
  community: string,
  oldIdentity: string,
  id: string,
  published = now(),
): Promise<SignedRecoveryRequest> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "RecoveryRequest",
    id,
    community,
    oldIdentity,
    newIdentity: didOf(signer),
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedRecoveryRequest>;
}

/** A guardian's approval of one request, naming both identities. */
export function signRecoveryApproval(
  signer: Signer,
  request: { id: string; community: string; oldIdentity: string; newIdentity: string },
  published = now(),
): Promise<SignedRecoveryApproval> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "RecoveryApproval",
    request: request.id,
    community: request.community,
    oldIdentity: request.oldIdentity,
    newIdentity: request.newIdentity,
    actor: didOf(signer),
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedRecoveryApproval>;
}

/** Signed by the OLD key: stops a recovery during its contest window. */
export function signRecoveryCancel(
  signer: Signer,
  request: { id: string; community: string; oldIdentity: string; newIdentity: string },
  published = now(),
): Promise<SignedRecoveryCancel> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "RecoveryCancel",
    request: request.id,
    community: request.community,
    oldIdentity: request.oldIdentity,
    newIdentity: request.newIdentity,
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedRecoveryCancel>;
}
