/**
 * Sealing and opening direct messages: what the two participants do (the
 * browser and the command-line client), never the server, which only
 * checks envelopes (crypto.ts). The scheme is described there.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { sign, type Signer } from "../crypto/dataIntegrity.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { x25519, x25519PublicKeyFromDid } from "../crypto/x25519.ts";
import { invalid } from "../shared/errors.ts";
import { HARMONY_CONTEXT_URL } from "../rdf/vocab.ts";
import {
  additionalData,
  checkEnvelope,
  DM_ENCRYPTION,
  DM_PROTOCOL,
  type DmPlaintext,
  type EncryptedMessage,
  MAX_DM_CHARS,
  pad,
  peerOf,
  sorted,
  unpad,
} from "./crypto.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

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
