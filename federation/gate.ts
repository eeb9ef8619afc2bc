/**
 * The federation layer (index.ts), loaded when the instance first needs it.
 * Fedify and the ActivityPub handlers hold tens of megabytes; a community
 * that nobody on another server has looked up, followed or bridged with
 * does not pay for them.
 *
 * The layer loads:
 * - at start, when the database holds federation state: followers, bridge
 *   grants or links, or queued deliveries;
 * - on the first request for an ActivityPub or well-known path (WebFinger,
 *   NodeInfo, actors, inboxes, collections, objects);
 * - when the domain must reach another server: a follow request was
 *   decided, a bridge link was installed, a direct message goes to a member
 *   of another instance.
 *
 * Only those paths ever reach the layer's middleware, loaded or not, so the
 * pages and the API do not pass through Fedify's router.
 */
import type { MiddlewareHandler } from "hono";
import { type DmTransport, setDmTransport } from "../server/dms/service.ts";
import type { Harmony } from "../server/harmony.ts";
import type { AppEnv } from "../server/http/env.ts";
import type { FederationLayer } from "./index.ts";

export interface FederationGate {
  middleware: MiddlewareHandler<AppEnv>;
  /** Loads the layer now if the database says it is needed, and watches for the domain needing it. */
  start(): Promise<void>;
  close(): Promise<void>;
  readonly loaded: boolean;
  load(): Promise<FederationLayer>;
}

/** Paths only the federation layer answers. */
export function isFederationPath(path: string): boolean {
  return path.startsWith("/ap/") || path.startsWith("/.well-known/");
}

/** Whether anything on another server depends on this instance already. */
export async function hasFederationState(h: Harmony): Promise<boolean> {
  const rows = await h.database.client.execute({
    sql: `SELECT EXISTS (SELECT 1 FROM quads WHERE graph IN (?, ?))
            OR EXISTS (SELECT 1 FROM queue_jobs) AS needed`,
    args: [h.iris.followers, h.iris.bridges],
  });
  return Boolean(rows.rows[0]?.needed);
}

export function federationGate(
  h: Harmony,
  log: (message: string, error?: unknown) => void = (m, e) => console.error(m, e ?? ""),
): FederationGate {
  let loading: Promise<FederationLayer> | null = null;
  let layer: FederationLayer | null = null;
  let closed = false;
  const unsubscribe: Array<() => void> = [];
  /** Set by start(): with no federation state at start, nothing posted before the layer loads is owed to anyone. */
  let announceFromHead = false;

  function load(): Promise<FederationLayer> {
    if (closed) return Promise.reject(new Error("the instance is stopping"));
    loading ??= (async () => {
      const { createFederationLayer } = await import("./index.ts");
      const created = await createFederationLayer(h);
      await created.start({ announceFromHead });
      layer = created;
      return created;
    })().catch((error) => {
      loading = null;
      throw error;
    });
    return loading;
  }

  const loadInBackground = () => {
    if (!loading && !closed) load().catch((error) => log("federation: loading the layer failed", error));
  };

  const dmTransport: DmTransport = {
    resolveMember: async (actor) => (await load()).dmTransport.resolveMember(actor),
    deliver: async (envelope, to) => (await load()).dmTransport.deliver(envelope, to),
  };
  setDmTransport(h, dmTransport);

  return {
    get loaded() {
      return layer !== null;
    },
    load,
    middleware: async (c, next) => {
      if (!isFederationPath(c.req.path)) return await next();
      return await (await load()).middleware(c, next);
    },
    async start() {
      if (await hasFederationState(h)) {
        await load();
        return;
      }
      announceFromHead = true;
      unsubscribe.push(h.hub.subscribeFollowers(loadInBackground), h.hub.subscribeBridges(loadInBackground));
    },
    async close() {
      closed = true;
      for (const stop of unsubscribe.splice(0)) stop();
      const pending = loading;
      if (pending) await (await pending.catch(() => null))?.close();
    },
  };
}
