/**
 * Builds the Fedify Federation of an instance, and nothing else: the
 * handlers are registered by actors.ts, objects.ts, collections.ts,
 * inbox.ts and nodeinfo.ts (see index.ts).
 */
import { createFederation, type Federation, type KvStore, type MessageQueue } from "@fedify/fedify";
import type { Harmony } from "../server/harmony.ts";
import { installOpenSslRsaSigning } from "./opensslRsa.ts";

/** Fedify's context data: the handlers close over the instance, so there is none. */
export type HarmonyFederation = Federation<void>;

export const SOFTWARE = { name: "harmony", version: "0.3.0" };

export function buildFederation(h: Harmony, kv: KvStore, queue: MessageQueue): HarmonyFederation {
  // Fedify's HTTP signatures (RSA) made by OpenSSL when the system has it: about six times less CPU.
  installOpenSslRsaSigning();
  return createFederation<void>({
    kv,
    // Inbox, outbox and fan-out work share one persistent queue ("fedify").
    queue,
    // Started by the layer's start(), so jobs persisted before a restart run too.
    manuallyStartQueue: true,
    origin: h.config.origin,
    allowPrivateAddress: h.config.allowPrivateAddresses,
    userAgent: { software: `Harmony/${SOFTWARE.version}`, url: new URL(h.config.origin) },
    // Mastodon's tolerance for clock skew is an hour or more; Fedify's default window is one hour.
    signatureTimeWindow: { hours: 1 },
  });
}
