import { base64urlnopad, hex } from "@scure/base";

export function randomToken(bytes = 32): string {
  return base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

const base32 = "abcdefghijklmnopqrstuvwxyz234567";

/** A short random identifier: lowercase base32, 10 characters (50 bits). */
export function shortId(length = 10): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => base32[b & 31]).join("");
}

export async function sha256Hex(text: string | Uint8Array): Promise<string> {
  const data = typeof text === "string" ? new TextEncoder().encode(text) : text;
  return hex.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource)));
}

const uuidPattern = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUrnUuid(value: unknown): value is string {
  return typeof value === "string" && uuidPattern.test(value);
}

export function newUrnUuid(): string {
  return `urn:uuid:${crypto.randomUUID()}`;
}
