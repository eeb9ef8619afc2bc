/**
 * Checking a credential's Bitstring Status List entry.
 *
 * Our own lists are read from the quads. Another issuer's list is fetched
 * over HTTP from the entry's `statusListCredential` URL (only under the
 * instance's address policy), its signature and dates verified once when
 * fetched, and the verified list cached for its `ttl` (at most five
 * minutes): verifying the list on every check would cost a full RDF
 * canonicalization each time.
 *
 * The library's own checkStatus reports `verified: true` with
 * `status: true` for a REVOKED credential (it only says the list could be
 * checked), so `statusChecker` turns a set bit into a failure.
 */
// deno-lint-ignore-file no-explicit-any
import type { Harmony } from "../harmony.ts";
import { AddressRefused } from "../net/address.ts";
import { statusListNumber, storedStatusList } from "./store.ts";

/** The credential's status bit is set: it was revoked. */
export class CredentialRevoked extends Error {
  override name = "CredentialRevoked";
}

/** The status list could not be fetched or verified: the credential's status is unknown. */
export class StatusUnavailable extends Error {
  override name = "StatusUnavailable";
}

const MAX_LIST_BYTES = 512 * 1024;
const FETCH_TIMEOUT_MS = 10_000;
const DEFAULT_CACHE_MS = 60_000;
const MAX_CACHE_MS = 300_000;
const MIN_CACHE_MS = 1_000;
const MAX_CACHED_LISTS = 1_000;

interface Cached {
  list: Promise<Record<string, unknown>>;
  until: number;
}

/** Verified remote status lists, per instance. */
const caches = new WeakMap<Harmony, Map<string, Cached>>();

/** Counters for tests and benchmarks: fetches of remote lists and their verifications. */
export const statusListStats = { fetched: 0, verified: 0, cacheHits: 0 };

function cacheOf(h: Harmony): Map<string, Cached> {
  let cache = caches.get(h);
  if (!cache) caches.set(h, cache = new Map());
  return cache;
}

/** Forgets the cached remote lists of `h` (tests; an admin who wants a fresh check). */
export function clearStatusListCache(h: Harmony): void {
  caches.delete(h);
}

async function readLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit) throw new StatusUnavailable(`the status list is larger than ${limit} bytes`);
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new StatusUnavailable(`the status list is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function typesOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** Fetches another issuer's status list and verifies it; throws StatusUnavailable. */
async function fetchRemoteList(h: Harmony, url: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await h.outbound.fetch(url, {
      redirect: "manual",
      headers: { accept: "application/vc, application/ld+json, application/json;q=0.9" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    statusListStats.fetched++;
  } catch (error) {
    // Refused by the address policy: nothing was fetched.
    if (error instanceof AddressRefused) throw new StatusUnavailable(`not fetching ${url}: ${error.message}`);
    statusListStats.fetched++;
    throw new StatusUnavailable(`could not fetch ${url}: ${(error as Error).message}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw new StatusUnavailable(`fetching ${url} answered ${response.status}`);
  }
  let list: any;
  try {
    list = JSON.parse(await readLimited(response, MAX_LIST_BYTES));
  } catch (error) {
    if (error instanceof StatusUnavailable) throw error;
    throw new StatusUnavailable(`${url} is not JSON`);
  }
  if (typeof list !== "object" || list === null || Array.isArray(list)) {
    throw new StatusUnavailable(`${url} is not a status list credential`);
  }
  if (list.id !== url) throw new StatusUnavailable(`${url} holds a status list with another id (${list.id})`);
  if (!typesOf(list.type).includes("BitstringStatusListCredential")) {
    throw new StatusUnavailable(`${url} is not a BitstringStatusListCredential`);
  }
  if (list.credentialStatus !== undefined) {
    throw new StatusUnavailable(`${url}: a status list with a status of its own is not supported`);
  }
  statusListStats.verified++;
  const { vc, credentialVerifySuites, createDocumentLoader } = await import("./vcStack.ts");
  const result: any = await vc.verifyCredential({
    credential: list,
    suite: credentialVerifySuites,
    documentLoader: createDocumentLoader(),
  });
  if (!result.verified) {
    throw new StatusUnavailable(`the status list at ${url} does not verify: ${verifyError(result)}`);
  }
  return list;
}

/** The most telling message in a verification result. */
export function verifyError(result: any): string {
  const errors: unknown[] = [
    result?.error,
    ...(result?.results ?? []).map((r: any) => r?.error),
    result?.statusResult?.error,
  ].filter(Boolean);
  const flat = errors.flatMap((e: any) => (Array.isArray(e?.errors) && e.errors.length ? e.errors : [e]));
  const messages = flat.map((e: any) => e?.message ?? String(e)).filter(Boolean);
  return [...new Set(messages)].join("; ") || "not verified";
}

function cacheMs(list: Record<string, unknown>): number {
  const ttl = Number((list.credentialSubject as Record<string, unknown> | undefined)?.ttl);
  if (!Number.isFinite(ttl) || ttl <= 0) return DEFAULT_CACHE_MS;
  return Math.min(MAX_CACHE_MS, Math.max(MIN_CACHE_MS, ttl));
}

/**
 * The status list credential at `url`: ours from the quads, another
 * issuer's fetched, verified and cached. Throws StatusUnavailable.
 */
export async function statusListCredential(h: Harmony, url: string): Promise<Record<string, unknown>> {
  if (statusListNumber(h, url) !== null) {
    const own = await storedStatusList(h.db, h, url);
    if (!own) throw new StatusUnavailable(`there is no status list at ${url}`);
    return own;
  }
  const cache = cacheOf(h);
  const now = Date.now();
  const cached = cache.get(url);
  if (cached && cached.until > now) {
    statusListStats.cacheHits++;
    return await cached.list;
  }
  cache.delete(url);
  while (cache.size >= MAX_CACHED_LISTS) cache.delete(cache.keys().next().value!);
  const entry: Cached = { list: fetchRemoteList(h, url), until: now + FETCH_TIMEOUT_MS };
  cache.set(url, entry);
  try {
    const list = await entry.list;
    entry.until = Date.now() + cacheMs(list);
    return list;
  } catch (error) {
    // Failures are not remembered: the next check tries again.
    if (cache.get(url) === entry) cache.delete(url);
    throw error;
  }
}

function statusEntries(credential: any): any[] {
  const status = credential?.credentialStatus;
  if (status === undefined) return [];
  return Array.isArray(status) ? status : [status];
}

/**
 * A `checkStatus` for @digitalbazaar/vc: loads each status list (ours or
 * cached and verified), then lets the library read the bits without
 * verifying the list again, and fails when a bit is set.
 */
export function statusChecker(h: Harmony) {
  return async (options: { credential: any }): Promise<any> => {
    const { credential } = options;
    const lists = new Map<string, Record<string, unknown>>();
    try {
      for (const entry of statusEntries(credential)) {
        const url = entry?.statusListCredential;
        if (typeof url !== "string") continue;
        if (!lists.has(url)) lists.set(url, await statusListCredential(h, url));
      }
    } catch (error) {
      const unavailable = error instanceof StatusUnavailable
        ? error
        : new StatusUnavailable((error as Error)?.message ?? String(error));
      return { verified: false, error: unavailable };
    }
    const documentLoader = (url: string) => {
      const document = lists.get(url);
      if (!document) return Promise.reject(new Error(`status list ${url} was not loaded`));
      return Promise.resolve({ contextUrl: null, documentUrl: url, document });
    };
    const { checkListStatus, credentialVerifySuites } = await import("./vcStack.ts");
    const result: any = await checkListStatus({
      credential,
      documentLoader,
      suite: credentialVerifySuites,
      verifyBitstringStatusListCredential: false,
      verifyMatchingIssuers: true,
    });
    if (!result.verified) return result;
    const set = (result.results ?? []).find((r: any) => r?.status === true);
    if (set) {
      return {
        verified: false,
        results: result.results,
        error: new CredentialRevoked(
          `the credential's "${set.credentialStatus?.statusPurpose}" status is set: it was revoked`,
        ),
      };
    }
    return result;
  };
}
