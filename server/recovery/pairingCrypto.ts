/**
 * Device pairing (docs/identity.md, "Adding a device"): codes, the
 * fingerprint both screens show, and the shapes the server relays. Pure and
 * isomorphic. Sealing and opening the key, which only the two devices do,
 * is in pairingBox.ts; the server only ever handles its outputs (public
 * keys and ciphertext). The scheme:
 *
 *   the new device    x25519 key pair (r, R), kept in the page's memory
 *   the signed-in one x25519 key pair (s, S), used once
 *   shared            X25519(s, R)  (refused if all zero)
 *   key               HKDF-SHA256(shared, salt = S || R, info = context)
 *   box               XChaCha20-Poly1305(key, random 24-byte nonce,
 *                     plaintext = the 32-byte Ed25519 secret, aad = context)
 *   context           "harmony/device-pairing/v1|" + code + "|" + DID
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";

export const PAIRING_CONTEXT = "harmony/device-pairing/v1";
/** Crockford's base32: no I, L, O or U, so codes read back without confusion. */
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const CODE_LENGTH = 8;
/** The sealed secret: 32 bytes plus the 16-byte Poly1305 tag. */
export const SEALED_LENGTH = 48;

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
