/**
 * The documents members sign (eddsa-jcs-2022, see docs/api.md): their
 * exact shapes, checked before any signature is verified, so malformed
 * input is refused with a clear reason and never reaches storage.
 */
import { isDidKey } from "./crypto/didkey.ts";
import { type DataIntegrityProof, verify } from "./crypto/dataIntegrity.ts";
import { HarmonyError, invalid } from "./errors.ts";
import { isUrnUuid } from "./ids.ts";
import { HARMONY_CONTEXT_URL } from "./vocab.ts";

export interface SignedMessage {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "Message";
  id: string;
  channel: string;
  attributedTo: string;
  content: string;
  published: string;
  /** Who the message mentions: member DIDs and role IRIs (server/attention/mentions.ts). */
  mentions?: string[];
  proof: DataIntegrityProof;
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
    optional: { mentions: "mentions" },
    signerField: "attributedTo",
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
