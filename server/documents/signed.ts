/**
 * The documents members sign (eddsa-jcs-2022, see docs/api.md): their
 * exact shapes, checked before any signature is verified, so malformed
 * input is refused with a clear reason and never reaches storage.
 */
import { isDidKey } from "../crypto/didkey.ts";
import { type DataIntegrityProof, verify } from "../crypto/dataIntegrity.ts";
import { HarmonyError, invalid } from "../shared/errors.ts";
import { isUrnUuid } from "../shared/ids.ts";
import { HARMONY_CONTEXT_URL } from "../rdf/vocab.ts";

/**
 * A file a message carries (server/files): the descriptor the server
 * returned for the upload, signed as part of the message.
 */
export interface Attachment {
  id: string;
  url: string;
  name: string;
  mediaType: string;
  size: number;
  /** "sha256-" and the base64 SHA-256 of the file's bytes. */
  digest: string;
  /** Pixel size, for images. */
  width?: number;
  height?: number;
}

export interface SignedMessage {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "Message";
  id: string;
  channel: string;
  attributedTo: string;
  content: string;
  published: string;
  /** Files, at most MAX_ATTACHMENTS (the community may allow fewer). */
  attachment?: Attachment[];
  /** The message this one replies to (same channel). */
  inReplyTo?: string;
  /** The root message of the thread this one belongs to (same channel). */
  thread?: string;
  /** Who the message mentions: member DIDs and role IRIs (server/attention/mentions.ts). */
  mentions?: string[];
  proof: DataIntegrityProof;
}

/** The most attachments a signed message may carry, whatever a community allows. */
export const MAX_ATTACHMENTS = 20;

const attachmentKeys = new Set(["id", "url", "name", "mediaType", "size", "digest", "width", "height"]);

/** Whether `value` has the shape of an attachment descriptor. */
export function isAttachment(value: unknown): value is Attachment {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const a = value as Record<string, unknown>;
  const dimension = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) > 0);
  return Object.keys(a).every((k) => attachmentKeys.has(k)) &&
    isUrnUuid(a.id) &&
    typeof a.url === "string" && /^https?:\/\/\S+$/.test(a.url) && a.url.length <= 2048 &&
    typeof a.name === "string" && a.name.length > 0 && a.name.length <= 255 &&
    typeof a.mediaType === "string" &&
    /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(a.mediaType) &&
    Number.isSafeInteger(a.size) && (a.size as number) >= 0 &&
    typeof a.digest === "string" && /^sha256-[A-Za-z0-9+/]{43}=$/.test(a.digest) &&
    dimension(a.width) && dimension(a.height);
}

export interface SignedUpdate {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "Update";
  actor: string;
  object: string;
  channel: string;
  content: string;
  published: string;
  /** The edited text's mentions: they replace the message's. */
  mentions?: string[];
  proof: DataIntegrityProof;
}

export interface SignedDelete {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "Delete";
  actor: string;
  object: string;
  channel: string;
  published: string;
  proof: DataIntegrityProof;
}

/** A reaction: one emoji on a message (an element added to an observed-remove set). */
export interface SignedReact {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "React";
  actor: string;
  object: string;
  channel: string;
  content: string;
  published: string;
  proof: DataIntegrityProof;
}

/** Takes reactions back: the ids of the React operations (by the same actor) it removes. */
export interface SignedUnreact {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "Unreact";
  actor: string;
  object: string;
  channel: string;
  content: string;
  removes: string[];
  published: string;
  proof: DataIntegrityProof;
}

/** Pins a message to its channel (Pin) or takes it down (Unpin): last writer wins. */
export interface SignedPin {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "Pin" | "Unpin";
  actor: string;
  object: string;
  channel: string;
  published: string;
  proof: DataIntegrityProof;
}

export interface SignedProfile {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "Profile";
  id: string;
  name: string;
  avatarType?: string;
  avatarHash?: string;
  updated: string;
  proof: DataIntegrityProof;
}

/** A member names who may vouch for them if they lose their key (server/recovery). */
export interface SignedRecoverySetup {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "RecoverySetup";
  id: string;
  community: string;
  actor: string;
  guardians: string[];
  threshold: number;
  published: string;
  proof: DataIntegrityProof;
}

/** Signed by the NEW key: "I am the member who held `oldIdentity`". */
export interface SignedRecoveryRequest {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "RecoveryRequest";
  id: string;
  community: string;
  oldIdentity: string;
  newIdentity: string;
  published: string;
  proof: DataIntegrityProof;
}

/** Signed by a guardian (`actor`) for one request. */
export interface SignedRecoveryApproval {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "RecoveryApproval";
  request: string;
  community: string;
  oldIdentity: string;
  newIdentity: string;
  actor: string;
  published: string;
  proof: DataIntegrityProof;
}

/** Signed by the OLD key during the contest window. */
export interface SignedRecoveryCancel {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "RecoveryCancel";
  request: string;
  community: string;
  oldIdentity: string;
  newIdentity: string;
  published: string;
  proof: DataIntegrityProof;
}

/**
 * A moderation or role action the acting member signs (server/moderation,
 * server/audit): `target` is the DID, channel, role, message or capability
 * acted on; `arguments` what was chosen (a duration, a reason, settings),
 * including `community`, the community it was signed for.
 */
export interface SignedAction {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "Action";
  action: string;
  actor: string;
  target: string;
  arguments?: Record<string, unknown>;
  published: string;
  proof: DataIntegrityProof;
}

/** The longest reaction, in UTF-16 code units (a family or flag sequence fits). */
export const MAX_EMOJI_LENGTH = 32;

/**
 * A reaction is one emoji: a single grapheme cluster (a flag, a keycap, a
 * ZWJ sequence count as one) that is pictographic, with no letters,
 * spaces or control characters around it.
 */
export function isEmoji(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_EMOJI_LENGTH) return false;
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(value)];
  if (graphemes.length !== 1) return false;
  if (/[\p{L}\p{Cc}\p{Z}]/u.test(value)) return false;
  return /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u.test(value);
}

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function isInstant(value: unknown): value is string {
  return typeof value === "string" && isoInstant.test(value) && !Number.isNaN(Date.parse(value));
}

type FieldKind =
  | "did"
  | "dids"
  | "integer"
  | "uuid"
  | "iri"
  | "text"
  | "instant"
  | "const"
  | "name"
  | "ref"
  | "object"
  | "attachments"
  | "message"
  | "emoji"
  | "opids"
  | "mentions";

interface Shape {
  type: string;
  fields: Record<string, FieldKind>;
  optional?: Record<string, FieldKind>;
  signerField: string;
}

const shapes = {
  Message: {
    type: "Message",
    fields: { id: "uuid", channel: "iri", attributedTo: "did", content: "text", published: "instant" },
    optional: { attachment: "attachments", inReplyTo: "message", thread: "message", mentions: "mentions" },
    signerField: "attributedTo",
  },
  React: {
    type: "React",
    fields: { actor: "did", object: "message", channel: "iri", content: "emoji", published: "instant" },
    signerField: "actor",
  },
  Unreact: {
    type: "Unreact",
    fields: {
      actor: "did",
      object: "message",
      channel: "iri",
      content: "emoji",
      removes: "opids",
      published: "instant",
    },
    signerField: "actor",
  },
  Pin: {
    type: "Pin",
    fields: { actor: "did", object: "message", channel: "iri", published: "instant" },
    signerField: "actor",
  },
  Unpin: {
    type: "Unpin",
    fields: { actor: "did", object: "message", channel: "iri", published: "instant" },
    signerField: "actor",
  },
  Update: {
    type: "Update",
    fields: { actor: "did", object: "uuid", channel: "iri", content: "text", published: "instant" },
    optional: { mentions: "mentions" },
    signerField: "actor",
  },
  Delete: {
    type: "Delete",
    fields: { actor: "did", object: "uuid", channel: "iri", published: "instant" },
    signerField: "actor",
  },
  Profile: {
    type: "Profile",
    fields: { id: "did", name: "text", updated: "instant" },
    optional: { avatarType: "text", avatarHash: "text" },
    signerField: "id",
  },
  RecoverySetup: {
    type: "RecoverySetup",
    fields: {
      id: "uuid",
      community: "iri",
      actor: "did",
      guardians: "dids",
      threshold: "integer",
      published: "instant",
    },
    signerField: "actor",
  },
  RecoveryRequest: {
    type: "RecoveryRequest",
    fields: { id: "uuid", community: "iri", oldIdentity: "did", newIdentity: "did", published: "instant" },
    signerField: "newIdentity",
  },
  RecoveryApproval: {
    type: "RecoveryApproval",
    fields: {
      request: "uuid",
      community: "iri",
      oldIdentity: "did",
      newIdentity: "did",
      actor: "did",
      published: "instant",
    },
    signerField: "actor",
  },
  RecoveryCancel: {
    type: "RecoveryCancel",
    fields: {
      request: "uuid",
      community: "iri",
      oldIdentity: "did",
      newIdentity: "did",
      published: "instant",
    },
    signerField: "oldIdentity",
  },
  Action: {
    type: "Action",
    fields: { action: "name", actor: "did", target: "ref", published: "instant" },
    optional: { arguments: "object" },
    signerField: "actor",
  },
} satisfies Record<string, Shape>;

type ShapeName = keyof typeof shapes;
type Documents = {
  Message: SignedMessage;
  Update: SignedUpdate;
  Delete: SignedDelete;
  React: SignedReact;
  Unreact: SignedUnreact;
  Pin: SignedPin;
  Unpin: SignedPin;
  Profile: SignedProfile;
  RecoverySetup: SignedRecoverySetup;
  RecoveryRequest: SignedRecoveryRequest;
  RecoveryApproval: SignedRecoveryApproval;
  RecoveryCancel: SignedRecoveryCancel;
  Action: SignedAction;
};

function checkField(name: string, kind: FieldKind, value: unknown): void {
  const ok = kind === "did"
    ? isDidKey(value)
    : kind === "dids"
    ? Array.isArray(value) && value.length <= 64 && value.every(isDidKey)
    : kind === "integer"
    ? Number.isSafeInteger(value)
    : kind === "uuid"
    ? isUrnUuid(value)
    : kind === "iri"
    ? typeof value === "string" && /^https?:\/\/\S+$/.test(value) && value.length <= 2048
    : kind === "instant"
    ? isInstant(value)
    : kind === "name"
    ? typeof value === "string" && /^[a-z][a-z-]{0,39}$/.test(value)
    : kind === "ref"
    ? isDidKey(value) || isUrnUuid(value) ||
      (typeof value === "string" && /^(https?:\/\/|urn:)\S+$/.test(value) && value.length <= 2048)
    : kind === "mentions"
    ? Array.isArray(value) && value.length <= 100 && value.every((v) =>
      isDidKey(v) || (typeof v === "string" && /^https?:\/\/\S+$/.test(v) && v.length <= 2048)
    )
    : kind === "object"
    ? typeof value === "object" && value !== null && !Array.isArray(value) &&
      JSON.stringify(value).length <= 8192
    : kind === "attachments"
    ? Array.isArray(value) && value.length >= 1 && value.length <= MAX_ATTACHMENTS &&
      value.every(isAttachment) &&
      new Set(value.map((a) => a.id)).size === value.length
    : kind === "message"
    ? isUrnUuid(value) ||
      (typeof value === "string" && /^https?:\/\/\S+$/.test(value) && value.length <= 2048)
    : kind === "emoji"
    ? isEmoji(value)
    : kind === "opids"
    ? Array.isArray(value) && value.length >= 1 && value.length <= 100 &&
      value.every((v) => typeof v === "string" && /^urn:harmony:op:[0-9a-f]{40}$/.test(v))
    : typeof value === "string";
  if (!ok) {
    const expected = {
      did: "an Ed25519 did:key",
      dids: "a list of Ed25519 did:keys",
      integer: "a whole number",
      uuid: "a urn:uuid",
      iri: "an http(s) IRI",
      instant: "an ISO 8601 UTC time",
      text: "text",
      const: "",
      name: "a lower-case action name",
      ref: "a DID, a URN or an http(s) IRI",
      object: "a JSON object (at most 8 KiB)",
      attachments: `a list of 1 to ${MAX_ATTACHMENTS} distinct file descriptors (see docs/api.md)`,
      message: "a message id (a urn:uuid or an http(s) IRI)",
      emoji: "one emoji (a single grapheme, at most 32 code units)",
      opids: "a list of 1 to 100 operation ids (urn:harmony:op:…)",
      mentions: "a list of member did:keys and role IRIs",
    }[kind];
    throw invalid("malformed_document", `"${name}" must be ${expected}`);
  }
}

/**
 * Checks a signed document's shape and its eddsa-jcs-2022 signature, and
 * that it was signed by the DID it names as author or actor.
 */
export async function verifySigned<N extends ShapeName>(name: N, document: unknown): Promise<Documents[N]> {
  const shape: Shape = shapes[name];
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw invalid("malformed_document", `expected a signed ${name} object`);
  }
  const doc = document as Record<string, unknown>;
  if (doc["@context"] !== HARMONY_CONTEXT_URL) {
    throw invalid("malformed_document", `"@context" must be "${HARMONY_CONTEXT_URL}"`);
  }
  if (doc.type !== shape.type) throw invalid("malformed_document", `"type" must be "${shape.type}"`);
  const allowed = new Set([
    "@context",
    "type",
    "proof",
    ...Object.keys(shape.fields),
    ...Object.keys(shape.optional ?? {}),
  ]);
  for (const key of Object.keys(doc)) {
    if (!allowed.has(key)) throw invalid("malformed_document", `unexpected field "${key}" in a ${name}`);
  }
  for (const [field, kind] of Object.entries(shape.fields)) checkField(field, kind, doc[field]);
  for (const [field, kind] of Object.entries(shape.optional ?? {})) {
    if (doc[field] !== undefined) checkField(field, kind, doc[field]);
  }
  const result = await verify(doc);
  if (!result.verified) {
    throw new HarmonyError(401, "bad_signature", `signature check failed: ${result.error}`);
  }
  if (result.proof.proofPurpose !== "assertionMethod") {
    throw new HarmonyError(401, "bad_signature", 'the proof purpose must be "assertionMethod"');
  }
  if (result.signer !== doc[shape.signerField]) {
    throw new HarmonyError(
      401,
      "bad_signature",
      `the ${name} is signed by another key than its "${shape.signerField}"`,
    );
  }
  return doc as unknown as Documents[N];
}

/** Refuses times far from the server's clock (a client-side clock gone wrong). */
export function checkClock(published: string, now = Date.now(), skewMs = 10 * 60_000): void {
  const t = Date.parse(published);
  if (Math.abs(t - now) > skewMs) {
    throw invalid(
      "clock_skew",
      "the signed time is more than 10 minutes away from the server's clock; check your clock",
    );
  }
}
