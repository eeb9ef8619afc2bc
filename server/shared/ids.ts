import { base64urlnopad, hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";

/**
 * A random base64url token of `bytes` bytes. Never starts with "-", so a
 * token pasted after a command (`harmony claim <token>`) is not read as an
 * option: about 1 in 64 would otherwise; redrawing costs under 0.03 bits.
 */
export function randomToken(bytes = 32): string {
  for (;;) {
    const token = base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(bytes)));
    if (!token.startsWith("-")) return token;
  }
}

const base32 = "abcdefghijklmnopqrstuvwxyz234567";

/** A short random identifier: lowercase base32, 10 characters (50 bits). */
export function shortId(length = 10): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => base32[b & 31]).join("");
}

/** SHA-256 in hex; synchronous underneath (small inputs, no thread hop), async for its callers. */
export function sha256Hex(text: string | Uint8Array): Promise<string> {
  const data = typeof text === "string" ? new TextEncoder().encode(text) : text;
  return Promise.resolve(hex.encode(sha256(data)));
}

const uuidPattern = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUrnUuid(value: unknown): value is string {
  return typeof value === "string" && uuidPattern.test(value);
}

/**
 * A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds,
 * then random bits. Ids made one after another sort one after another, so
 * inserting them touches the end of an index rather than random pages.
 */
export function uuidv7(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 0; i < 6; i++) bytes[i] = Math.floor(now / 2 ** (8 * (5 - i))) & 0xff;
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function newUrnUuid(): string {
  return `urn:uuid:${uuidv7()}`;
}
