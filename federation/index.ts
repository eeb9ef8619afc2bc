/**
 * The ActivityPub layer of an instance (see FEDERATION.md): the Fedify
 * Federation with its handlers, the outbound delivery to fediverse
 * followers, and the bridge layer (federation/bridge/), whose middleware
 * runs first.
 */
import type { MiddlewareHandler } from "hono";
import type { DmTransport } from "../server/dms/service.ts";
import type { Harmony } from "../server/harmony.ts";
import type { AppEnv } from "../server/http/env.ts";
import { registerActors } from "./actors.ts";
import { refuseBlockedSenders, withoutBlockedDeliveries } from "./blocks.ts";
import { createBridgeLayer } from "./bridge/index.ts";
import { registerCollections } from "./collections.ts";
import { registerDms } from "./dms.ts";
import { buildFederation } from "./federation.ts";
import { registerInbox } from "./inbox.ts";
import { SqlKvStore } from "./kv.ts";
import { fedifyMiddleware } from "./middleware.ts";
import { registerNodeInfo } from "./nodeinfo.ts";
import { registerObjects } from "./objects.ts";
import { FollowerDelivery } from "./outbound.ts";
import { SqlMessageQueue } from "./queue.ts";
import { withOutbound } from "../server/net/outbound.ts";

export interface FederationLayer {
  middleware: MiddlewareHandler<AppEnv>;
  /** Direct messages to members of other instances. */
  dmTransport: DmTransport;
  /** `announceFromHead`: what is already in the operation log is not announced to followers. */
  start(options?: { announceFromHead?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Expired key-value entries are swept this often. */
const SWEEP_MS = 60 * 60_000;

export function createFederationLayer(h: Harmony): Promise<FederationLayer> {
  const log = (message: string, error?: unknown) => console.error(message, error ?? "");
  const kv = new SqlKvStore(h.database);
  const queue = new SqlMessageQueue(h.database, "fedify", { workers: 24, log });
  const federation = buildFederation(h, kv, withoutBlockedDeliveries(h, queue));
  const delivery = new FollowerDelivery(h, federation, log);
  registerActors(federation, h);
  registerObjects(federation, h);
  registerCollections(federation, h);
  registerNodeInfo(federation, h);
  registerInbox(federation, h, { kv, onFollow: () => delivery.kickAnswers(), log });
  const dms = registerDms(federation, h, kv, log);
  const bridge = createBridgeLayer(h, federation);
  const fedify = fedifyMiddleware(h, federation);
  const blocked = refuseBlockedSenders(h);
  const abort = new AbortController();
  let queueRunning: Promise<void> | null = null;
  let sweeper: ReturnType<typeof setInterval> | null = null;

  return Promise.resolve({
    dmTransport: dms.transport,
    middleware: async (c, next) => {
      // A bridge invocation is answered by the bridge layer; everything else goes on to Fedify,
      // but for what blocked fediverse accounts and servers send; Fedify's fetches (keys of signers,
      // actors) are held to the outbound policy.
      const answered = await bridge.middleware(c, async () => {
        const refused = await blocked(c, async () => {
          await withOutbound(h.outbound, () => fedify(c, next));
        });
        if (refused instanceof Response) c.res = refused;
      });
      if (answered instanceof Response) return answered;
    },
    // Everything started here (the queues, their deliveries) inherits the outbound policy.
    start: (options) => withOutbound(h.outbound, () => startLayer(options)),
    close: closeLayer,
  });

  async function startLayer({ announceFromHead = false } = {}) {
    // Jobs persisted before a restart run now, not only once something new is enqueued.
    queueRunning = federation.startQueue(undefined, { signal: abort.signal })
      .catch((error) => log("federation: the queue stopped", error));
    await delivery.start({ fromHead: announceFromHead });
    dms.start();
    await kv.sweep().catch((error) => log("federation: sweeping the key-value store failed", error));
    sweeper = setInterval(() => kv.sweep().catch(() => {}), SWEEP_MS);
    await bridge.start();
  }

  async function closeLayer() {
    if (sweeper !== null) clearInterval(sweeper);
    await bridge.close();
    await delivery.close();
    await dms.close();
    abort.abort();
    await queue.close();
    await queueRunning;
  }
}
