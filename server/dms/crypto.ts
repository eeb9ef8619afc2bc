/**
 * End-to-end encrypted direct messages (docs/dms.md). Pure and isomorphic:
 * the browser, the command-line client and the server's checks share it.
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
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { canonicalize } from "../crypto/jcs.ts";
import { type DataIntegrityProof, sign, type Signer, verify } from "../crypto/dataIntegrity.ts";
import { isDidKey, x25519PublicKeyFromDid } from "../crypto/didkey.ts";
import { HarmonyError, invalid } from "../errors.ts";
import { isUrnUuid } from "../ids.ts";
import { HARMONY_CONTEXT_URL } from "../vocab.ts";

export const DM_PROTOCOL = "harmony-dm-v1";
export const DM_ENCRYPTION = "X25519-HKDF-SHA256-XChaCha20Poly1305";
/** Padded plaintext sizes; the largest bounds a message (4-byte length prefix included). */
export const PAD_BUCKETS = [256, 1024, 4096, 16384] as const;
const TAG_BYTES = 16;
export const MAX_CIPHERTEXT_BYTES = PAD_BUCKETS[PAD_BUCKETS.length - 1] + TAG_BYTES;
/** The longest text a DM may carry (its JSON must also fit the largest bucket). */
export const MAX_DM_CHARS = 4000;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

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

/** What can compute X25519 with the member's agreement key: bytes (CLI) or a WebCrypto key (browser). */
export interface Agreement {
  did: string;
  agree(peerPublic: Uint8Array): Promise<Uint8Array>;
}

export function secretAgreement(did: string, agreementSecret: Uint8Array): Agreement {
  return { did, agree: (peer) => Promise.resolve(x25519.getSharedSecret(agreementSecret, peer)) };
}

/** A non-extractable WebCrypto X25519 private key (the browser keeps one beside the signing key). */
export function webCryptoAgreement(did: string, privateKey: CryptoKey): Agreement {
  return {
    did,
    async agree(peer) {
      const publicKey = await crypto.subtle.importKey(
        "raw",
        peer as BufferSource,
        { name: "X25519" },
        true,
        [],
      );
      return new Uint8Array(
        await crypto.subtle.deriveBits({ name: "X25519", public: publicKey } as Algorithm, privateKey, 256),
      );
    },
  };
}

const sorted = (a: string, b: string) => (a < b ? [a, b] : [b, a]);

/** The conversation of two DIDs: the same whoever asks (32 hex digits). */
export function conversationId(a: string, b: string): string {
  const digest = sha256(encoder.encode(`${DM_PROTOCOL}\nconversation\n${sorted(a, b).join("\n")}`));
  return Array.from(digest.slice(0, 16), (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The symmetric key of the conversation between `agreement.did` and `peer`. */
export async function conversationKey(agreement: Agreement, peer: string): Promise<Uint8Array> {
  if (!isDidKey(peer)) throw new Error("the peer must be an Ed25519 did:key");
  const shared = await agreement.agree(x25519PublicKeyFromDid(peer));
  // A low-order peer key gives the all-zero secret: refuse it rather than encrypt under a known key.
  if (shared.every((byte) => byte === 0)) throw new Error("the key agreement gave a degenerate secret");
  const [first, second] = sorted(agreement.did, peer);
  const salt = sha256(encoder.encode(`${DM_PROTOCOL}\nsalt\n${first}\n${second}`));
  const info = encoder.encode(`${DM_PROTOCOL}\nkey\n${first}\n${second}`);
  const key = hkdf(sha256, shared, salt, info, 32);
  shared.fill(0);
  return key;
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

/** Encrypts and signs a DM from `signer` (whose agreement key `agreement` holds) to `recipient`. */
export async function sealDm(options: {
  agreement: Agreement;
  signer: Signer;
  recipient: string;
  content: string;
  id?: string;
  published?: string;
}): Promise<EncryptedMessage> {
  const { agreement, signer, recipient, content } = options;
  if (!isDidKey(recipient)) throw new Error("the recipient must be an Ed25519 did:key");
  if (recipient === agreement.did) throw new Error("a direct message goes to someone else");
  if (content.length === 0 || content.length > MAX_DM_CHARS) {
    throw invalid("invalid_content", `a direct message has 1 to ${MAX_DM_CHARS} characters`);
  }
  const head = {
    "@context": HARMONY_CONTEXT_URL as typeof HARMONY_CONTEXT_URL,
    type: "EncryptedMessage" as const,
    id: options.id ?? `urn:uuid:${crypto.randomUUID()}`,
    attributedTo: agreement.did,
    recipient,
    published: options.published ?? new Date().toISOString(),
    encryption: DM_ENCRYPTION as typeof DM_ENCRYPTION,
  };
  const key = await conversationKey(agreement, recipient);
  const nonce = crypto.getRandomValues(new Uint8Array(24));
  const plaintext = pad(encoder.encode(JSON.stringify({ content } satisfies DmPlaintext)));
  const ciphertext = xchacha20poly1305(key, nonce, additionalData(head)).encrypt(plaintext);
  key.fill(0);
  plaintext.fill(0);
  return await sign(
    { ...head, nonce: base64urlnopad.encode(nonce), ciphertext: base64urlnopad.encode(ciphertext) },
    signer,
    { proofPurpose: "assertionMethod", created: head.published },
  ) as EncryptedMessage;
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

/**
 * Verifies and decrypts an envelope as one of its two participants. Any
 * change to the envelope (a flipped ciphertext bit, another recipient, id
 * or time, a forged signature) or a key of someone else makes it throw.
 */
export async function openDm(
  agreement: Agreement,
  value: unknown,
): Promise<DmPlaintext & { envelope: EncryptedMessage }> {
  const envelope = await checkEnvelope(value);
  const peer = peerOf(envelope, agreement.did);
  if (!peer) throw new Error("this direct message is between two other people");
  const key = await conversationKey(agreement, peer);
  let plain: Uint8Array;
  try {
    plain = xchacha20poly1305(key, base64urlnopad.decode(envelope.nonce), additionalData(envelope))
      .decrypt(base64urlnopad.decode(envelope.ciphertext));
  } catch {
    throw new Error("the direct message cannot be decrypted (wrong key or altered)");
  } finally {
    key.fill(0);
  }
  const parsed = JSON.parse(decoder.decode(unpad(plain))) as Partial<DmPlaintext>;
  if (typeof parsed.content !== "string") throw new Error("the decrypted message has no text");
  return { content: parsed.content, envelope };
}
