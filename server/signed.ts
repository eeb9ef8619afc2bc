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

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function isInstant(value: unknown): value is string {
  return typeof value === "string" && isoInstant.test(value) && !Number.isNaN(Date.parse(value));
}

type FieldKind = "did" | "uuid" | "iri" | "text" | "instant" | "const";

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
    signerField: "attributedTo",
  },
  Update: {
    type: "Update",
    fields: { actor: "did", object: "uuid", channel: "iri", content: "text", published: "instant" },
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
} satisfies Record<string, Shape>;

type ShapeName = keyof typeof shapes;
type Documents = {
  Message: SignedMessage;
  Update: SignedUpdate;
  Delete: SignedDelete;
  Profile: SignedProfile;
};

function checkField(name: string, kind: FieldKind, value: unknown): void {
  const ok = kind === "did"
    ? isDidKey(value)
    : kind === "uuid"
    ? isUrnUuid(value)
    : kind === "iri"
    ? typeof value === "string" && /^https?:\/\/\S+$/.test(value) && value.length <= 2048
    : kind === "instant"
    ? isInstant(value)
    : typeof value === "string";
  if (!ok) {
    const expected = {
      did: "an Ed25519 did:key",
      uuid: "a urn:uuid",
      iri: "an http(s) IRI",
      instant: "an ISO 8601 UTC time",
      text: "text",
      const: "",
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
