/**
 * The JSON-LD contexts capabilities and credentials use, all held in
 * memory: nothing here is ever fetched from the network.
 *
 * Sources: the npm context packages (credentials v1/v2, data integrity
 * v1/v2, multikey v1, zcap v1, DID v1), the Harmony context
 * (server/rdf/vocab.ts, the one served at /ns/v1) and a vendored copy of the
 * ActivityStreams context (contexts/activitystreams.json, taken from the
 * W3C document as @fedify/vocab-runtime 2.3.6 ships it; vendored because
 * server/ never imports Fedify; tests/capabilities/loader_test.ts checks
 * it is still identical).
 */
import { contexts as credentialsContexts } from "@digitalbazaar/credentials-context";
import dataIntegrityContext from "@digitalbazaar/data-integrity-context";
import multikeyContext from "@digitalbazaar/multikey-context";
import zcapContext from "@digitalbazaar/zcap-context";
import didContext from "did-context";
import activityStreams from "./contexts/activitystreams.json" with { type: "json" };
import {
  HARMONY_CONTEXT_URL,
  HARMONY_CREDENTIALS_CONTEXT_URL,
  harmonyContext,
  harmonyCredentialsContext,
} from "../rdf/vocab.ts";

export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
export const ZCAP_V1 = "https://w3id.org/zcap/v1";
export const DI_V1 = "https://w3id.org/security/data-integrity/v1";
export const DI_V2 = "https://w3id.org/security/data-integrity/v2";
export const MULTIKEY_V1 = "https://w3id.org/security/multikey/v1";
export const DID_V1 = "https://www.w3.org/ns/did/v1";
export const CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1";
export const CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2";
export const HARMONY_V1 = HARMONY_CONTEXT_URL;
export const HARMONY_CREDENTIALS_V1 = HARMONY_CREDENTIALS_CONTEXT_URL;

type ContextMap = Map<string, unknown> | Iterable<[string, unknown]>;

function entries(source: unknown): [string, unknown][] {
  return [...(source as ContextMap)];
}

function buildContexts(): ReadonlyMap<string, unknown> {
  const map = new Map<string, unknown>();
  for (const [url, context] of entries(credentialsContexts)) map.set(url, context);
  for (const pkg of [dataIntegrityContext, multikeyContext, zcapContext, didContext]) {
    for (const [url, context] of entries((pkg as { contexts: unknown }).contexts)) map.set(url, context);
  }
  map.set(AS_CONTEXT, activityStreams);
  map.set(HARMONY_V1, harmonyContext());
  map.set(HARMONY_CREDENTIALS_V1, harmonyCredentialsContext());
  for (
    const url of [AS_CONTEXT, ZCAP_V1, DI_V1, DI_V2, MULTIKEY_V1, DID_V1, CREDENTIALS_V1, CREDENTIALS_V2]
  ) {
    if (!map.has(url)) throw new Error(`context package lacks ${url}`);
  }
  for (const context of map.values()) deepFreeze(context);
  return map;
}

/** Freezes `value` and everything it holds; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
  return value;
}

/** Every context document the loader answers, by URL (frozen: shared by all callers). */
export const STATIC_CONTEXTS: ReadonlyMap<string, unknown> = buildContexts();
