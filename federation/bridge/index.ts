/**
 * Bridged channels: capability-gated inbound operations (inbound.ts),
 * delivery to bridge peers and anti-entropy (outbound.ts).
 */
import type { MiddlewareHandler } from "hono";
import type { Harmony } from "../../server/harmony.ts";
import type { AppEnv } from "../../server/http/env.ts";
import { bridgeInbox } from "./inbound.ts";
import { BridgeDeliveries } from "./outbound.ts";
import { PeerKeys } from "./peers.ts";

export interface BridgeLayer {
  /** Runs before Fedify: answers capability-invoked POSTs to channel inboxes, passes the rest on. */
  middleware: MiddlewareHandler<AppEnv>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createBridgeLayer(h: Harmony, _federation?: unknown): BridgeLayer {
  const peers = new PeerKeys(h);
  const deliveries = new BridgeDeliveries(h, peers);
  return {
    middleware: bridgeInbox(h, peers),
    start: () => deliveries.start(),
    close: () => deliveries.close(),
  };
}
