/**
 * X25519 from Ed25519 (@noble/curves): a member's key agreement key is the
 * birational map of their did:key. Kept apart from didkey.ts so the server,
 * which never agrees keys, does not load the curve library.
 */
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { publicKeyFromDid } from "./didkey.ts";

export { x25519 };

/** The X25519 key agreement key did:key derives from the Ed25519 key. */
export function x25519PublicKeyFromDid(did: string): Uint8Array {
  return ed25519.utils.toMontgomery(publicKeyFromDid(did));
}
