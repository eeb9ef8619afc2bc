/**
 * Keys of peer channel actors, for verifying their capability invocations.
 * Only origins we are bridged with are ever fetched (grants we issued and
 * links we installed name them), so a request cannot make this instance
 * fetch arbitrary URLs. Documents are cached and refetched once when a key
 * is not found (a peer may have rotated it).
 */
import type { Harmony } from "../../server/harmony.ts";
import { bridgeState } from "../../server/replication/bridges.ts";
import { signedByInstance } from "../keys.ts";

export interface ControllerView {
  controller: string;
  keys: { id: string; publicKeyMultibase: string }[];
}

const CACHE_MS = 60 * 60_000;
const FETCH_TIMEOUT_MS = 10_000;

export class PeerKeys {
  readonly #cache = new Map<string, { view: ControllerView; fetched: number }>();

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
}
