/**
 * Signers in the shape the @digitalbazaar suites take
 * (`new DataIntegrityProof({ signer, cryptosuite })`), over WebCrypto
 * Ed25519 keys.
 */
import { base64urlnopad } from "@scure/base";
import { importSigningKey, signBytes } from "../crypto/ed25519.ts";
import type { Signer } from "../crypto/dataIntegrity.ts";

export interface SuiteSigner {
  /** The verification method id the proofs name (`did:key:…#…` or `https://actor#key`). */
  id: string;
  algorithm: "Ed25519";
  sign(options: { data: Uint8Array }): Promise<Uint8Array>;
}

/** A suite signer over a WebCrypto Ed25519 private key. */
export function suiteSigner(verificationMethod: string, privateKey: CryptoKey): SuiteSigner {
  return {
    id: verificationMethod,
    algorithm: "Ed25519",
    sign: ({ data }) => signBytes(privateKey, data),
  };
}

/** The suite signer view of one of our own signers (server/crypto/signer.ts). */
export function suiteSignerOf(signer: Signer): SuiteSigner {
  return { id: signer.verificationMethod, algorithm: "Ed25519", sign: ({ data }) => signer.sign(data) };
}

/** A suite signer from a 32-byte Ed25519 secret seed. */
export async function suiteSignerFromSecret(
  verificationMethod: string,
  secret: Uint8Array,
): Promise<SuiteSigner> {
  return suiteSigner(verificationMethod, await importSigningKey(secret));
}

/** A suite signer from an Ed25519 private JWK (as the actor_keys table stores them). */
export async function suiteSignerFromJwk(
  verificationMethod: string,
  privateJwk: JsonWebKey,
): Promise<SuiteSigner> {
  if (privateJwk.kty !== "OKP" || privateJwk.crv !== "Ed25519" || typeof privateJwk.d !== "string") {
    throw new Error("not an Ed25519 private JWK");
  }
  return await suiteSignerFromSecret(verificationMethod, base64urlnopad.decode(privateJwk.d));
}
