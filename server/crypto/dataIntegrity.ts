/**
 * Data Integrity proofs with the eddsa-jcs-2022 cryptosuite
 * (https://www.w3.org/TR/vc-di-eddsa/#eddsa-jcs-2022). Used for every
 * document a member signs: sign-in presentations, messages, edits,
 * deletions and profiles. Pure and isomorphic: runs in Deno and browsers.
 */
import { base58 } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { canonicalize } from "./jcs.ts";
import { didOfVerificationMethod, publicKeyFromDid } from "./didkey.ts";
import { verifyBytes } from "./ed25519.ts";

export interface DataIntegrityProof {
  "@context"?: unknown;
  type: "DataIntegrityProof";
  cryptosuite: "eddsa-jcs-2022";
  created?: string;
  expires?: string;
  verificationMethod: string;
  proofPurpose: string;
  challenge?: string;
  domain?: string;
  proofValue: string;
}

export type ProofOptions = Omit<DataIntegrityProof, "proofValue" | "type" | "cryptosuite">;

export interface Signer {
  verificationMethod: string;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export type Secured<T> = T & { proof: DataIntegrityProof };

const encoder = new TextEncoder();

// Synchronous SHA-256: documents are small, and WebCrypto's digest costs a
// round trip to another thread for each one.
function sha256Of(text: string): Uint8Array {
  return sha256(encoder.encode(text));
}

/** hashData = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document)). */
export function hashData(
  document: Record<string, unknown>,
  proofConfig: Record<string, unknown>,
): Uint8Array {
  const configHash = sha256Of(canonicalize(proofConfig));
  const documentHash = sha256Of(canonicalize(document));
  const out = new Uint8Array(64);
  out.set(configHash);
  out.set(documentHash, 32);
  return out;
}

export async function sign<T extends Record<string, unknown>>(
  document: T,
  signer: Signer,
  options: Omit<ProofOptions, "verificationMethod">,
): Promise<Secured<T>> {
  const { proof: _drop, ...unsecured } = document as T & { proof?: unknown };
  const proofConfig: Record<string, unknown> = {
    type: "DataIntegrityProof",
    cryptosuite: "eddsa-jcs-2022",
    ...options,
    verificationMethod: signer.verificationMethod,
  };
  if (unsecured["@context"] !== undefined) proofConfig["@context"] = unsecured["@context"];
  const signature = await signer.sign(hashData(unsecured, proofConfig));
  const proof = {
    ...proofConfig,
    proofValue: `z${base58.encode(signature)}`,
  } as unknown as DataIntegrityProof;
  return { ...(unsecured as T), proof };
}

export type VerifyResult =
  | { verified: true; signer: string; proof: DataIntegrityProof }
  | { verified: false; error: string };

function isPrefixOf(prefix: unknown, context: unknown): boolean {
  const a = Array.isArray(prefix) ? prefix : [prefix];
  const b = Array.isArray(context) ? context : [context];
  return a.length <= b.length && a.every((item, i) => canonicalize(item) === canonicalize(b[i]));
}

/**
 * Verifies an eddsa-jcs-2022 proof whose verification method is a
 * did:key. Returns the signing DID; checks of purpose, challenge, domain
 * and time are the caller's, on `proof`.
 */
export async function verify(document: unknown): Promise<VerifyResult> {
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return { verified: false, error: "the signed document must be a JSON object" };
  }
  const { proof, ...unsecured } = document as Record<string, unknown>;
  if (typeof proof !== "object" || proof === null || Array.isArray(proof)) {
    return { verified: false, error: "the document has no proof" };
  }
  const p = proof as Record<string, unknown>;
  if (p.type !== "DataIntegrityProof" || p.cryptosuite !== "eddsa-jcs-2022") {
    return { verified: false, error: "the proof must be a DataIntegrityProof using eddsa-jcs-2022" };
  }
  if (typeof p.proofValue !== "string" || !p.proofValue.startsWith("z")) {
    return { verified: false, error: "the proof value must be base58btc multibase" };
  }
  if (typeof p.verificationMethod !== "string") {
    return { verified: false, error: "the proof names no verification method" };
  }
  const did = didOfVerificationMethod(p.verificationMethod);
  if (!did) return { verified: false, error: "the verification method must be a did:key key" };
  let signature: Uint8Array;
  try {
    signature = base58.decode(p.proofValue.slice(1));
  } catch {
    return { verified: false, error: "the proof value is not valid base58btc" };
  }
  const { proofValue: _value, ...proofConfig } = p;
  if (proofConfig["@context"] !== undefined) {
    if (!isPrefixOf(proofConfig["@context"], unsecured["@context"])) {
      return { verified: false, error: "the proof's @context does not match the document's" };
    }
  } else if (unsecured["@context"] !== undefined) {
    proofConfig["@context"] = unsecured["@context"];
  }
  let data: Uint8Array;
  try {
    data = hashData(unsecured, proofConfig);
  } catch (error) {
    return { verified: false, error: `the document cannot be canonicalized: ${(error as Error).message}` };
  }
  if (!(await verifyBytes(publicKeyFromDid(did), signature, data))) {
    return { verified: false, error: "the signature does not match the document" };
  }
  return { verified: true, signer: did, proof: p as unknown as DataIntegrityProof };
}
