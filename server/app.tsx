import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { HarmonyError, notFound } from "./shared/errors.ts";
import type { Harmony } from "./harmony.ts";
import type { AppEnv } from "./http/env.ts";
import { csrf, identify } from "./http/middleware.ts";
import { limitBodies } from "./http/limits.ts";
import { identityApiRoutes, identityWebRoutes } from "./identity/routes.tsx";
import { communityApiRoutes, communityWebRoutes } from "./community/routes.tsx";
import { authorityApiRoutes, authorityWebRoutes } from "./authority/routes.tsx";
import { channelsApiRoutes, channelsWebRoutes } from "./channels/routes.tsx";
import { messagesApiRoutes } from "./messages/routes.ts";
import { replicationApiRoutes, replicationWebRoutes } from "./replication/routes.tsx";
import { exchangeApiRoutes } from "./exchange/routes.ts";
import { credentialsApiRoutes } from "./credentials/routes.ts";
import { settingsWebRoutes } from "./settings/routes.tsx";
import { recoveryApiRoutes } from "./recovery/routes.ts";
import { moderationApiRoutes, moderationWebRoutes } from "./moderation/routes.tsx";
import { dmApiRoutes, dmWebRoutes } from "./dms/routes.tsx";
import { filesApiRoutes, filesWebRoutes } from "./files/routes.tsx";
import { conversationApiRoutes, conversationWebRoutes } from "./conversation/routes.tsx";
import { searchApiRoutes, searchWebRoutes } from "./search/routes.tsx";
import { attentionApiRoutes, attentionWebRoutes } from "./attention/routes.tsx";
import { harmonyContext, harmonyCredentialsContext } from "./rdf/vocab.ts";
import { publishedStatusList } from "./credentials/mod.ts";
import type { Asset } from "./http/assets.ts";
import { ErrorPage } from "../views/pages.tsx";
import { refuseBanned } from "./moderation/guard.ts";

const securityHeaders: Record<string, string> = {
  "content-security-policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
};

function errorResponse(c: Context<AppEnv>, error: unknown): Response | Promise<Response> {
  const known = error instanceof HarmonyError;
  if (!known) console.error(`${c.req.method} ${c.req.path} failed:`, error);
  const status = known ? error.status : 500;
  const code = known ? error.code : "internal";
  const message = known ? error.message : "something went wrong on the server";
  // A refusal to wait (slow mode, rate limits) says for how long.
  const retryAfter = known ? (error as { retryAfter?: number }).retryAfter : undefined;
  if (retryAfter !== undefined) c.header("retry-after", String(retryAfter));
  if (c.req.path.startsWith("/api/") || c.req.path === "/api") {
    return c.json({ error: code, message }, status);
  }
  if (c.req.header("hx-request")) {
    c.header("HX-Retarget", "#toast");
    c.header("HX-Reswap", "innerHTML");
    return c.html(<p class="toast error">{message}</p>, status);
  }
  return c.html(<ErrorPage status={status} message={message} did={c.get("actor")?.did ?? null} />, status);
}

/** The JSON API (docs/api.md): everything the web UI does, for scripts, bots and the CLI. */
function apiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  for (
    const routes of [
      identityApiRoutes,
      communityApiRoutes,
      authorityApiRoutes,
      channelsApiRoutes,
      messagesApiRoutes,
      replicationApiRoutes,
      exchangeApiRoutes,
      recoveryApiRoutes,
      moderationApiRoutes,
      dmApiRoutes,
      filesApiRoutes,
      conversationApiRoutes,
      searchApiRoutes,
      attentionApiRoutes,
      credentialsApiRoutes,
    ]
  ) api.route("/", routes());
  api.all("*", () => {
    throw notFound("there is no such API endpoint; see docs/api.md");
  });
  return api;
}

/** Server-rendered pages and the htmx endpoints behind their forms. */
function webRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  for (
    const routes of [
      channelsWebRoutes,
      identityWebRoutes,
      communityWebRoutes,
      settingsWebRoutes,
      replicationWebRoutes,
      authorityWebRoutes,
      moderationWebRoutes,
      dmWebRoutes,
      filesWebRoutes,
      conversationWebRoutes,
      searchWebRoutes,
      attentionWebRoutes,
    ]
  ) web.route("/", routes());
  return web;
}

/**
 * The HTTP application. `federation` is the ActivityPub layer's middleware
 * (federation/), handed in by the composition root so that nothing here
 * depends on it.
 */
export function createApp(
  h: Harmony,
  assets: Map<string, Asset>,
  federation?: MiddlewareHandler<AppEnv>,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(securityHeaders)) {
      if (!c.res.headers.has(k)) c.res.headers.set(k, v);
    }
  });
  // Before anything reads a body (identify, CSRF, Fedify, the bridge inbox, every route): http/limits.ts.
  app.use("*", limitBodies(h.config.bodyTimeoutSeconds));

  app.get("/healthz", async (c) => {
    await h.database.client.execute("select 1");
    return c.json({ ok: true });
  });

  app.get("/static/:name", (c) => {
    const found = assets.get(c.req.param("name"));
    if (!found) return c.text("not found", 404);
    if (c.req.header("if-none-match") === found.etag) return c.body(null, 304);
    return c.body(found.body, 200, {
      "content-type": found.type,
      etag: found.etag,
      "cache-control": "no-cache",
    });
  });

  app.get("/ns/v1", (c) =>
    c.body(JSON.stringify(harmonyContext(), null, 2), 200, {
      "content-type": "application/ld+json",
      "access-control-allow-origin": "*",
      "cache-control": "public, max-age=86400",
    }));

  app.get("/ns/credentials/v1", (c) =>
    c.body(JSON.stringify(harmonyCredentialsContext(), null, 2), 200, {
      "content-type": "application/ld+json",
      "access-control-allow-origin": "*",
      "cache-control": "public, max-age=86400",
    }));
  // Bitstring Status Lists of the credentials the community issued (public, like the credentials' proofs).
  app.get("/credentials/status/:n", async (c) => {
    const list = await publishedStatusList(h, c.req.param("n"));
    const wantsVc = (c.req.header("accept") ?? "").includes("application/vc");
    return c.body(JSON.stringify(list), 200, {
      "content-type": wantsVc ? "application/vc" : "application/json",
      "access-control-allow-origin": "*",
      "cache-control": "public, max-age=60",
      vary: "accept",
    });
  });

  if (federation) app.use("*", federation);
  app.use("*", identify(h));
  app.use("*", csrf(h));
  app.use("*", refuseBanned(h));
  app.route("/api", apiRoutes());
  app.route("/", webRoutes());

  app.notFound((c) =>
    errorResponse(c, new HarmonyError(404, "not_found", "there is nothing at this address"))
  );
  app.onError((error, c) => errorResponse(c, error));
  return app;
}
