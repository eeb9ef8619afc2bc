/**
 * Attention endpoints (docs/api.md "Mentions, notifications, unread,
 * typing and presence"): the JSON API under /api and the htmx fragments
 * of the bell, mounted by server/app.tsx.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { findChannel } from "../channels/channels.ts";
import { HarmonyError, invalid, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo } from "../shared/model.ts";
import { memberOf } from "../community/permissions.ts";
import { authorize } from "../authority/authorize.ts";
import type { AppEnv } from "../http/env.ts";
import { NotificationList, NotificationsPage, type PageAttention } from "../../views/notifications.tsx";
import { attentionOf } from "./live.ts";
import { mentionDirectory, mentionNames } from "./mentions.ts";
import {
  attentionSummary,
  listNotifications,
  markAllMentionsRead,
  markChannelRead,
  markMentionRead,
} from "./reads.ts";

type C = Context<AppEnv>;

async function jsonObject(c: C): Promise<Record<string, unknown>> {
  if (!(c.req.header("content-type") ?? "").includes("application/json")) return {};
  const text = await c.req.text();
  if (!text) return {};
  try {
    const body = JSON.parse(text);
    if (typeof body === "object" && body !== null && !Array.isArray(body)) return body;
  } catch { /* below */ }
  throw invalid("malformed_json", "the request body must be a JSON object");
}

async function requireMember(h: Harmony, actor: Actor): Promise<string> {
  if (!actor.did) throw unauthorized("sign in first");
  if (!(await memberOf(h, actor.did))) {
    throw new HarmonyError(403, "forbidden", "only members of this community can do this");
  }
  return actor.did;
}

/**
 * What a channel page shows of attention for a signed-in member: opening
 * the page reads the channel (its marker moves to the newest message).
 */
export async function pageAttention(
  h: Harmony,
  actor: Actor,
  channel: ChannelInfo,
  readable?: ChannelInfo[],
): Promise<PageAttention | null> {
  if (!actor.did || !(await memberOf(h, actor.did))) return null;
  await markChannelRead(h, actor, channel);
  return await attentionSummary(h, actor, readable);
}

/** Presence of everyone connected, for the member list a page renders. */
export function presenceNow(h: Harmony): Record<string, string> {
  return attentionOf(h).presence.all();
}

/** Registers a page's live stream with attention (typing, presence, activity in other channels). */
export function attachLive(h: Harmony, actor: Actor, channel: ChannelInfo) {
  return (push: (frame: Uint8Array) => void) =>
    attentionOf(h).attach({ did: actor.did, actor, channel: channel.iri, readable: new Set(), push });
}

export function attentionApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.get("/attention", async (c) => {
    const h = c.get("harmony");
    await requireMember(h, c.get("actor"));
    return c.json(await attentionSummary(h, c.get("actor")));
  });

  /** Members and roles `@name` resolves against (the composer and the CLI). */
  api.get("/attention/directory", async (c) => {
    const h = c.get("harmony");
    await requireMember(h, c.get("actor"));
    return c.json(await mentionDirectory(h));
  });

  api.post("/channels/:id/read", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    await requireMember(h, actor);
    const body = await jsonObject(c);
    const channel = await findChannel(h, c.req.param("id"));
    return c.json({ channel: channel.id, lamport: await markChannelRead(h, actor, channel, body.lamport) });
  });

  api.get("/notifications", async (c) => {
    const h = c.get("harmony");
    await requireMember(h, c.get("actor"));
    const limit = Number(c.req.query("limit") ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
      throw invalid("invalid_limit", "limit must be an integer from 1 to 200");
    }
    return c.json({ notifications: await listNotifications(h, c.get("actor"), limit) });
  });

  api.post("/notifications/read", async (c) => {
    const h = c.get("harmony");
    await requireMember(h, c.get("actor"));
    const body = await jsonObject(c);
    await markMentionRead(h, c.get("actor"), body.message);
    return c.body(null, 204);
  });

  api.post("/notifications/read-all", async (c) => {
    const h = c.get("harmony");
    await requireMember(h, c.get("actor"));
    return c.json({ marked: await markAllMentionsRead(h, c.get("actor")) });
  });

  api.post("/channels/:id/typing", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    if (!actor.did) throw unauthorized("sign in to type in a channel");
    const channel = await findChannel(h, c.req.param("id"));
    await authorize(h, actor, "post", channel);
    if (!attentionOf(h).signalTyping(actor.did, channel.iri)) {
      throw new HarmonyError(429, "rate_limited", "send at most one typing signal every few seconds");
    }
    return c.body(null, 204);
  });

  api.get("/presence", async (c) => {
    const h = c.get("harmony");
    await requireMember(h, c.get("actor"));
    return c.json({ presence: presenceNow(h) });
  });

  /** The page reports its member idle (hidden, no input for a while) or back. */
  api.post("/presence", async (c) => {
    const h = c.get("harmony");
    const did = await requireMember(h, c.get("actor"));
    const { status } = await jsonObject(c);
    if (status !== "idle" && status !== "online") {
      throw invalid("invalid_status", 'status must be "idle" or "online"');
    }
    attentionOf(h).presence.setIdle(did, status === "idle");
    return c.body(null, 204);
  });

  return api;
}

async function listFragment(c: C, oob = true) {
  const h = c.get("harmony");
  const actor = c.get("actor");
  const [notifications, summary, snapshot, names] = await Promise.all([
    listNotifications(h, actor),
    attentionSummary(h, actor),
    h.snapshot(),
    mentionNames(h),
  ]);
  return { notifications, unread: summary.mentions, profiles: snapshot.profiles, names, oob };
}

export function attentionWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();

  web.get("/notifications", async (c) => {
    const h = c.get("harmony");
    if (!c.get("actor").did) return c.redirect("/identity?return=/notifications");
    const me = await requireMember(h, c.get("actor"));
    return c.html(
      <NotificationsPage
        {...await listFragment(c, false)}
        csrfToken={c.get("session")?.csrfToken ?? null}
        me={me}
      />,
    );
  });

  web.get("/ui/notifications", async (c) => {
    await requireMember(c.get("harmony"), c.get("actor"));
    return c.html(<NotificationList {...await listFragment(c)} />);
  });

  web.post("/ui/notifications/read", async (c) => {
    const h = c.get("harmony");
    await requireMember(h, c.get("actor"));
    await markMentionRead(h, c.get("actor"), c.req.query("message"));
    return c.html(<NotificationList {...await listFragment(c)} />);
  });

  web.post("/ui/notifications/read-all", async (c) => {
    const h = c.get("harmony");
    await requireMember(h, c.get("actor"));
    await markAllMentionsRead(h, c.get("actor"));
    return c.html(<NotificationList {...await listFragment(c)} />);
  });

  return web;
}
