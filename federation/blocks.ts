/**
 * Blocked fediverse accounts and servers (server/moderation/remoteBlocks.ts)
 * at the edges of the federation layer:
 *
 * - refuseBlockedSenders: a POST to an inbox whose signing key or activity
 *   actor belongs to a blocked account or server is answered 403 before
 *   Fedify looks at it, so nothing of it is verified, fetched or stored;
 * - unlessBlocked: the inbox listeners ignore an activity whose verified
 *   actor is blocked (whatever got past the first check, e.g. a key whose
 *   URL does not name its actor);
 * - withoutBlockedDeliveries: Fedify's queue drops deliveries to an inbox
 *   of a blocked account or server when their turn comes, so those queued
 *   before the block are not sent either.
 *
 * Bridges (federation/bridge/) are not touched: a bridge is a capability
 * an admin granted and revokes as such.
 */
import type { InboxContext, MessageQueue, MessageQueueListenOptions } from "@fedify/fedify";
import type { Activity } from "@fedify/vocab";
import type { MiddlewareHandler } from "hono";
import type { Harmony } from "../server/harmony.ts";
import type { AppEnv } from "../server/http/env.ts";
import { anyBlocked, hasRemoteBlocks, remoteBlockOf } from "../server/moderation/remoteBlocks.ts";
import type { RemoteBlock } from "../server/moderation/state.ts";

const inboxPath = /^\/ap\/(inbox|actors\/[^/]+\/inbox)$/;

/** The key a request is signed with: draft-cavage's `keyId`, or RFC 9421's `keyid`. */
function signingKeyOf(request: Request): string | null {
  const header = request.headers.get("signature-input") ?? request.headers.get("signature") ?? "";
  return /keyid="([^"]+)"/i.exec(header)?.[1] ?? null;
}

/** The activity's actor as its JSON names it (a string, or an object with an id). */
function actorOf(body: unknown): string | null {
  const actor = (body as { actor?: unknown } | null)?.actor;
  const first = Array.isArray(actor) ? actor[0] : actor;
  if (typeof first === "string") return first;
  const id = (first as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : null;
}

function refusal(block: RemoteBlock): Response {
  const message = block.kind === "actor"
    ? "this community does not accept activities from this account"
    : `this community does not accept activities from ${new URL(block.target).host}`;
  return Response.json({ error: "blocked", message }, { status: 403 });
}

/** Answers 403 for inbox POSTs from blocked accounts and servers; everything else goes on. */
export function refuseBlockedSenders(h: Harmony): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== "POST" || !inboxPath.test(c.req.path) || !(await hasRemoteBlocks(h))) {
      return await next();
    }
    const key = signingKeyOf(c.req.raw);
    const byKey = key ? await remoteBlockOf(h, key.replace(/#.*$/, "")) ?? await remoteBlockOf(h, key) : null;
    if (byKey) return refusal(byKey);
    let body: unknown = null;
    try {
      body = JSON.parse(await c.req.raw.clone().text());
    } catch {
      return await next(); // not JSON: Fedify answers that
    }
    const byActor = await remoteBlockOf(h, actorOf(body));
    if (byActor) return refusal(byActor);
    return await next();
  };
}

/** An inbox listener that ignores activities from blocked accounts and servers. */
export function unlessBlocked<T extends Activity>(
  h: Harmony,
  listener: (ctx: InboxContext<void>, activity: T) => Promise<void>,
): (ctx: InboxContext<void>, activity: T) => Promise<void> {
  return async (ctx, activity) => {
    if (await anyBlocked(h, [activity.actorId?.href])) return;
    await listener(ctx, activity);
  };
}

/** Fedify's queue, minus deliveries ("outbox" jobs) to an inbox of a blocked account or server. */
export function withoutBlockedDeliveries(h: Harmony, queue: MessageQueue): MessageQueue {
  return {
    get nativeRetrial() {
      return queue.nativeRetrial;
    },
    enqueue: (message, options) => queue.enqueue(message, options),
    enqueueMany: queue.enqueueMany?.bind(queue),
    getDepth: queue.getDepth?.bind(queue),
    listen(handler, options?: MessageQueueListenOptions) {
      return queue.listen(async (message) => {
        const job = message as { type?: unknown; inbox?: unknown; sharedInbox?: unknown; actorIds?: unknown };
        if (job?.type === "outbox" && typeof job.inbox === "string") {
          // A personal inbox is its actor's: a blocked account's too (a shared one is its server's).
          const actors = job.sharedInbox !== true && Array.isArray(job.actorIds)
            ? job.actorIds.map(String)
            : [];
          if (await anyBlocked(h, [job.inbox, ...actors])) return;
        }
        await handler(message);
      }, options);
    },
  };
}
