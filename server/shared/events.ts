/**
 * In-process publish/subscribe for live updates. Events carry data, not
 * markup: each subscriber renders what it needs (HTML for pages, JSON for
 * the API). With several app processes this becomes a shared channel; the
 * interface stays.
 */
import type { MessageView } from "./model.ts";

export type ChannelEvent =
  | { kind: "created" | "updated" | "deleted"; message: MessageView }
  /** The channel changed (renamed, re-topiced, made members-only, deleted). */
  | { kind: "channel"; channelIri: string; quiet?: boolean };

export type CommunityEvent = { kind: "community" };

type Listener<E> = (event: E) => void;

export class EventHub {
  readonly #channels = new Map<string, Set<Listener<ChannelEvent>>>();
  readonly #community = new Set<Listener<CommunityEvent>>();

  subscribe(channelIri: string, listener: Listener<ChannelEvent>): () => void {
    let set = this.#channels.get(channelIri);
    if (!set) this.#channels.set(channelIri, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#channels.delete(channelIri);
    };
  }

  /** Aborted when the instance stops: long-lived responses (live streams) end on it. */
  readonly #stopping = new AbortController();
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }
  /**
   * Ends every live stream, so that the HTTP server's graceful shutdown,
   * which waits for open responses, does not wait for streams whose reader
   * is gone but whose closing the server has not noticed yet.
   */
  stop(): void {
    this.#stopping.abort();
  }

  subscribeCommunity(listener: Listener<CommunityEvent>): () => void {
    this.#community.add(listener);
    return () => this.#community.delete(listener);
  }

  readonly #all = new Set<(channelIri: string, event: ChannelEvent) => void>();

  /** Every channel's events (server/attention: unread counts and mentions for pages open elsewhere). */
  subscribeAll(listener: (channelIri: string, event: ChannelEvent) => void): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }

  publish(channelIri: string, event: ChannelEvent): void {
    for (const listener of this.#all) {
      try {
        listener(channelIri, event);
      } catch (error) {
        console.error("live update listener failed:", error);
      }
    }
    for (const listener of this.#channels.get(channelIri) ?? []) {
      try {
        listener(event);
      } catch (error) {
        console.error("live update listener failed:", error);
      }
    }
  }

  publishCommunity(event: CommunityEvent): void {
    for (const listener of this.#community) {
      try {
        listener(event);
      } catch (error) {
        console.error("community listener failed:", error);
      }
    }
  }

  readonly #ops = new Set<() => void>();

  /** Wakes whoever ships the operation log elsewhere (federation), after each commit. */
  subscribeOps(listener: () => void): () => void {
    this.#ops.add(listener);
    return () => this.#ops.delete(listener);
  }

  publishOps(): void {
    for (const listener of this.#ops) listener();
  }

  readonly #followers = new Set<() => void>();

  /** Wakes whoever answers fediverse follow requests (federation), after each change to them. */
  subscribeFollowers(listener: () => void): () => void {
    this.#followers.add(listener);
    return () => this.#followers.delete(listener);
  }

  publishFollowers(): void {
    for (const listener of this.#followers) listener();
  }

  readonly #bridges = new Set<() => void>();

  /** Wakes whoever delivers to bridge peers (federation), after a bridge link is installed. */
  subscribeBridges(listener: () => void): () => void {
    this.#bridges.add(listener);
    return () => this.#bridges.delete(listener);
  }

  publishBridges(): void {
    for (const listener of this.#bridges) listener();
  }

  listenerCount(channelIri: string): number {
    return this.#channels.get(channelIri)?.size ?? 0;
  }
}
