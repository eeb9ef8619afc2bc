/**
 * Routes of channels: the JSON API for channels themselves (under /api),
 * the channel page with its older messages and live stream, and the
 * channel forms of the settings page.
 */
import { Hono } from "hono";
import {
  type ChannelUpdate,
  createChannel,
  deleteChannel,
  findChannel,
  listChannels,
  reorderChannels,
  updateChannel,
} from "./channels.ts";
import { getCommunity } from "../community/community.ts";
import { listMembers } from "../community/members.ts";
import { listBots } from "../community/bots.ts";
import { requireRead } from "../community/permissions.ts";
import { changesSince, history, latestRevision } from "../messages/messages.ts";
import { EVERY_VIEWER, extrasFor } from "../conversation/store.ts";
import { attachLive, pageAttention, presenceNow } from "../attention/routes.tsx";
import { mentionNames } from "../attention/mentions.ts";
import { HarmonyError } from "../shared/errors.ts";
import type { ChannelEvent } from "../shared/events.ts";
import type { Harmony } from "../harmony.ts";
import { jsonBody } from "../http/body.ts";
import { Encoded, liveStream } from "../http/live.ts";
import { csrfOf, viewerOf } from "../http/pages.ts";
import type { AppEnv } from "../http/env.ts";
import { settingsAction } from "../settings/panel.tsx";
import { ChatPage, OlderMessages } from "../../views/chat.tsx";
import { messageDomId, MessageItem } from "../../views/parts.tsx";

export function channelsApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get("/channels", async (c) => c.json(await listChannels(c.get("harmony"), c.get("actor"))));
  api.post("/channels", async (c) => {
    const body = await jsonBody(c);
    return c.json(await createChannel(c.get("harmony"), c.get("actor"), body as { name: unknown }), 201);
  });
  api.put("/channels/order", async (c) => {
    const body = await jsonBody(c);
    return c.json(await reorderChannels(c.get("harmony"), c.get("actor"), body.order));
  });
  api.get("/channels/:id", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    await requireRead(h, c.get("actor"), channel);
    return c.json(channel);
  });
  api.patch("/channels/:id", async (c) => {
    const body = await jsonBody(c);
    return c.json(await updateChannel(c.get("harmony"), c.get("actor"), c.req.param("id"), body));
  });
  api.delete("/channels/:id", async (c) => {
    await deleteChannel(c.get("harmony"), c.get("actor"), c.req.param("id"));
    return c.body(null, 204);
  });
  return api;
}

/** Each event's JSON for the pages' live streams, computed once and shared by every subscriber. */
const sharedRenders = new WeakMap<ChannelEvent, Promise<Encoded>>();

function renderShared(h: Harmony, event: ChannelEvent): Promise<Encoded> {
  let rendered = sharedRenders.get(event);
  if (!rendered) {
    rendered = (async () => {
      if (event.kind === "channel") return new Encoded(JSON.stringify({ kind: "channel" }));
      const { message } = event;
      if (message.deleted) {
        return new Encoded(JSON.stringify({ kind: "deleted", id: messageDomId(message.id) }));
      }
      const [profiles, names] = [(await h.snapshot()).profiles, await mentionNames(h)];
      // Reactions carry every reactor's operations; each page marks its viewer's own.
      const extras = (await extrasFor(h, [message], EVERY_VIEWER)).get(message.id);
      const html = (
        <MessageItem
          message={message}
          author={profiles.get(message.author)}
          viewer={null}
          names={names}
          extras={extras}
          profiles={profiles}
          shared
        />
      ).toString();
      // A thread reply goes to its thread's page, not the channel's timeline.
      return new Encoded(
        JSON.stringify({
          kind: event.kind,
          id: messageDomId(message.id),
          html,
          thread: message.thread ?? null,
        }),
      );
    })();
    sharedRenders.set(event, rendered);
  }
  return rendered;
}

export function channelsWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();

  web.get("/", async (c) => {
    const h = c.get("harmony");
    const [first] = await listChannels(h, c.get("actor"));
    if (!first) throw new HarmonyError(404, "not_found", "there is no channel you can read yet");
    return c.redirect(`/channels/${first.id}`);
  });

  web.get("/channels/:id", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const channel = await findChannel(h, c.req.param("id"));
    await requireRead(h, actor, channel);
    const viewer = await viewerOf(c);
    const channels = await listChannels(h, actor);
    const [page, revision, members, names, attention] = await Promise.all([
      history(h, actor, channel),
      latestRevision(h.db, channel.iri),
      listMembers(h),
      mentionNames(h),
      pageAttention(h, actor, channel, channels),
    ]);
    const snapshot = await h.snapshot();
    return c.html(
      <ChatPage
        community={await getCommunity(h)}
        channels={channels}
        channel={channel}
        messages={page.messages}
        olderCursor={page.before}
        revision={revision}
        profiles={snapshot.profiles}
        members={viewer?.role ? members : null}
        bots={viewer?.role ? await listBots(h) : null}
        memberCount={members.length}
        viewer={viewer}
        csrfToken={csrfOf(c)}
        extras={await extrasFor(h, page.messages, actor.did)}
        names={names}
        attention={attention}
        presence={presenceNow(h)}
      />,
    );
  });

  web.get("/channels/:id/older", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    const page = await history(h, c.get("actor"), channel, { before: c.req.query("before") });
    return c.html(
      <OlderMessages
        channelId={channel.id}
        messages={page.messages}
        cursor={page.before}
        profiles={(await h.snapshot()).profiles}
        viewer={await viewerOf(c)}
        extras={await extrasFor(h, page.messages, c.get("actor").did)}
        names={await mentionNames(h)}
      />,
    );
  });

  web.get("/channels/:id/live", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const channel = await findChannel(h, c.req.param("id"));
    await requireRead(h, actor, channel);
    return liveStream(c, h, channel, {
      // Rendered once per event for every subscriber (viewer-neutral HTML; the page's script
      // keeps the controls its viewer may use): 1,000 open pages cost one rendering, not 1,000.
      render: (event: ChannelEvent) => renderShared(h, event),
      attach: attachLive(h, actor, channel),
      catchUp: (since) => changesSince(h.db, channel.iri, since),
      latest: () => latestRevision(h.db, channel.iri),
      stillAllowed: async () => {
        try {
          await requireRead(h, actor, await findChannel(h, channel.id));
          return true;
        } catch {
          return false;
        }
      },
    });
  });

  // ---- settings forms (admins)
  settingsAction(web, "/ui/channels", async (c, body) => {
    const channel = await createChannel(c.get("harmony"), c.get("actor"), {
      name: body.name,
      topic: body.topic,
      visibility: body.visibility,
    });
    return `Created #${channel.name}.`;
  });
  settingsAction(web, "/ui/channels/:id", async (c, body) => {
    const update: ChannelUpdate = { name: body.name, topic: body.topic, visibility: body.visibility };
    // The form's fediverse fields (an unchecked box sends nothing, hence the marker field).
    if (body.fediverse === "1") {
      update.approveFollowers = body.approveFollowers === "true";
      update.fediverseReplies = body.fediverseReplies;
    }
    const channel = await updateChannel(c.get("harmony"), c.get("actor"), c.req.param("id")!, update);
    return `Saved #${channel.name}.`;
  });
  settingsAction(web, "/ui/channels/:id/move", async (c) => {
    const h = c.get("harmony");
    const id = c.req.param("id")!;
    const to = Number(c.req.query("to"));
    const ids = (await h.snapshot()).channels.map((ch) => ch.id).filter((x) => x !== id);
    if (!Number.isInteger(to) || to < 0 || to > ids.length) {
      throw new HarmonyError(422, "invalid_order", "no such position");
    }
    ids.splice(to, 0, id);
    await reorderChannels(h, c.get("actor"), ids);
    return "Channel order saved.";
  });
  settingsAction(web, "/ui/channels/:id/delete", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id")!);
    await deleteChannel(h, c.get("actor"), channel.id);
    return `Deleted #${channel.name}.`;
  });
  return web;
}
