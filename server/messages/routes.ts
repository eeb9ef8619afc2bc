/** Routes of messages (JSON API under /api): history, posting, edits, deletions, the channel's event stream. */
import { Hono } from "hono";
import {
  changesSince,
  deleteMessage,
  editMessage,
  getMessage,
  history,
  latestRevision,
  postMessage,
  signedDocuments,
} from "./messages.ts";
import { findChannel } from "../channels/channels.ts";
import { requireRead } from "../community/permissions.ts";
import { invalid } from "../shared/errors.ts";
import type { ChannelEvent } from "../shared/events.ts";
import { jsonBody } from "../http/body.ts";
import { liveStream } from "../http/live.ts";
import type { AppEnv } from "../http/env.ts";

export function messagesApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get("/channels/:id/messages", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    const limitParam = c.req.query("limit");
    const limitValue = limitParam === undefined ? 50 : Number(limitParam);
    if (!Number.isInteger(limitValue) || limitValue < 1 || limitValue > 200) {
      throw invalid("invalid_limit", "limit must be an integer from 1 to 200");
    }
    return c.json(
      await history(h, c.get("actor"), channel, { before: c.req.query("before"), limit: limitValue }),
    );
  });
  api.post("/channels/:id/messages", async (c) => {
    const body = await jsonBody(c);
    const { message, created } = await postMessage(
      c.get("harmony"),
      c.get("actor"),
      c.req.param("id"),
      body.message,
    );
    return c.json(message, created ? 201 : 200);
  });
  api.get("/channels/:id/events", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    const actor = c.get("actor");
    await requireRead(h, actor, channel);
    return liveStream(c, h, channel, {
      render: (event: ChannelEvent) =>
        event.kind === "channel" ? { kind: "channel" } : { kind: event.kind, message: event.message },
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
  api.get("/messages/:id", async (c) => {
    const h = c.get("harmony");
    const id = c.req.param("id");
    const message = await getMessage(h, c.get("actor"), id);
    return c.json({ ...message, signed: await signedDocuments(h, c.get("actor"), id) });
  });
  api.put("/messages/:id", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      await editMessage(c.get("harmony"), c.get("actor"), c.req.param("id"), body.update),
    );
  });
  api.delete("/messages/:id", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      await deleteMessage(
        c.get("harmony"),
        c.get("actor"),
        c.req.param("id"),
        body.delete,
      ),
    );
  });
  return api;
}
