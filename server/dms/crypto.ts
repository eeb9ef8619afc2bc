/**
 * End-to-end encrypted direct messages (docs/dms.md): the envelope, and the
 * checks anyone can make of it without a key. Pure and isomorphic: the
 * browser, the command-line client and the server share it. Encrypting and
 * decrypting, which only the two participants do, is in seal.ts.
 *
 * - Keys: each member's X25519 key is birationally mapped from their
 *   Ed25519 key (server/crypto/derive.ts), so a peer's public agreement key
 *   is computed from their did:key; there is no key directory to trust.
 * - Key: X25519(mine, theirs) -> HKDF-SHA256(salt = SHA-256(label, both
 *   DIDs sorted), info = label, both DIDs sorted) -> 32 bytes, the same for
 *   both participants of the conversation.
 * - Message: XChaCha20-Poly1305 with a random 24-byte nonce; the additional
 *   data is the JCS of every envelope field but nonce and ciphertext (who,
 *   to whom, which id, when, which scheme); the plaintext is padded to a
 *   size bucket.
 * - Envelope: an eddsa-jcs-2022 signed document of the sender, so servers
 *   check authorship and integrity without the plaintext.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { canonicalize } from "../crypto/jcs.ts";
import { type DataIntegrityProof, verify } from "../crypto/dataIntegrity.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { HarmonyError, invalid } from "../shared/errors.ts";
import { isUrnUuid } from "../shared/ids.ts";
import { HARMONY_CONTEXT_URL } from "../rdf/vocab.ts";

export const DM_PROTOCOL = "harmony-dm-v1";
export const DM_ENCRYPTION = "X25519-HKDF-SHA256-XChaCha20Poly1305";
/** Padded plaintext sizes; the largest bounds a message (4-byte length prefix included). */
export const PAD_BUCKETS = [256, 1024, 4096, 16384] as const;
const TAG_BYTES = 16;
export const MAX_CIPHERTEXT_BYTES = PAD_BUCKETS[PAD_BUCKETS.length - 1] + TAG_BYTES;
/** The longest text a DM may carry (its JSON must also fit the largest bucket). */
export const MAX_DM_CHARS = 4000;

const encoder = new TextEncoder();

export interface EncryptedMessage {
  "@context": typeof HARMONY_CONTEXT_URL;
  type: "EncryptedMessage";
  id: string;
  attributedTo: string;
  recipient: string;
  published: string;
  encryption: typeof DM_ENCRYPTION;
  nonce: string;
  ciphertext: string;
  proof: DataIntegrityProof;
}

export const sorted = (a: string, b: string) => (a < b ? [a, b] : [b, a]);

/** The conversation of two DIDs: the same whoever asks (32 hex digits). */
export function conversationId(a: string, b: string): string {
  const digest = sha256(encoder.encode(`${DM_PROTOCOL}\nconversation\n${sorted(a, b).join("\n")}`));
  return Array.from(digest.slice(0, 16), (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The additional data: every field the sender fixes, except nonce and ciphertext. */
export function additionalData(
  envelope: Omit<EncryptedMessage, "nonce" | "ciphertext" | "proof">,
): Uint8Array {
  return encoder.encode(canonicalize({
    "@context": envelope["@context"],
    type: envelope.type,
    id: envelope.id,
    attributedTo: envelope.attributedTo,
    recipient: envelope.recipient,
    published: envelope.published,
    encryption: envelope.encryption,
  }));
}

/** 4-byte big-endian length, the bytes, zeros up to the next bucket. */
export function pad(data: Uint8Array): Uint8Array {
  const bucket = PAD_BUCKETS.find((size) => size >= data.length + 4);
  if (!bucket) throw invalid("too_long", "the message is too long to send as a direct message");
  const out = new Uint8Array(bucket);
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(data, 4);
  return out;
}

export function unpad(padded: Uint8Array): Uint8Array {
  if (padded.length < 4) throw new Error("the padded plaintext is too short");
  const length = new DataView(padded.buffer, padded.byteOffset).getUint32(0);
  if (length > padded.length - 4) throw new Error("the padded plaintext's length is wrong");
  return padded.slice(4, 4 + length);
}

export interface DmPlaintext {
  content: string;
}

const fields = [
  "@context",
  "type",
  "id",
  "attributedTo",
  "recipient",
  "published",
  "encryption",
  "nonce",
  "ciphertext",
  "proof",
];
const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const b64url = /^[A-Za-z0-9_-]+$/;

function decoded(value: string, what: string): Uint8Array {
  try {
    return base64urlnopad.decode(value);
  } catch {
    throw invalid("malformed_envelope", `"${what}" is not base64url`);
  }
}

/**
 * Checks an envelope's exact shape, its sizes and its signature by its
 * sender (no key is needed: anyone can check, no one but the two
 * participants can read). Throws HarmonyError 422 / 413 / 401.
 */
export async function checkEnvelope(value: unknown): Promise<EncryptedMessage> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("malformed_envelope", "expected a signed EncryptedMessage object");
  }
  const doc = value as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!fields.includes(key)) throw invalid("malformed_envelope", `unexpected field "${key}"`);
  }
  if (doc["@context"] !== HARMONY_CONTEXT_URL) {
    throw invalid("malformed_envelope", `"@context" must be "${HARMONY_CONTEXT_URL}"`);
  }
  if (doc.type !== "EncryptedMessage") {
    throw invalid("malformed_envelope", '"type" must be "EncryptedMessage"');
  }
  if (!isUrnUuid(doc.id)) throw invalid("malformed_envelope", '"id" must be a urn:uuid');
  if (!isDidKey(doc.attributedTo)) throw invalid("malformed_envelope", '"attributedTo" must be a did:key');
  if (!isDidKey(doc.recipient)) throw invalid("malformed_envelope", '"recipient" must be a did:key');
  if (doc.recipient === doc.attributedTo) {
    throw invalid("malformed_envelope", "a direct message goes to someone else");
  }
  if (
    typeof doc.published !== "string" || !isoInstant.test(doc.published) ||
    Number.isNaN(Date.parse(doc.published))
  ) {
    throw invalid("malformed_envelope", '"published" must be an ISO 8601 UTC time');
  }
  if (doc.encryption !== DM_ENCRYPTION) {
    throw invalid("malformed_envelope", `"encryption" must be "${DM_ENCRYPTION}"`);
  }
  if (typeof doc.nonce !== "string" || !b64url.test(doc.nonce) || decoded(doc.nonce, "nonce").length !== 24) {
    throw invalid("malformed_envelope", '"nonce" must be 24 bytes, base64url');
  }
  if (typeof doc.ciphertext !== "string" || !b64url.test(doc.ciphertext)) {
    throw invalid("malformed_envelope", '"ciphertext" must be base64url');
  }
  if (doc.ciphertext.length > Math.ceil(MAX_CIPHERTEXT_BYTES * 4 / 3)) {
    throw new HarmonyError(
      413,
      "too_large",
      `a direct message's ciphertext is at most ${MAX_CIPHERTEXT_BYTES} bytes`,
    );
  }
  const size = decoded(doc.ciphertext, "ciphertext").length;
  if (!PAD_BUCKETS.some((bucket) => bucket + TAG_BYTES === size)) {
    throw invalid("malformed_envelope", "the ciphertext is not of a padded size");
  }
  const result = await verify(doc);
  if (!result.verified) {
    throw new HarmonyError(401, "bad_signature", `signature check failed: ${result.error}`);
  }
  if (result.proof.proofPurpose !== "assertionMethod") {
    throw new HarmonyError(401, "bad_signature", 'the proof purpose must be "assertionMethod"');
  }
  if (result.signer !== doc.attributedTo) {
    throw new HarmonyError(401, "bad_signature", "the envelope is signed by another key than its sender's");
  }
  return doc as unknown as EncryptedMessage;
}

/** The other participant of an envelope, seen from `me`; null if `me` is not one. */
export function peerOf(
  envelope: Pick<EncryptedMessage, "attributedTo" | "recipient">,
  me: string,
): string | null {
  if (envelope.attributedTo === me) return envelope.recipient;
  if (envelope.recipient === me) return envelope.attributedTo;
  return null;
}
