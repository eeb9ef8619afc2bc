/**
 * Fedify as Hono middleware: ActivityPub requests (actors, inboxes,
 * collections, objects, WebFinger, NodeInfo) are answered by Fedify; the
 * rest goes on to the app. A browser asking for an actor or a Note (Accept:
 * text/html) is redirected to its page.
 */
import type { MiddlewareHandler } from "hono";
import { eq } from "drizzle-orm";
import { messageIndex } from "../db/schema.ts";
import type { Harmony } from "../server/harmony.ts";
import type { AppEnv } from "../server/http/env.ts";
import { publicChannel } from "./activities.ts";
import { channelOf, knownMember } from "./actors.ts";
import type { HarmonyFederation } from "./federation.ts";
import { INSTANCE } from "./uris.ts";

/** The HTML page of an ActivityPub URL, if it has one. */
export async function pageOf(h: Harmony, url: URL): Promise<string | null> {
  const actor = /^\/ap\/actors\/([^/]+)$/.exec(url.pathname);
  if (actor) {
    const identifier = decodeURIComponent(actor[1]);
    if (identifier === INSTANCE) return "/";
    const channel = await channelOf(h, identifier);
    // A members-only channel has no ActivityPub URL for the outside, not even a redirect.
    if (channel) return channel.visibility === "public" ? `/channels/${identifier}` : null;
    const did = await knownMember(h, identifier);
    return did ? `/members/${encodeURIComponent(did)}` : null;
  }
  const note = /^\/ap\/notes\/([0-9a-f-]{36})$/.exec(url.pathname);
  if (note) {
    const [row] = await h.db.select({ channel: messageIndex.channel, deleted: messageIndex.deleted })
      .from(messageIndex).where(eq(messageIndex.id, `urn:uuid:${note[1]}`));
    const channel = row && !row.deleted ? await publicChannel(h, row.channel) : null;
    return channel ? `/channels/${channel.id}#m-${note[1]}` : null;
  }
  return null;
}

/**
 * Behind a TLS-terminating proxy the request arrives as http: when the
 * proxy says the client used the configured origin's scheme (and the Host
 * is the configured one), the URL is rebuilt with it, so RFC 9421
 * signatures over the target URI verify.
 */
function asReceived(h: Harmony, request: Request): Request {
  const url = new URL(request.url);
  const origin = new URL(h.config.origin);
  const forwarded = request.headers.get("x-forwarded-proto");
  if (url.protocol === origin.protocol || url.host !== origin.host || `${forwarded}:` !== origin.protocol) {
    return request;
  }
  return new Request(new URL(url.pathname + url.search, origin), request);
}

export function fedifyMiddleware(h: Harmony, federation: HarmonyFederation): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const response = await federation.fetch(asReceived(h, c.req.raw), {
      contextData: undefined,
      onNotFound: async () => {
        await next();
        return c.res;
      },
      onNotAcceptable: async (request) => {
        const page = await pageOf(h, new URL(request.url));
        if (page) return new Response(null, { status: 303, headers: { location: page, vary: "Accept" } });
        await next();
        return c.res;
      },
    });
    if (response !== c.res) c.res = response;
  };
}
