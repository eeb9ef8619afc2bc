/**
 * Routes of the conversation features: the JSON API (mounted under /api,
 * docs/api.md) and the pages (mounted at /): message permalinks, threads,
 * the thread list and the pinned messages of a channel.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { findChannel, listChannels } from "../channels/channels.ts";
import { getCommunity } from "../community/community.ts";
import { HarmonyError } from "../shared/errors.ts";
import { listMembers } from "../community/members.ts";
import { listBots } from "../community/bots.ts";
import { encodeCursor, getMessage, latestRevision } from "../messages/messages.ts";
import type { Actor, ChannelInfo, MessageView } from "../shared/model.ts";
import { memberOf, requireRead } from "../community/permissions.ts";
import type { AppEnv } from "../http/env.ts";
import type { Harmony } from "../harmony.ts";
import { ChatPage } from "../../views/chat.tsx";
import type { Viewer } from "../../views/parts.tsx";
import { PinsPage, ThreadsPage } from "../../views/conversationPages.tsx";
import {
  historyAround,
  listThreads,
  markThreadRead,
  messageInChannel,
  pinMessage,
  pinnedMessages,
  reactToMessage,
  readThread,
} from "./conversation.ts";
import { extrasFor, reactionsOf } from "./store.ts";
import { jsonBody } from "../http/body.ts";

type C = Context<AppEnv>;

async function viewerOf(h: Harmony, actor: Actor): Promise<Viewer | null> {
  if (!actor.did) return null;
  const member = await memberOf(h, actor.did);
  return { did: actor.did, role: member?.role ?? null };
}

export function conversationApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get("/messages/:id/reactions", async (c) => {
    const h = c.get("harmony");
    const id = c.req.param("id");
    await getMessage(h, c.get("actor"), id);
    return c.json((await reactionsOf(h.db, [id], c.get("actor").did)).get(id) ?? []);
  });
  api.post("/messages/:id/reactions", async (c) => {
    const h = c.get("harmony");
    const body = await jsonBody(c);
    const document = body.react ?? body.unreact;
    if (document === undefined) {
      throw new HarmonyError(400, "malformed_request", 'send {"react": …} or {"unreact": …}');
    }
    if (body.react !== undefined && (body.react as { type?: unknown })?.type !== "React") {
      throw new HarmonyError(422, "malformed_document", '"react" must be a signed React');
    }
    if (body.unreact !== undefined && (body.unreact as { type?: unknown })?.type !== "Unreact") {
      throw new HarmonyError(422, "malformed_document", '"unreact" must be a signed Unreact');
    }
    const id = c.req.param("id");
    const outcome = await reactToMessage(h, c.get("actor"), id, document);
    const reactions = (await reactionsOf(h.db, [id], c.get("actor").did)).get(id) ?? [];
    return c.json(
      { status: outcome.status, opId: outcome.opId, reactions },
      outcome.status === "duplicate" ? 200 : 201,
    );
  });
  api.post("/messages/:id/pin", async (c) => {
    const body = await jsonBody(c);
    const outcome = await pinMessage(c.get("harmony"), c.get("actor"), c.req.param("id"), body.pin);
    return c.json({ status: outcome.status, opId: outcome.opId, pinned: outcome.pinned });
  });
  api.get("/channels/:id/pins", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    return c.json(await pinnedMessages(h, c.get("actor"), channel));
  });
  api.get("/channels/:id/threads", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    return c.json(await listThreads(h, c.get("actor"), channel));
  });
  api.get("/channels/:id/threads/:uuid", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    const thread = await readThread(h, c.get("actor"), channel, c.req.param("uuid"));
    return c.json(thread);
  });
  // The member has read the thread up to its newest reply (the thread page calls it as replies arrive).
  api.post("/channels/:id/threads/:uuid/read", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const channel = await findChannel(h, c.req.param("id"));
    const thread = await readThread(h, actor, channel, c.req.param("uuid"));
    if (!actor.did || !(await memberOf(h, actor.did))) {
      throw new HarmonyError(403, "forbidden", "only members keep read markers");
    }
    const newest = thread.replies.reduce((top, m) => Math.max(top, m.lamport), 0);
    if (newest > 0) await markThreadRead(h, actor.did, thread.root.id, newest);
    return c.body(null, 204);
  });
  return api;
}

async function chatPage(
  c: C,
  channel: ChannelInfo,
  content: {
    messages: MessageView[];
    olderCursor: string | null;
    highlight?: string | null;
    hasNewer?: boolean;
    thread?: MessageView | null;
  },
) {
  const h = c.get("harmony");
  const actor = c.get("actor");
  const viewer = await viewerOf(h, actor);
  const [revision, channels, members, snapshot, community] = await Promise.all([
    latestRevision(h.db, channel.iri),
    listChannels(h, actor),
    listMembers(h),
    h.snapshot(),
    getCommunity(h),
  ]);
  const shown = content.thread ? [content.thread, ...content.messages] : content.messages;
  return c.html(
    <ChatPage
      community={community}
      channels={channels}
      channel={channel}
      messages={content.messages}
      olderCursor={content.olderCursor}
      revision={revision}
      profiles={snapshot.profiles}
      members={viewer?.role ? members : null}
      bots={viewer?.role ? await listBots(h) : null}
      memberCount={members.length}
      viewer={viewer}
      csrfToken={c.get("session")?.csrfToken ?? null}
      extras={await extrasFor(h, shown, actor.did)}
      highlight={content.highlight}
      hasNewer={content.hasNewer}
      thread={content.thread}
    />,
  );
}

export function conversationWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  // A message's permalink: the channel page around it, the message highlighted.
  web.get("/channels/:id/messages/:uuid", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    const message = await messageInChannel(h, c.get("actor"), channel, c.req.param("uuid"));
    if (message.thread) {
      // A thread reply: its thread, the reply highlighted.
      const thread = await readThread(h, c.get("actor"), channel, message.thread.replace(/^urn:uuid:/, ""));
      return await chatPage(c, channel, {
        messages: thread.replies,
        olderCursor: null,
        thread: thread.root,
        highlight: message.id,
      });
    }
    const around = await historyAround(h, channel, message);
    return await chatPage(c, channel, {
      messages: around.messages,
      olderCursor: around.olderCursor ? encodeCursor(around.olderCursor) : null,
      highlight: message.id,
      hasNewer: around.hasNewer,
    });
  });
  web.get("/channels/:id/threads", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const channel = await findChannel(h, c.req.param("id"));
    const threads = await listThreads(h, actor, channel);
    return c.html(
      <ThreadsPage
        channel={channel}
        threads={threads}
        profiles={(await h.snapshot()).profiles}
        me={actor.did}
        csrfToken={c.get("session")?.csrfToken ?? null}
      />,
    );
  });
  web.get("/channels/:id/threads/:uuid", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const channel = await findChannel(h, c.req.param("id"));
    const thread = await readThread(h, actor, channel, c.req.param("uuid"));
    if (actor.did && (await memberOf(h, actor.did))) {
      const newest = thread.replies.reduce((top, m) => Math.max(top, m.lamport), 0);
      if (newest > 0) await markThreadRead(h, actor.did, thread.root.id, newest);
    }
    return await chatPage(c, channel, { messages: thread.replies, olderCursor: null, thread: thread.root });
  });
  web.get("/channels/:id/pins", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const channel = await findChannel(h, c.req.param("id"));
    await requireRead(h, actor, channel);
    return c.html(
      <PinsPage
        channel={channel}
        pins={await pinnedMessages(h, actor, channel)}
        profiles={(await h.snapshot()).profiles}
        me={actor.did}
        csrfToken={c.get("session")?.csrfToken ?? null}
      />,
    );
  });
  return web;
}
