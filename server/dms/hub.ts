/**
 * Live DM events, per participant: after each stored envelope, the live
 * streams of its sender and recipient get it (still ciphertext). In
 * process, like server/shared/events.ts; with several app processes this becomes
 * a shared channel and the interface stays.
 */
import type { Harmony } from "../harmony.ts";
import type { EncryptedMessage } from "./crypto.ts";

export interface DmEvent {
  position: number;
  conversation: string;
  envelope: EncryptedMessage;
}

type Listener = (event: DmEvent) => void;

export class DmHub {
  readonly #byDid = new Map<string, Set<Listener>>();

  subscribe(did: string, listener: Listener): () => void {
    let set = this.#byDid.get(did);
    if (!set) this.#byDid.set(did, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#byDid.delete(did);
    };
  }

  publish(event: DmEvent): void {
    const { attributedTo, recipient } = event.envelope;
    for (const did of [attributedTo, recipient]) {
      for (const listener of this.#byDid.get(did) ?? []) {
        try {
          listener(event);
        } catch (error) {
          console.error("DM listener failed:", error);
        }
      }
    }
  }

  listenerCount(did: string): number {
    return this.#byDid.get(did)?.size ?? 0;
  }
}

const hubs = new WeakMap<Harmony, DmHub>();

export function dmHub(h: Harmony): DmHub {
  let hub = hubs.get(h);
  if (!hub) hubs.set(h, hub = new DmHub());
  return hub;
}
