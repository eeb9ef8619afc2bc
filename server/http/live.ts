/**
 * Server-sent events for a channel. The stream resumes where a client left
 * off: the event id is the channel's change revision, and a reconnecting
 * EventSource sends it back as Last-Event-ID.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { ChannelEvent } from "../shared/events.ts";
import type { Harmony } from "../harmony.ts";
import type { ChannelInfo, MessageView } from "../shared/model.ts";
import type { AppEnv } from "./env.ts";
import { CATCH_UP_LIMIT } from "../messages/messages.ts";
import { sseFrame } from "../attention/live.ts";

/** Data already serialised once for every subscriber (see the web stream's render). */
export class Encoded {
  #frame: { id: string | undefined; bytes: Uint8Array } | null = null;
  constructor(readonly json: string) {}

  /** The whole event as bytes, built once: 1,000 subscribers share one encoding. */
  frame(id: string | undefined): Uint8Array {
    if (!this.#frame || this.#frame.id !== id) this.#frame = { id, bytes: sseFrame("change", this.json, id) };
    return this.#frame.bytes;
  }
}

export interface LiveOptions {
  /** What to send for an event (serialised as JSON, unless already Encoded), or null to skip it. */
  render: (event: ChannelEvent) => unknown | null | Promise<unknown | null>;
  /**
   * Other events for this stream (server/attention: typing, presence,
   * activity elsewhere): `push` writes one in order with the rest; the
   * returned function runs when the stream closes.
   */
  attach?: (push: (frame: Uint8Array) => void) => Promise<() => void>;
  /** Changes after a revision, at most CATCH_UP_LIMIT of them. */
  catchUp: (sinceRevision: number) => Promise<MessageView[]>;
  latest: () => Promise<number>;
  /** Re-checked when the channel changes (it may have become members-only). */
  stillAllowed: () => Promise<boolean>;
}

const HEARTBEAT_MS = 25_000;

export function liveStream(
  c: Context<AppEnv>,
  h: Harmony,
  channel: ChannelInfo,
  options: LiveOptions,
): Response {
  const lastId = c.req.header("last-event-id") ?? c.req.query("since");
  const since = lastId !== undefined && /^\d{1,15}$/.test(lastId) ? Number(lastId) : null;
  c.header("x-accel-buffering", "no");
  c.header("cache-control", "no-store");
  return streamSSE(c, async (stream) => {
    let closed = false;
    let highest = 0;
    const pending: ChannelEvent[] = [];
    let ready = false;
    let chain = Promise.resolve();

    const send = async (event: ChannelEvent) => {
      if (closed) return;
      if (event.kind === "channel") {
        if (!(await options.stillAllowed())) {
          closed = true;
          await stream.writeSSE({ event: "closed", data: JSON.stringify({ reason: "access" }) });
          stream.abort();
          return;
        }
        if (event.quiet) return;
      } else {
        if (event.message.revision <= highest) return;
        highest = event.message.revision;
      }
      const data = await options.render(event);
      if (data === null || closed) return;
      const id = event.kind === "channel" ? undefined : String(highest);
      if (data instanceof Encoded) return void await stream.write(data.frame(id));
      await stream.writeSSE({
        event: "change",
        data: JSON.stringify(data),
        id: event.kind === "channel" ? undefined : String(highest),
      });
    };
    // Events are written one at a time, in order.
    const enqueue = (event: ChannelEvent) => {
      chain = chain.then(() => send(event)).catch(() => {
        closed = true;
      });
    };

    const unsubscribe = h.hub.subscribe(channel.iri, (event) => {
      if (ready) enqueue(event);
      else pending.push(event);
    });
    let onDisconnect = () => {};
    const disconnected = new Promise<void>((resolve) => onDisconnect = resolve);
    // Membership changes (leaving, a role change) may close the channel to this reader.
    const unsubscribeCommunity = h.hub.subscribeCommunity(() => {
      if (ready) enqueue({ kind: "channel", channelIri: channel.iri, quiet: true });
    });
    const end = () => {
      closed = true;
      onDisconnect();
      unsubscribe();
      unsubscribeCommunity();
    };
    const forget = () => h.hub.stopping.removeEventListener("abort", end);
    stream.onAbort(() => {
      end();
      forget();
    });
    // The instance is stopping: end the stream (the client reconnects to wherever it restarts).
    if (h.hub.stopping.aborted) end();
    else h.hub.stopping.addEventListener("abort", end, { once: true });

    if (since !== null) {
      const missed = await options.catchUp(since);
      if (missed.length >= CATCH_UP_LIMIT) {
        // Too much was missed to replay: the client reloads the history instead.
        forget();
        unsubscribe();
        unsubscribeCommunity();
        await stream.writeSSE({
          event: "reset",
          data: JSON.stringify({ reason: "too many changes missed" }),
        });
        return;
      }
      for (const message of missed) {
        enqueue({ kind: message.deleted ? "deleted" : message.updated ? "updated" : "created", message });
      }
    } else {
      highest = await options.latest();
      await stream.writeSSE({
        event: "ready",
        data: JSON.stringify({ revision: highest }),
        id: String(highest),
      });
    }
    ready = true;
    for (const event of pending.splice(0)) enqueue(event);
    let detach = () => {};
    if (options.attach && !closed) {
      const push = (frame: Uint8Array) => {
        if (closed) return;
        chain = chain.then(() => stream.write(frame)).then(() => {}).catch(() => {
          closed = true;
        });
      };
      detach = await options.attach(push);
      if (closed) detach();
    }

    while (!closed) {
      await Promise.race([stream.sleep(HEARTBEAT_MS), disconnected]);
      if (closed) break;
      chain = chain.then(() => stream.write(": keep-alive\n\n")).then(() => {}).catch(() => {
        closed = true;
      });
    }
    forget();
    unsubscribe();
    unsubscribeCommunity();
    detach();
  });
}
