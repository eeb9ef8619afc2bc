/**
 * Device pairing cryptography (docs/identity.md, "Adding a device"). Pure
 * and isomorphic: the browser bundle and the tests use it; the server only
 * ever handles its outputs (public keys and ciphertext).
 *
 *   the new device    x25519 key pair (r, R), kept in the page's memory
 *   the signed-in one x25519 key pair (s, S), used once
 *   shared            X25519(s, R)  (refused if all zero)
 *   key               HKDF-SHA256(shared, salt = S || R, info = context)
 *   box               XChaCha20-Poly1305(key, random 24-byte nonce,
 *                     plaintext = the 32-byte Ed25519 secret, aad = context)
 *   context           "harmony/device-pairing/v1|" + code + "|" + DID
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";

export const PAIRING_CONTEXT = "harmony/device-pairing/v1";
/** Crockford's base32: no I, L, O or U, so codes read back without confusion. */
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const CODE_LENGTH = 8;
/** The sealed secret: 32 bytes plus the 16-byte Poly1305 tag. */
export const SEALED_LENGTH = 48;

const encoder = new TextEncoder();

export interface PairingKeys {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface SealedKey {
  /** base64url: the sender's one-time X25519 public key (32 bytes). */
  senderPublicKey: string;
  /** base64url: the XChaCha20 nonce (24 bytes). */
  nonce: string;
  /** base64url: the sealed Ed25519 secret (48 bytes). */
  ciphertext: string;
}

export function newPairingKeys(): PairingKeys {
  const secretKey = x25519.utils.randomSecretKey();
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** A random pairing code, 8 characters (40 bits). */
export function newPairingCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(CODE_LENGTH));
  return Array.from(bytes, (b) => CODE_ALPHABET[b & 31]).join("");
}

/** The code as typed ("abcd-efgh", "ABCD EFGH", O for 0...) in canonical form, or null. */
export function normalizePairingCode(text: string): string | null {
  const code = text.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
  if (code.length !== CODE_LENGTH) return null;
  for (const ch of code) if (!CODE_ALPHABET.includes(ch)) return null;
  return code;
}

/** "ABCD-EFGH". */
export function formatPairingCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What both screens show, to compare before sending the key: four groups
 * of four digits from SHA-256 of the new device's public key (about 53 bits).
 */
export function pairingFingerprint(publicKey: Uint8Array): string {
  const digest = sha256(publicKey);
  const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) groups.push(String(view.getUint32(i * 4) % 10000).padStart(4, "0"));
  return groups.join(" ");
}

function context(code: string, did: string): Uint8Array {
  return encoder.encode(`${PAIRING_CONTEXT}|${code}|${did}`);
}

function boxKey(
  secretKey: Uint8Array,
  peer: Uint8Array,
  sender: Uint8Array,
  receiver: Uint8Array,
  info: Uint8Array,
) {
  const shared = x25519.getSharedSecret(secretKey, peer);
  if (shared.every((b) => b === 0)) throw new Error("the pairing key is not a valid X25519 public key");
  const salt = new Uint8Array(64);
  salt.set(sender);
  salt.set(receiver, 32);
  const key = hkdf(sha256, shared, salt, info, 32);
  shared.fill(0);
  return key;
}

export function decodeKey(text: unknown, length: number, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    if (typeof text !== "string") throw new Error();
    bytes = base64urlnopad.decode(text);
  } catch {
    throw new Error(`${what} must be base64url without padding`);
  }
  if (bytes.length !== length) throw new Error(`${what} must be ${length} bytes`);
  return bytes;
}

/** Seals the member's 32-byte Ed25519 secret for the new device's public key. */
export function sealKeyForDevice(
  secret: Uint8Array,
  receiverPublicKey: Uint8Array,
  code: string,
  did: string,
): SealedKey {
  if (secret.length !== 32) throw new Error("the secret to send is 32 bytes");
  const sender = newPairingKeys();
  const info = context(code, did);
  const key = boxKey(sender.secretKey, receiverPublicKey, sender.publicKey, receiverPublicKey, info);
  sender.secretKey.fill(0);
  const nonce = crypto.getRandomValues(new Uint8Array(24));
  const ciphertext = xchacha20poly1305(key, nonce, info).encrypt(secret);
  key.fill(0);
  return {
    senderPublicKey: base64urlnopad.encode(sender.publicKey),
    nonce: base64urlnopad.encode(nonce),
    ciphertext: base64urlnopad.encode(ciphertext),
  };
}

/** Opens what `sealKeyForDevice` sealed; throws if anything was changed on the way. */
export function openSealedKey(
  sealed: SealedKey,
  receiver: PairingKeys,
  code: string,
  did: string,
): Uint8Array {
  const senderPublicKey = decodeKey(sealed.senderPublicKey, 32, "senderPublicKey");
  const nonce = decodeKey(sealed.nonce, 24, "nonce");
  const ciphertext = decodeKey(sealed.ciphertext, SEALED_LENGTH, "ciphertext");
  const info = context(code, did);
  const key = boxKey(receiver.secretKey, senderPublicKey, senderPublicKey, receiver.publicKey, info);
  try {
    return xchacha20poly1305(key, nonce, info).decrypt(ciphertext);
  } catch {
    throw new Error("the key could not be opened: it was not sealed for this device, or it was altered");
  } finally {
    key.fill(0);
  }
}
