/**
 * An offline JSON-LD document loader for capabilities and credentials.
 *
 * It answers, and never fetches:
 * - the static contexts (contexts.ts);
 * - `did:key:z6Mk…` DIDs (a DID document) and their key ids
 *   (`did:key:z6Mk…#z6Mk…`, a Multikey verification method), computed
 *   from the DID itself;
 * - `urn:zcap:root:<encoded target>`: the root capability of a target
 *   this instance hosts, through `rootControllerOf(target)` (its root
 *   controller's DID, or null when the target is not ours);
 * - http(s) verification methods and controller documents, through
 *   `resolveHttpsController(url)`, which the bridge layer backs with the
 *   actor documents Fedify fetched. Every key it lists may assert, invoke
 *   and delegate (the controller-document view below).
 * Anything else throws `DocumentNotFoundError`.
 *
 * What each caller needs back differs (see docs in REPORT of the spike):
 * a verification method URL must load as the method itself, with the
 * multikey context; a controller URL as a controller document whose
 * first context is DID v1 (so jsonld-signatures reads the verification
 * relationships directly instead of framing, about 3x faster).
 */
import { publicKeyFromMultibase } from "../crypto/didkey.ts";
import { deepFreeze, DID_V1, MULTIKEY_V1, STATIC_CONTEXTS, ZCAP_V1 } from "./contexts.ts";
import { ROOT_PREFIX, rootCapabilityId } from "./root.ts";

export interface RemoteDocument {
  contextUrl: null;
  documentUrl: string;
  document: unknown;
  tag?: string;
}

export type DocumentLoader = (url: string) => Promise<RemoteDocument>;

/** The keys of an http(s) controller (an ActivityPub actor), as the bridge layer resolved them. */
export interface HttpsController {
  /** The controller's id (the actor URL). */
  controller: string;
  keys: { id: string; publicKeyMultibase: string }[];
}

/**
 * Resolves an http(s) URL (a key id such as `https://a/channels/x#key-1`,
 * or the controller's own URL) to its controller and keys, or null.
 */
export type ResolveHttpsController = (
  url: string,
) => HttpsController | null | Promise<HttpsController | null>;

/** The DID controlling the root capability of `target`, or null when this instance does not host it. */
export type RootControllerOf = (target: string) => string | null | Promise<string | null>;

export interface LoaderOptions {
  rootControllerOf?: RootControllerOf;
  resolveHttpsController?: ResolveHttpsController;
}

export class DocumentNotFoundError extends Error {
  override name = "DocumentNotFoundError";
}

export { ROOT_PREFIX, rootCapabilityId };

export interface RootCapability {
  "@context": typeof ZCAP_V1;
  id: string;
  controller: string;
  invocationTarget: string;
}

/** The root capability of `target`, controlled by `controllerDid`. */
export function rootCapability(target: string, controllerDid: string): RootCapability {
  return {
    "@context": ZCAP_V1,
    id: rootCapabilityId(target),
    controller: controllerDid,
    invocationTarget: target,
  };
}

export interface MultikeyMethod {
  "@context": typeof MULTIKEY_V1;
  id: string;
  type: "Multikey";
  controller: string;
  publicKeyMultibase: string;
}

function multikey(id: string, controller: string, publicKeyMultibase: string): MultikeyMethod {
  return { "@context": MULTIKEY_V1, id, type: "Multikey", controller, publicKeyMultibase };
}

/**
 * The controller document of `controller` whose keys may all be used for
 * every verification relationship (assertion, authentication, invocation,
 * delegation). DID v1 first, so jsonld-signatures does not frame it.
 */
export function controllerDocument(
  controller: string,
  keys: { id: string; publicKeyMultibase: string }[],
): Record<string, unknown> {
  const ids = keys.map((k) => k.id);
  return {
    "@context": [DID_V1, MULTIKEY_V1],
    id: controller,
    verificationMethod: keys.map((k) => {
      const { "@context": _context, ...method } = multikey(k.id, controller, k.publicKeyMultibase);
      return method;
    }),
    authentication: ids,
    assertionMethod: ids,
    capabilityDelegation: ids,
    capabilityInvocation: ids,
  };
}

const didKeyPattern = /^did:key:(z6Mk[1-9A-HJ-NP-Za-km-z]{44,45})(?:#(z6Mk[1-9A-HJ-NP-Za-km-z]{44,45}))?$/;

/**
 * Resolves a did:key DID (to its DID document) or its key id (to the
 * Multikey method), the same documents @digitalbazaar/did-method-key
 * produces for Ed25519 Multikeys. Throws for anything else.
 */
export function resolveDidKey(url: string): Record<string, unknown> {
  const match = didKeyPattern.exec(url);
  if (!match) throw new DocumentNotFoundError(`not an Ed25519 did:key: ${url}`);
  const [, multibase, fragment] = match;
  if (fragment !== undefined && fragment !== multibase) {
    throw new DocumentNotFoundError(`unknown key in ${url}`);
  }
  try {
    publicKeyFromMultibase(multibase);
  } catch {
    throw new DocumentNotFoundError(`not a 32-byte Ed25519 key: ${url}`);
  }
  const did = `did:key:${multibase}`;
  const id = `${did}#${multibase}`;
  if (fragment !== undefined) return multikey(id, did, multibase) as unknown as Record<string, unknown>;
  return controllerDocument(did, [{ id, publicKeyMultibase: multibase }]);
}

const didDocuments = new Map<string, Record<string, unknown>>();
const maxDidDocuments = 10_000;

function cachedDidKey(url: string): Record<string, unknown> {
  let doc = didDocuments.get(url);
  if (!doc) {
    doc = deepFreeze(resolveDidKey(url));
    if (didDocuments.size >= maxDidDocuments) didDocuments.delete(didDocuments.keys().next().value!);
    didDocuments.set(url, doc);
  }
  return doc;
}

function isHttpUrl(url: string): boolean {
  return url.startsWith("https://") || url.startsWith("http://");
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function remote(url: string, document: unknown, tag?: string): RemoteDocument {
  return tag
    ? { contextUrl: null, documentUrl: url, document, tag }
    : { contextUrl: null, documentUrl: url, document };
}

/**
 * Creates a loader. Cheap: create one per verification, so the injected
 * resolvers are those of the request. http(s) answers are memoized for
 * the loader's lifetime (one verification asks for the same actor twice).
 */
export function createDocumentLoader(options: LoaderOptions = {}): DocumentLoader {
  const { rootControllerOf, resolveHttpsController } = options;
  const resolved = new Map<string, Promise<HttpsController | null>>();

  async function loadHttp(url: string): Promise<RemoteDocument> {
    if (!resolveHttpsController) throw new DocumentNotFoundError(`no resolver for ${url}`);
    let pending = resolved.get(url);
    if (!pending) {
      pending = Promise.resolve(resolveHttpsController(url));
      resolved.set(url, pending);
    }
    let found: HttpsController | null;
    try {
      found = await pending;
    } catch (error) {
      throw new DocumentNotFoundError(`could not resolve ${url}: ${(error as Error)?.message ?? error}`);
    }
    if (!found || typeof found.controller !== "string" || !Array.isArray(found.keys)) {
      throw new DocumentNotFoundError(`unknown controller or key: ${url}`);
    }
    const { controller, keys } = found;
    // A controller vouches only for keys on its own origin.
    const origin = originOf(controller);
    if (!origin || !isHttpUrl(controller)) throw new DocumentNotFoundError(`bad controller for ${url}`);
    const ownKeys = keys.filter((k) => {
      if (typeof k?.id !== "string" || typeof k.publicKeyMultibase !== "string") return false;
      if (originOf(k.id) !== origin) return false;
      try {
        publicKeyFromMultibase(k.publicKeyMultibase);
        return true;
      } catch {
        return false;
      }
    });
    if (url === controller) return remote(url, controllerDocument(controller, ownKeys));
    const key = ownKeys.find((k) => k.id === url);
    if (!key) throw new DocumentNotFoundError(`${controller} lists no Ed25519 key ${url}`);
    return remote(url, multikey(key.id, controller, key.publicKeyMultibase));
  }

  async function loadRoot(url: string): Promise<RemoteDocument> {
    let target: string;
    try {
      target = decodeURIComponent(url.slice(ROOT_PREFIX.length));
    } catch {
      throw new DocumentNotFoundError(`malformed root capability id: ${url}`);
    }
    if (rootCapabilityId(target) !== url) throw new DocumentNotFoundError(`non-canonical root id: ${url}`);
    const controller = rootControllerOf ? await rootControllerOf(target) : null;
    if (!controller) throw new DocumentNotFoundError(`no root capability here for ${target}`);
    return remote(url, rootCapability(target, controller));
  }

  return (url: string) => {
    if (typeof url !== "string") {
      return Promise.reject(new DocumentNotFoundError("document URL must be a string"));
    }
    const context = STATIC_CONTEXTS.get(url);
    if (context !== undefined) return Promise.resolve(remote(url, context, "static"));
    if (url.startsWith("did:key:")) {
      try {
        return Promise.resolve(remote(url, cachedDidKey(url)));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (url.startsWith(ROOT_PREFIX)) return loadRoot(url);
    if (isHttpUrl(url)) return loadHttp(url);
    return Promise.reject(new DocumentNotFoundError(`offline document loader: ${url} is not known`));
  };
}

/** A loader for the static contexts and did:key only (signing needs nothing else). */
export const staticDocumentLoader: DocumentLoader = createDocumentLoader();
