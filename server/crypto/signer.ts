import type { Signer } from "./dataIntegrity.ts";
import { verificationMethodOf } from "./didkey.ts";
import { importSigningKey, signBytes } from "./ed25519.ts";

export interface KeySigner extends Signer {
  did: string;
}

/** A signer over a WebCrypto Ed25519 private key held for `did`. */
export function keySigner(did: string, key: CryptoKey): KeySigner {
  return {
    did,
    verificationMethod: verificationMethodOf(did),
    sign: (data) => signBytes(key, data),
  };
}

export async function signerFromSecret(did: string, secret: Uint8Array): Promise<KeySigner> {
  return keySigner(did, await importSigningKey(secret));
}
