/**
 * Shared pieces of the credential tests. `plainVerifier` is what any
 * standard verifier does, with no Harmony code: @digitalbazaar/vc, the
 * public context packages from npm, did:key resolved by
 * @digitalbazaar/did-method-key, and the Harmony credentials context as the
 * instance publishes it at /ns/credentials/v1. Its document loader never
 * touches the network; status lists are fetched over HTTP beforehand, like
 * any other data a verifier needs.
 */
// deno-lint-ignore-file no-explicit-any
import * as vc from "@digitalbazaar/vc";
import { checkStatus as bslCheckStatus } from "@digitalbazaar/vc-bitstring-status-list";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { driver as didKeyDriver } from "@digitalbazaar/did-method-key";
import { contexts as credentialsContexts } from "@digitalbazaar/credentials-context";
import dataIntegrityContext from "@digitalbazaar/data-integrity-context";
import multikeyContext from "@digitalbazaar/multikey-context";
import didContext from "did-context";
import type { HarmonyClient } from "../../cli/client.ts";

export const HARMONY_CREDENTIALS_CONTEXT = "https://w3id.org/harmony/credentials/v1";

export interface CredentialJson {
  id: string;
  kind: "membership" | "role";
  role: string | null;
  issued: string;
  revoked: boolean;
  revokedAt: string | null;
  status: { statusListCredential: string; statusListIndex: number };
  credential: Record<string, any>;
}

export function credentialsOf(client: HarmonyClient): Promise<CredentialJson[]> {
  return client.request<CredentialJson[]>("GET", "/credentials");
}

export interface PlainVerifier {
  /** Verifies a credential (fetching its status lists over HTTP first). */
  verify(credential: unknown): Promise<any>;
  /** Why a result failed, as one line. */
  why(result: any): string;
}

/** A standard verifier that trusts the contexts of `origin`'s /ns/credentials/v1 and nothing Harmony-made. */
export async function plainVerifier(origin: string): Promise<PlainVerifier> {
  const contexts = new Map<string, unknown>();
  for (const [url, context] of credentialsContexts as Map<string, unknown>) contexts.set(url, context);
  for (const pkg of [dataIntegrityContext, multikeyContext, didContext] as any[]) {
    for (const [url, context] of pkg.contexts as Map<string, unknown>) contexts.set(url, context);
  }
  const published = await fetch(`${origin}/ns/credentials/v1`);
  contexts.set(HARMONY_CREDENTIALS_CONTEXT, await published.json());
  const didKey = didKeyDriver();
  didKey.use({ multibaseMultikeyHeader: "z6Mk", fromMultibase: Ed25519Multikey.from });
  const documents = new Map<string, unknown>();
  const documentLoader = async (url: string) => {
    const document = contexts.get(url) ?? documents.get(url) ??
      (url.startsWith("did:key:") ? await didKey.get({ url }) : undefined);
    if (document === undefined) throw new Error(`offline: ${url} is not known`);
    return { contextUrl: null, documentUrl: url, document };
  };
  const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
  // The library's checkStatus reports a set bit as `status: true` inside a verified result.
  const checkStatus = async (options: any) => {
    const result: any = await bslCheckStatus({ ...options, documentLoader, suite });
    if (result.verified && result.results.some((r: any) => r.status === true)) {
      return { ...result, verified: false, error: new Error("the credential has been revoked") };
    }
    return result;
  };
  return {
    async verify(credential: any) {
      const entries = credential?.credentialStatus === undefined ? [] : [credential.credentialStatus].flat();
      for (const entry of entries) {
        const response = await fetch(entry.statusListCredential);
        documents.set(entry.statusListCredential, await response.json());
      }
      return await vc.verifyCredential({ credential, suite, documentLoader, checkStatus });
    },
    why(result: any) {
      const errors = [
        result?.error,
        ...(result?.results ?? []).map((r: any) => r.error),
        result?.statusResult?.error,
      ]
        .filter(Boolean).flatMap((e: any) => e.errors ?? [e]).map((e: any) => e.message);
      return [...new Set(errors)].join("; ");
    },
  };
}

/** Decodes a status list credential's bits at `indexes`. */
export async function bitsOf(list: any, indexes: number[]): Promise<boolean[]> {
  const { BitstringStatusList } = await import("@digitalbazaar/vc-bitstring-status-list");
  const decoded = await BitstringStatusList.decode({ encodedList: list.credentialSubject.encodedList });
  return indexes.map((i) => decoded.getStatus(i));
}
