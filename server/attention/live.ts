/**
 * The ephemeral half of attention: presence (online, idle, offline),
 * typing indicators, and the activity events that keep the bell and the
 * sidebar's unread counts live on pages open on another channel.
 *
 * Presence and typing live in memory on purpose: they describe open
 * connections and the last few seconds, so after a restart the truth is
 * "nobody is connected" anyway, and writing them to the database would put
 * a write on every keystroke burst and every page open. (With several app
 * processes this state moves to the shared channel the event hub becomes.)
 *
 * Cost: every page's live stream registers a sink here. A message event is
 * serialised ONCE into an activity event and written to the sinks of other
 * channels whose readable set (computed when the stream opened, refreshed
 * when the community changes) holds the channel: a Set lookup, never a
 * query per subscriber. Typing and presence changes are coalesced: they
 * mark state dirty and a timer flushes one event per channel (typing) or
 * one for the community (presence) every `coalesceMs`.
 */
import { listChannels } from "../channels/channels.ts";
import type { ChannelEvent } from "../shared/events.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { shortDid } from "../community/members.ts";

export type Status = "online" | "idle" | "offline";

const encoder = new TextEncoder();

/**
 * One server-sent event as bytes, built once and written as-is to every
 * subscriber (`data` is JSON: it holds no line breaks).
 */
export function sseFrame(event: string, data: string, id?: string): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${data}\n${id === undefined ? "" : `id: ${id}\n`}\n`);
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as number),
};

export interface AttentionOptions {
  now: () => number;
  /** How long a member stays online after their last stream closed (a reload, a flaky network). */
  graceMs: number;
  /** How long a typing signal shows. */
  typingMs: number;
  /** At most one typing signal per member and channel this often. */
  typingIntervalMs: number;
  /** Typing and presence changes are gathered this long into one event. */
  coalesceMs: number;
  /** Timers for the presence grace period (tests inject manual ones). */
  timers: Timers;
}

export const defaultAttentionOptions: AttentionOptions = {
  now: () => Date.now(),
  graceMs: 15_000,
  typingMs: 6_000,
  typingIntervalMs: 3_000,
  coalesceMs: 250,
  timers: realTimers,
};

/** Presence by DID: online while a stream is open, idle when the page says so, offline after the grace. */
export class Presence {
  readonly #streams = new Map<string, number>();
  readonly #idle = new Set<string>();
  readonly #pending = new Map<string, unknown>();
  readonly #status = new Map<string, Status>();

  constructor(readonly options: AttentionOptions, readonly onChange: (did: string, status: Status) => void) {}

  open(did: string): void {
    this.#streams.set(did, (this.#streams.get(did) ?? 0) + 1);
    const pending = this.#pending.get(did);
    if (pending !== undefined) {
      this.options.timers.clear(pending);
      this.#pending.delete(did);
    }
    this.#update(did);
  }

  close(did: string): void {
    const left = (this.#streams.get(did) ?? 1) - 1;
    if (left > 0) {
      this.#streams.set(did, left);
      return;
    }
    this.#streams.delete(did);
    if (this.#pending.has(did)) return;
    this.#pending.set(
      did,
      this.options.timers.set(() => {
        this.#pending.delete(did);
        if (!this.#streams.has(did)) this.#idle.delete(did);
        this.#update(did);
      }, this.options.graceMs),
    );
  }

  setIdle(did: string, idle: boolean): void {
    if (idle) this.#idle.add(did);
    else this.#idle.delete(did);
    this.#update(did);
  }

  statusOf(did: string): Status {
    if (!this.#streams.has(did) && !this.#pending.has(did)) return "offline";
    return this.#idle.has(did) ? "idle" : "online";
  }

  /** Everyone not offline. */
  all(): Record<string, Status> {
    const out: Record<string, Status> = {};
    for (const [did, status] of this.#status) if (status !== "offline") out[did] = status;
    return out;
  }

  /** Whether an offline transition is waiting for its grace period. */
  pending(did: string): boolean {
    return this.#pending.has(did);
  }

  #update(did: string): void {
    const status = this.statusOf(did);
    if ((this.#status.get(did) ?? "offline") === status) return;
    if (status === "offline") this.#status.delete(did);
    else this.#status.set(did, status);
    this.onChange(did, status);
  }

  clearTimers(): void {
    for (const handle of this.#pending.values()) this.options.timers.clear(handle);
    this.#pending.clear();
  }
}

/** Who is typing where, with a per-member rate limit. */
export class Typing {
  readonly #channels = new Map<string, Map<string, number>>();
  readonly #last = new Map<string, number>();

  constructor(readonly options: AttentionOptions) {}

  /** Records a signal; false when it came sooner than `typingIntervalMs` after the last one. */
  signal(did: string, channel: string): boolean {
    const now = this.options.now();
    const key = `${did} ${channel}`;
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.options.typingIntervalMs) return false;
    this.#last.set(key, now);
    if (this.#last.size > 10_000) {
      for (const [k, t] of this.#last) if (now - t >= this.options.typingIntervalMs) this.#last.delete(k);
    }
    let typing = this.#channels.get(channel);
    if (!typing) this.#channels.set(channel, typing = new Map());
    typing.set(did, now + this.options.typingMs);
    return true;
  }

  /** The member posted: they stopped typing. Returns whether they were shown typing. */
  stop(did: string, channel: string): boolean {
    return this.#channels.get(channel)?.delete(did) ?? false;
  }

  /** Who is typing in a channel now, dropping expired entries. */
  list(channel: string): string[] {
    const typing = this.#channels.get(channel);
    if (!typing) return [];
    const now = this.options.now();
    for (const [did, until] of typing) if (until <= now) typing.delete(did);
    if (typing.size === 0) this.#channels.delete(channel);
    return [...typing.keys()];
  }

  /** When the next entry in a channel expires, or null. */
  nextExpiry(channel: string): number | null {
    const typing = this.#channels.get(channel);
    if (!typing || typing.size === 0) return null;
    return Math.min(...typing.values());
  }
}

/** A page's live stream, as attention sees it. */
export interface Sink {
  did: string | null;
  actor: Actor;
  channel: string;
  /** Channels the viewer may read (activity from others is never sent). */
  readable: Set<string>;
  /** Only members see who is online (as only members see the member list). */
  member?: boolean;
  /** Writes an event built with sseFrame. */
  push(frame: Uint8Array): void;
}

export class AttentionHub {
  readonly options: AttentionOptions;
  readonly presence: Presence;
  readonly typing: Typing;
  readonly #sinks = new Set<Sink>();
  readonly #byChannel = new Map<string, Set<Sink>>();
  readonly #dirtyTyping = new Set<string>();
  readonly #presenceChanges = new Map<string, Status>();
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  #expiryTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #unsubscribe: Array<() => void> = [];

  constructor(readonly h: Harmony, options: Partial<AttentionOptions> = {}) {
    this.options = { ...defaultAttentionOptions, ...options };
    this.presence = new Presence(this.options, (did, status) => {
      this.#presenceChanges.set(did, status);
      this.#schedule();
    });
    this.typing = new Typing(this.options);
    this.#unsubscribe.push(
      h.hub.subscribeAll((channel, event) => this.#onChannelEvent(channel, event)),
      h.hub.subscribeCommunity(() => void this.#refreshReadable()),
    );
  }

  /** Changes options (tests: a manual clock and timers). */
  configure(options: Partial<AttentionOptions>): void {
    Object.assign(this.options, options);
  }

  get sinkCount(): number {
    return this.#sinks.size;
  }

  /** Registers a page's stream; returns what to call when it closes. */
  async attach(sink: Sink): Promise<() => void> {
    sink.readable = new Set((await listChannels(this.h, sink.actor)).map((c) => c.iri));
    sink.member = sink.did !== null && (await this.h.snapshot()).members.has(sink.did);
    this.#sinks.add(sink);
    let set = this.#byChannel.get(sink.channel);
    if (!set) this.#byChannel.set(sink.channel, set = new Set());
    set.add(sink);
    if (sink.did) this.presence.open(sink.did);
    // The state so far, to this page only.
    if (sink.member) {
      sink.push(sseFrame("presence", JSON.stringify({ all: true, presence: this.presence.all() })));
    }
    const typing = this.typing.list(sink.channel);
    if (typing.length) sink.push(sseFrame("typing", await this.#typingJson(sink.channel, typing)));
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      this.#sinks.delete(sink);
      set.delete(sink);
      if (set.size === 0) this.#byChannel.delete(sink.channel);
      if (sink.did) this.presence.close(sink.did);
    };
  }

  /** A typing signal from `did` in `channel`; false when rate limited. */
  signalTyping(did: string, channel: string): boolean {
    if (!this.typing.signal(did, channel)) return false;
    this.#dirtyTyping.add(channel);
    this.#schedule();
    return true;
  }

  close(): void {
    for (const off of this.#unsubscribe) off();
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    if (this.#expiryTimer !== null) clearTimeout(this.#expiryTimer);
    this.presence.clearTimers();
  }

  async #onChannelEvent(channel: string, event: ChannelEvent): Promise<void> {
    if (event.kind === "channel") return;
    const { message } = event;
    if (event.kind === "created" && this.typing.stop(message.author, channel)) {
      this.#dirtyTyping.add(channel);
      this.#schedule();
    }
    // Only pages open on ANOTHER channel need the activity (their own stream carries the message).
    let wanted = false;
    for (const sink of this.#sinks) {
      if (sink.channel !== channel && sink.readable.has(channel)) {
        wanted = true;
        break;
      }
    }
    if (!wanted) return;
    // One query per event (never per subscriber): whom the message mentions now.
    const mentions = message.deleted ? [] : (await this.h.database.client.execute({
      sql: "SELECT target FROM mentions WHERE message = ?",
      args: [message.id],
    })).rows.map((r) => String(r.target));
    const channelId = this.h.iris.channelId(channel);
    const frame = sseFrame(
      "activity",
      JSON.stringify({
        kind: event.kind,
        channel: channelId,
        id: message.id,
        author: message.author,
        lamport: message.lamport,
        mentions,
      }),
    );
    for (const sink of this.#sinks) {
      if (sink.channel !== channel && sink.readable.has(channel)) sink.push(frame);
    }
  }

  async #refreshReadable(): Promise<void> {
    for (const sink of [...this.#sinks]) {
      try {
        sink.readable = new Set((await listChannels(this.h, sink.actor)).map((c) => c.iri));
        sink.member = sink.did !== null && (await this.h.snapshot()).members.has(sink.did);
      } catch {
        sink.readable = new Set();
      }
    }
  }

  #schedule(): void {
    if (this.#flushTimer !== null) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      void this.#flush();
    }, this.options.coalesceMs);
  }

  async #typingJson(channel: string, dids: string[]): Promise<string> {
    const { profiles } = await this.h.snapshot();
    return JSON.stringify({
      channel: this.h.iris.channelId(channel),
      typing: dids.map((did) => ({ did, name: profiles.get(did)?.name || shortDid(did) })),
    });
  }

  async #flush(): Promise<void> {
    if (this.#presenceChanges.size) {
      const frame = sseFrame(
        "presence",
        JSON.stringify({ presence: Object.fromEntries(this.#presenceChanges) }),
      );
      this.#presenceChanges.clear();
      for (const sink of this.#sinks) if (sink.member) sink.push(frame);
    }
    const channels = [...this.#dirtyTyping];
    this.#dirtyTyping.clear();
    for (const channel of channels) {
      const sinks = this.#byChannel.get(channel);
      const frame = sseFrame("typing", await this.#typingJson(channel, this.typing.list(channel)));
      for (const sink of sinks ?? []) sink.push(frame);
    }
    this.#armExpiry();
  }

  /** Re-sends a channel's typing list when its next entry expires. */
  #armExpiry(): void {
    if (this.#expiryTimer !== null) return;
    let next: number | null = null;
    let channel: string | null = null;
    for (const c of this.#byChannel.keys()) {
      const at = this.typing.nextExpiry(c);
      if (at !== null && (next === null || at < next)) [next, channel] = [at, c];
    }
    if (next === null || channel === null) return;
    const wait = Math.max(0, next - this.options.now()) + 50;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = null;
      for (const c of this.#byChannel.keys()) {
        if (this.typing.nextExpiry(c) !== null) this.#dirtyTyping.add(c);
      }
      this.#schedule();
    }, wait);
  }
}

const hubs = new WeakMap<Harmony, AttentionHub>();

/** The instance's attention hub (created on first use). */
export function attentionOf(h: Harmony): AttentionHub {
  let hub = hubs.get(h);
  if (!hub) hubs.set(h, hub = new AttentionHub(h));
  return hub;
}
