/**
 * Routes of search: GET /api/search (JSON, mounted under /api, docs/api.md)
 * and GET /search (the page, and the htmx fragments of its results).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";
import { HarmonyError } from "../shared/errors.ts";
import { listChannels } from "../channels/channels.ts";
import { getCommunity } from "../community/community.ts";
import { memberOf } from "../community/permissions.ts";
import { SearchPage, SearchPageOfHits, SearchResults, type SearchView } from "../../views/search.tsx";
import { search, type SearchHit } from "./search.ts";

/** A hit as the API gives it. */
export function hitJson(hit: SearchHit) {
  return {
    id: hit.id,
    url: hit.url,
    channel: { id: hit.channel.id, name: hit.channel.name },
    author: hit.author,
    published: hit.published,
    updated: hit.updated,
    text: hit.text,
    highlight: hit.html,
  };
}

export function searchApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get("/search", async (c) => {
    const result = await search(c.get("harmony"), c.get("actor"), c.req.query("q") ?? "", {
      cursor: c.req.query("cursor"),
      limit: c.req.query("limit"),
    });
    return c.json({
      query: result.query,
      results: result.hits.map(hitJson),
      nextCursor: result.nextCursor,
    });
  });
  return api;
}

type C = Context<AppEnv>;

export function searchWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  web.get("/search", async (c: C) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const q = c.req.query("q") ?? "";
    const cursor = c.req.query("cursor");
    const snapshot = await h.snapshot();
    const view: SearchView = {
      q,
      hits: [],
      nextCursor: null,
      profiles: snapshot.profiles,
      error: null,
    };
    let status: 200 | 400 | 422 = 200;
    if (q.trim() !== "") {
      try {
        const result = await search(h, actor, q, { cursor });
        view.hits = result.hits;
        view.nextCursor = result.nextCursor;
      } catch (error) {
        if (!(error instanceof HarmonyError) || (error.status !== 400 && error.status !== 422)) throw error;
        view.error = error.message;
        status = error.status;
      }
    }
    const htmx = c.req.header("hx-request") === "true" &&
      c.req.header("hx-history-restore-request") !== "true";
    if (htmx && cursor) {
      // "More results": the next page in place of the button.
      return c.html(view.error ? <SearchResults {...view} /> : <SearchPageOfHits {...view} />, status);
    }
    if (htmx && c.req.header("hx-target") === "search-results") {
      return c.html(<SearchResults {...view} />, status);
    }
    const { did } = actor;
    const member = did ? await memberOf(h, did) : null;
    return c.html(
      <SearchPage
        {...view}
        community={await getCommunity(h)}
        channels={await listChannels(h, actor)}
        viewer={did ? { did, role: member?.role ?? null } : null}
        csrfToken={c.get("session")?.csrfToken ?? null}
      />,
      status,
    );
  });
  return web;
}
