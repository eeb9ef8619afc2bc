/**
 * The Data Integrity suites capabilities use:
 * - delegations: DataIntegrityProof with eddsa-rdfc-2022 (RDF
 *   canonicalization; what other ZCAP implementations expect);
 * - invocations: DataIntegrityProof with eddsa-jcs-2022 (JCS; about 25x
 *   cheaper to verify than RDFC, and it signs the exact JSON, so terms no
 *   context defines are covered too).
 *
 * Verifying a chain canonicalizes every delegation again (jsonld.toRDF is
 * most of the cost), so verified delegation proofs are cached: see
 * `DelegationProofCache`.
 */
// deno-lint-ignore-file no-explicit-any
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import { createSignCryptosuite, createVerifyCryptosuite } from "@digitalbazaar/eddsa-jcs-2022-cryptosuite";
import { sha256 } from "@noble/hashes/sha2.js";
import { canonicalize } from "../crypto/jcs.ts";
import type { SuiteSigner } from "./signer.ts";

export const RDFC = "eddsa-rdfc-2022";
export const JCS = "eddsa-jcs-2022";

/** A suite signing delegations (eddsa-rdfc-2022). */
export function delegationSigningSuite(signer: SuiteSigner, date: Date): any {
  return new DataIntegrityProof({ signer, date, cryptosuite: eddsaRdfc2022 });
}

/** A suite signing invocations (eddsa-jcs-2022). */
export function invocationSigningSuite(signer: SuiteSigner, date: Date): any {
  return new DataIntegrityProof({ signer, date, cryptosuite: createSignCryptosuite() });
}

interface CachedMethod {
  id: string;
  type: string;
  controller: string;
  publicKeyMultibase: string;
  until: number;
}

const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Delegation proofs already verified, keyed by SHA-256 of the JCS form of
 * the delegated capability (without its proof) and its proof, so only the
 * very same bytes hit. An entry lives `ttlMs` at most (and the oldest are
 * dropped past `maxEntries`). It only stands for the signature: the
 * verification method is resolved again on every hit and must still be the
 * same key of the same controller (a rotated or dropped key misses), and
 * zcap's purpose checks (controllers, attenuation, expiry, revocation) run
 * on every verification.
 */
export class DelegationProofCache {
  readonly #entries = new Map<string, CachedMethod>();
  hits = 0;
  misses = 0;

  constructor(readonly ttlMs = 10 * 60_000, readonly maxEntries = 10_000) {}

  key(document: unknown, proof: unknown): string | null {
    try {
      return hex(sha256(encoder.encode(canonicalize([document, proof]))));
    } catch {
      return null;
    }
  }

  get(key: string): CachedMethod | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.until <= Date.now()) {
      this.#entries.delete(key);
      return null;
    }
    return entry;
  }

  set(key: string, method: any): void {
    if (
      typeof method?.id !== "string" || typeof method.controller !== "string" ||
      typeof method.publicKeyMultibase !== "string"
    ) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, {
      id: method.id,
      type: String(method.type),
      controller: method.controller,
      publicKeyMultibase: method.publicKeyMultibase,
      until: Date.now() + this.ttlMs,
    });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.hits = 0;
    this.misses = 0;
  }

  get size(): number {
    return this.#entries.size;
  }
}

function sameMethod(method: any, cached: CachedMethod): boolean {
  return method?.id === cached.id && String(method.type) === cached.type &&
    method.controller === cached.controller && method.publicKeyMultibase === cached.publicKeyMultibase;
}

interface VerifyingSuite {
  verifyProof(options: any): Promise<any>;
  getVerificationMethod(options: any): Promise<any>;
}

const VerifyingDataIntegrityProof = DataIntegrityProof as unknown as new (
  options: { cryptosuite: unknown },
) => VerifyingSuite;

/** eddsa-rdfc-2022 verification that remembers verified delegation proofs. */
class CachingDataIntegrityProof extends VerifyingDataIntegrityProof {
  readonly #cache: DelegationProofCache;

  constructor(cache: DelegationProofCache) {
    super({ cryptosuite: eddsaRdfc2022 });
    this.#cache = cache;
  }

  override async verifyProof(options: any): Promise<any> {
    const { proof, document, documentLoader } = options;
    if (proof?.proofPurpose !== "capabilityDelegation") return await super.verifyProof(options);
    const key = this.#cache.key(document, proof);
    if (key === null) return await super.verifyProof(options);
    const cached = this.#cache.get(key);
    if (cached) {
      let method: any;
      try {
        method = await this.getVerificationMethod({ proof, documentLoader });
      } catch (error) {
        return { verified: false, error };
      }
      if (sameMethod(method, cached)) {
        this.#cache.hits++;
        return { verified: true, verificationMethod: method };
      }
      this.#cache.delete(key);
    }
    this.#cache.misses++;
    const result = await super.verifyProof(options);
    if (result?.verified === true) this.#cache.set(key, result.verificationMethod);
    return result;
  }
}

/** The process-wide cache of verified delegation proofs. */
export const delegationProofCache = new DelegationProofCache();

const rdfcVerifySuite = new CachingDataIntegrityProof(delegationProofCache);
const jcsVerifySuite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });
const plainRdfcVerifySuite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });

/**
 * The suites that verify an invocation and its chain: eddsa-jcs-2022 and
 * eddsa-rdfc-2022, with or without the delegation cache.
 */
export function verifySuites(useCache = true): any[] {
  return [jcsVerifySuite, useCache ? rdfcVerifySuite : plainRdfcVerifySuite];
}
