/**
 * Routes of direct messages: the JSON API (mounted under /api, docs/api.md)
 * and the pages /dms and /dms/{did} (decrypted in the browser by
 * static/client/dm.ts). Every answer carries ciphertext envelopes only.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { and, asc, eq, gt, or, sql } from "drizzle-orm";
import { dmIndex } from "../../db/schema.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { invalid, notFound } from "../shared/errors.ts";
import type { AppEnv } from "../http/env.ts";
import type { Harmony } from "../harmony.ts";
import { getCommunity } from "../community/community.ts";
import { DmConversationPage, DmListPage } from "../../views/dms.tsx";
import { conversationId, peerOf } from "./crypto.ts";
import { type DmEvent, dmHub } from "./hub.ts";
import { dmReader, resolveRemoteMember, sendDm } from "./service.ts";
import { conversationHistory, listConversations, markRead, peerActorOf } from "./store.ts";
import { jsonBody } from "../http/body.ts";

function peerParam(c: Context<AppEnv>): string {
  const peer = decodeURIComponent(c.req.param("peer") ?? "");
  if (!isDidKey(peer)) {
    throw invalid("invalid_peer", "the conversation is named by the other member's did:key");
  }
  return peer;
}

function position(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`invalid_${name}`, `${name} must be a position`);
  return n;
}

function limitOf(c: Context<AppEnv>): number {
  const limit = Number(c.req.query("limit") ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw invalid("invalid_limit", "limit must be an integer from 1 to 200");
  }
  return limit;
}

const HEARTBEAT_MS = 25_000;

/** Live DMs of the signed-in member (both directions), resumable by position (Last-Event-ID). */
function liveDms(c: Context<AppEnv>, h: Harmony, me: string): Response {
  const lastId = c.req.header("last-event-id") ?? c.req.query("since");
  const since = lastId !== undefined && /^\d{1,15}$/.test(lastId) ? Number(lastId) : null;
  c.header("x-accel-buffering", "no");
  c.header("cache-control", "no-store");
  return streamSSE(c, async (stream) => {
    let closed = false;
    let highest = since ?? 0;
    let ready = false;
    const pending: DmEvent[] = [];
    let chain = Promise.resolve();
    const send = async (event: DmEvent) => {
      if (closed || event.position <= highest) return;
      highest = event.position;
      await stream.writeSSE({ event: "dm", data: JSON.stringify(event), id: String(event.position) });
    };
    const enqueue = (event: DmEvent) => {
      chain = chain.then(() => send(event)).catch(() => {
        closed = true;
      });
    };
    const unsubscribe = dmHub(h).subscribe(me, (event) => (ready ? enqueue(event) : pending.push(event)));
    let onDisconnect = () => {};
    const disconnected = new Promise<void>((resolve) => onDisconnect = resolve);
    const end = () => {
      closed = true;
      onDisconnect();
      unsubscribe();
    };
    const forget = () => h.hub.stopping.removeEventListener("abort", end);
    stream.onAbort(() => {
      end();
      forget();
    });
    // The instance is stopping: end the stream (see EventHub.stop).
    if (h.hub.stopping.aborted) end();
    else h.hub.stopping.addEventListener("abort", end, { once: true });
    if (since !== null) {
      const missed = await h.db.select().from(dmIndex)
        .where(and(or(eq(dmIndex.sender, me), eq(dmIndex.recipient, me)), gt(dmIndex.position, since)))
        .orderBy(asc(dmIndex.position)).limit(500);
      for (const row of missed) {
        enqueue({
          position: row.position,
          conversation: row.conversation,
          envelope: JSON.parse(row.envelope),
        });
      }
    } else {
      const [latest] = await h.db.select({ position: sql<number>`max(${dmIndex.position})` }).from(dmIndex)
        .where(or(eq(dmIndex.sender, me), eq(dmIndex.recipient, me)));
      highest = Number(latest?.position ?? 0);
      await stream.writeSSE({
        event: "ready",
        data: JSON.stringify({ position: highest }),
        id: String(highest),
      });
    }
    ready = true;
    for (const event of pending.splice(0)) enqueue(event);
    while (!closed) {
      await Promise.race([stream.sleep(HEARTBEAT_MS), disconnected]);
      if (closed) break;
      chain = chain.then(() => stream.write(": keep-alive\n\n")).then(() => {}).catch(() => {
        closed = true;
      });
    }
    forget();
    unsubscribe();
  });
}

export function dmApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get("/dms", async (c) => {
    const h = c.get("harmony");
    const me = await dmReader(h, c.get("actor"));
    const conversations = await listConversations(h, me);
    return c.json({ conversations, unread: conversations.reduce((sum, x) => sum + x.unread, 0) });
  });
  api.post("/dms", async (c) => {
    const record = await sendDm(c.get("harmony"), c.get("actor"), await jsonBody(c));
    return c.json(
      { id: record.envelope.id, position: record.position, conversation: record.conversation },
      201,
    );
  });
  api.get("/dms/live", async (c) => {
    const h = c.get("harmony");
    return liveDms(c, h, await dmReader(h, c.get("actor")));
  });
  api.get("/dms/resolve", async (c) => {
    return c.json(await resolveRemoteMember(c.get("harmony"), c.get("actor"), c.req.query("actor")));
  });
  /** One envelope by id: only its two participants get it (404 for everyone else). */
  api.get("/dms/messages/:id", async (c) => {
    const h = c.get("harmony");
    const me = await dmReader(h, c.get("actor"));
    const [row] = await h.db.select().from(dmIndex).where(eq(dmIndex.id, c.req.param("id")));
    if (!row || (row.sender !== me && row.recipient !== me)) {
      throw notFound("there is no such direct message");
    }
    return c.json({
      position: row.position,
      conversation: row.conversation,
      envelope: JSON.parse(row.envelope),
    });
  });
  api.get("/dms/:peer", async (c) => {
    const h = c.get("harmony");
    const me = await dmReader(h, c.get("actor"));
    const peer = peerParam(c);
    const page = await conversationHistory(h, me, peer, {
      before: position(c.req.query("before"), "before"),
      after: position(c.req.query("after"), "after"),
      limit: limitOf(c),
    });
    return c.json({ ...page, peer, peerActor: await peerActorOf(h, peer) });
  });
  api.post("/dms/:peer/read", async (c) => {
    const h = c.get("harmony");
    const me = await dmReader(h, c.get("actor"));
    const peer = peerParam(c);
    const body = await jsonBody(c);
    const at = body.position;
    if (!Number.isSafeInteger(at) || (at as number) < 0) {
      throw invalid("invalid_position", "position must be a position");
    }
    await markRead(h, me, peer, at as number);
    return c.body(null, 204);
  });
  return api;
}

async function names(h: Harmony): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [did, profile] of (await h.snapshot()).profiles) if (profile.name) out[did] = profile.name;
  return out;
}

export function dmWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  const csrfOf = (c: Context<AppEnv>) => c.get("session")?.csrfToken ?? null;
  web.get("/dms", async (c) => {
    const h = c.get("harmony");
    if (!c.get("actor").did) return c.redirect("/identity?return=/dms");
    const me = await dmReader(h, c.get("actor"));
    const snapshot = await h.snapshot();
    return c.html(
      <DmListPage
        communityName={(await getCommunity(h)).name}
        csrfToken={csrfOf(c)}
        me={me}
        conversations={await listConversations(h, me)}
        members={[...snapshot.members.keys()].filter((did) => did !== me)}
        names={await names(h)}
      />,
    );
  });
  web.get("/dms/:peer", async (c) => {
    const h = c.get("harmony");
    const peer = peerParam(c);
    if (!c.get("actor").did) return c.redirect(`/identity?return=/dms/${encodeURIComponent(peer)}`);
    const me = await dmReader(h, c.get("actor"));
    const page = await conversationHistory(h, me, peer, { limit: 100 });
    const actorQuery = c.req.query("actor");
    return c.html(
      <DmConversationPage
        communityName={(await getCommunity(h)).name}
        csrfToken={csrfOf(c)}
        me={me}
        peer={peer}
        peerActor={(await peerActorOf(h, peer)) ??
          (actorQuery && /^https?:\/\/\S+$/.test(actorQuery) ? actorQuery : null)}
        conversation={conversationId(me, peer)}
        messages={page.messages.filter((m) => peerOf(m.envelope, me) === peer)}
        before={page.before}
        names={await names(h)}
      />,
    );
  });
  return web;
}
