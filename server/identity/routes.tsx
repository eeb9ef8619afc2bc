/**
 * Routes of sign-in: the challenge and the session (JSON API, mounted under
 * /api), who am I, the identity page and signing out.
 */
import { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { closeSession, issueChallenge, openSession, verifyPresentation } from "./auth.ts";
import { HarmonyError } from "../shared/errors.ts";
import { memberOf } from "../community/permissions.ts";
import { getCommunity } from "../community/community.ts";
import { sessionCookieName } from "../http/middleware.ts";
import { jsonBody } from "../http/body.ts";
import { requesterOf } from "../http/requester.ts";
import { countSignInStep, forgiveSignIn } from "./throttle.ts";
import { isBanned } from "../moderation/guard.ts";
import { csrfOf, redirect, safeReturn } from "../http/pages.ts";
import type { AppEnv } from "../http/env.ts";
import { IdentityPage } from "../../views/identity.tsx";

export function identityApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.post("/auth/challenge", async (c) => {
    const h = c.get("harmony");
    await countSignInStep(h, "challenge", requesterOf(c));
    return c.json(await issueChallenge(h));
  });

  api.post("/auth/session", async (c) => {
    const h = c.get("harmony");
    const address = requesterOf(c);
    // Every attempt counts, good or bad: the limit also bounds the signature checks a stranger can ask for.
    await countSignInStep(h, "session", address);
    const body = await jsonBody(c);
    const did = await verifyPresentation(h, body.presentation);
    // Signing in leaves a session and nothing else: a DID is first seen here when it joins or posts.
    const session = await openSession(h, did);
    const member = await memberOf(h, did);
    if (member && !(await isBanned(h, did))) await forgiveSignIn(h, address);
    setCookie(c, sessionCookieName(h.config.origin), session.token, {
      httpOnly: true,
      sameSite: "Lax",
      secure: h.config.origin.startsWith("https:"),
      path: "/",
      expires: new Date(session.expiresAt),
    });
    return c.json({
      did,
      token: session.token,
      csrfToken: session.csrfToken,
      expires: new Date(session.expiresAt).toISOString(),
      member,
    }, 201);
  });

  api.delete("/auth/session", async (c) => {
    const h = c.get("harmony");
    const token = c.get("sessionToken");
    if (token) await closeSession(h, token);
    deleteCookie(c, sessionCookieName(h.config.origin), { path: "/" });
    return c.body(null, 204);
  });

  api.get("/me", async (c) => {
    const h = c.get("harmony");
    const { did } = c.get("actor");
    if (!did) throw new HarmonyError(401, "unauthenticated", "sign in first");
    return c.json({
      did,
      member: await memberOf(h, did),
      profile: (await h.snapshot()).profiles.get(did) ?? null,
    });
  });
  return api;
}

export function identityWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  web.get("/identity", async (c) => {
    const h = c.get("harmony");
    return c.html(
      <IdentityPage
        returnTo={safeReturn(c.req.query("return"))}
        communityName={(await getCommunity(h)).name}
        signedInAs={c.get("actor").did}
        csrfToken={csrfOf(c)}
      />,
    );
  });

  web.post("/ui/signout", async (c) => {
    const h = c.get("harmony");
    const token = c.get("sessionToken");
    if (token) await closeSession(h, token);
    deleteCookie(c, sessionCookieName(h.config.origin), { path: "/" });
    return redirect(c, "/");
  });
  return web;
}
