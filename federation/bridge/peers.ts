/**
 * Keys of peer channel actors, for verifying their capability invocations,
 * and the community keys of peer instances, for verifying the capability
 * chains moderations and relayed operations carry.
 *
 * Actor documents are fetched only from origins we are bridged with
 * (grants we issued and links we installed name them), so a request cannot
 * make this instance fetch arbitrary URLs. A community key is fetched from
 * the instance itself (`GET {origin}/api/community`, its `did`) only for an
 * origin a bridge grant or a verified relay path names (the callers in
 * server/replication/ ensure it). Both are cached; an actor document is
 * refetched once when a key is not found (a peer may have rotated it).
 */
import type { Harmony } from "../../server/harmony.ts";
import { bridgeState } from "../../server/replication/bridges.ts";
import { signedByInstance } from "../keys.ts";
import type { PeerDirectory } from "../../server/replication/relays.ts";
import { isDidKey } from "../../server/crypto/didkey.ts";
import { communityKey } from "../../server/capabilities/communityKey.ts";

export interface ControllerView {
  controller: string;
  keys: { id: string; publicKeyMultibase: string }[];
}

const CACHE_MS = 60 * 60_000;
const FETCH_TIMEOUT_MS = 10_000;

const MAX_COMMUNITY_BYTES = 64 * 1024;

/** A response's text, or null once it runs past `max` bytes (the rest is not read). */
async function boundedText(response: Response, max: number): Promise<string | null> {
  const reader = response.body?.getReader();
  if (!reader) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

export class PeerKeys implements PeerDirectory {
  readonly #cache = new Map<string, { view: ControllerView; fetched: number }>();
  readonly #communities = new Map<string, { did: string; fetched: number }>();

  constructor(readonly h: Harmony) {}

  async #allowedOrigins(): Promise<Set<string>> {
    const { grants, links } = await bridgeState(this.h);
    return new Set([
      ...grants.map((g) => new URL(g.grantee).origin),
      ...links.map((l) => new URL(l.peerActor).origin),
    ]);
  }

  async #fetch(actor: string): Promise<ControllerView | null> {
    // Signed by our instance actor: a members-only channel shows its actor to its bridge peers only.
    const request = await signedByInstance(
      this.h,
      new Request(actor, {
        headers: {
          accept:
            'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        },
      }),
    );
    const response = await this.h.outbound.fetch(request, {
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      redirect: "error",
    });
    if (!response.ok) {
      await response.body?.cancel();
      return null;
    }
    const doc = await response.json();
    if (doc?.id !== actor) return null;
    const methods = Array.isArray(doc.assertionMethod) ? doc.assertionMethod : [doc.assertionMethod];
    const keys = methods
      .filter((m: Record<string, unknown>) =>
        m && m.type === "Multikey" && m.controller === actor && typeof m.id === "string" &&
        typeof m.publicKeyMultibase === "string" && (m.publicKeyMultibase as string).startsWith("z6Mk")
      )
      .map((m: Record<string, string>) => ({ id: m.id, publicKeyMultibase: m.publicKeyMultibase }));
    return { controller: actor, keys };
  }

  /** The controller document view of a peer actor, or of the actor a key id belongs to. */
  async resolve(url: string): Promise<ControllerView | null> {
    const actor = url.split("#")[0];
    let origin: string;
    try {
      origin = new URL(actor).origin;
    } catch {
      return null;
    }
    if (!(await this.#allowedOrigins()).has(origin)) return null;
    const cached = this.#cache.get(actor);
    const fresh = cached && Date.now() - cached.fetched < CACHE_MS;
    if (fresh && (!url.includes("#") || cached.view.keys.some((k) => k.id === url))) return cached.view;
    const view = await this.#fetch(actor).catch(() => null);
    if (view) this.#cache.set(actor, { view, fetched: Date.now() });
    return view ?? cached?.view ?? null;
  }

  /** The did:key of the community at `origin`, as that instance publishes it. */
  async communityDid(origin: string): Promise<string | null> {
    if (origin === this.h.config.origin) return (await communityKey(this.h)).did;
    const cached = this.#communities.get(origin);
    if (cached && Date.now() - cached.fetched < CACHE_MS) return cached.did;
    const did = await this.#fetchCommunity(origin).catch(() => null);
    if (did) this.#communities.set(origin, { did, fetched: Date.now() });
    return did ?? cached?.did ?? null;
  }

  async #fetchCommunity(origin: string): Promise<string | null> {
    const url = `${origin}/api/community`;
    const response = await this.h.outbound.fetch(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      redirect: "error",
    });
    const text = response.ok ? await boundedText(response, MAX_COMMUNITY_BYTES) : null;
    if (!response.ok) await response.body?.cancel();
    if (!text) return null;
    const community = JSON.parse(text) as { did?: unknown; origin?: unknown };
    return isDidKey(community.did) && community.origin === origin ? community.did : null;
  }
}
