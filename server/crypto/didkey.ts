/** did:key for Ed25519 (https://w3c-ccg.github.io/did-key-spec/). */
import { base58 } from "@scure/base";

const ED25519_PUB = [0xed, 0x01];
const X25519_PUB = [0xec, 0x01];

function multibaseKey(prefix: number[], key: Uint8Array): string {
  const bytes = new Uint8Array(prefix.length + key.length);
  bytes.set(prefix);
  bytes.set(key, prefix.length);
  return `z${base58.encode(bytes)}`;
}

/** publicKeyMultibase of an Ed25519 key: base58btc of 0xed01 || key. */
export function ed25519Multibase(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return multibaseKey(ED25519_PUB, publicKey);
}

export function x25519Multibase(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new Error("an X25519 public key is 32 bytes");
  return multibaseKey(X25519_PUB, publicKey);
}

export function didFromPublicKey(publicKey: Uint8Array): string {
  return `did:key:${ed25519Multibase(publicKey)}`;
}

export class InvalidDidError extends Error {
  override name = "InvalidDidError";
}

/** Decodes an Ed25519 publicKeyMultibase; throws InvalidDidError otherwise. */
export function publicKeyFromMultibase(multibase: string): Uint8Array {
  if (!multibase.startsWith("z6Mk")) throw new InvalidDidError("not an Ed25519 multibase key");
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(multibase.slice(1));
  } catch {
    throw new InvalidDidError("key is not valid base58btc");
  }
  if (bytes.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) {
    throw new InvalidDidError("not a 32-byte Ed25519 key");
  }
  return bytes.slice(2);
}

const didKeyPattern = /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44,45}$/;

export function isDidKey(value: unknown): value is string {
  return typeof value === "string" && didKeyPattern.test(value);
}

/** The Ed25519 public key a did:key names. */
export function publicKeyFromDid(did: string): Uint8Array {
  if (!did.startsWith("did:key:")) throw new InvalidDidError("not a did:key");
  return publicKeyFromMultibase(did.slice("did:key:".length));
}

/** The verification method id of a did:key's Ed25519 key. */
export function verificationMethodOf(did: string): string {
  return `${did}#${did.slice("did:key:".length)}`;
}

/** The DID a did:key verification method belongs to, if well-formed. */
export function didOfVerificationMethod(vm: string): string | null {
  const hash = vm.indexOf("#");
  if (hash < 0) return null;
  const did = vm.slice(0, hash);
  if (!isDidKey(did) || vm.slice(hash + 1) !== did.slice("did:key:".length)) return null;
  return did;
}
