import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { findSession } from "../identity/auth.ts";
import { HarmonyError } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { anonymous } from "../shared/model.ts";
import type { AppEnv } from "./env.ts";

export const SESSION_COOKIE = "harmony_session";

export function sessionCookieName(origin: string): string {
  // The __Host- prefix pins the cookie to this exact origin over https.
  return origin.startsWith("https:") ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

/** Resolves who is calling: a bearer token (scripts) or the session cookie (browsers). */
export function identify(h: Harmony) {
  const cookieName = sessionCookieName(h.config.origin);
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set("harmony", h);
    c.set("actor", anonymous);
    c.set("session", null);
    c.set("sessionToken", null);
    const header = c.req.header("authorization");
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) {
        throw new HarmonyError(401, "bad_authorization", "the Authorization header must be 'Bearer <token>'");
      }
      const session = await findSession(h, match[1]);
      if (!session) {
        throw new HarmonyError(
          401,
          "invalid_session",
          "the session token is unknown or expired; sign in again",
        );
      }
      c.set("actor", { did: session.did, via: "bearer" });
      c.set("session", session);
      c.set("sessionToken", match[1]);
    } else {
      const token = getCookie(c, cookieName);
      const session = token ? await findSession(h, token) : null;
      if (session && token) {
        c.set("actor", { did: session.did, via: "cookie" });
        c.set("session", session);
        c.set("sessionToken", token);
      }
    }
    await next();
  });
}

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Cookie-authenticated changes need the session's CSRF token (header
 * X-CSRF-Token or form field _csrf) and, when the browser sends one, an
 * Origin equal to ours. Bearer tokens are not sent by browsers on their
 * own, so they need neither.
 */
export function csrf(h: Harmony) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (safeMethods.has(c.req.method)) return await next();
    const origin = c.req.header("origin");
    if (origin && origin !== h.config.origin) {
      throw new HarmonyError(403, "cross_origin", `requests from ${origin} are not accepted here`);
    }
    const actor = c.get("actor");
    if (actor.via === "cookie") {
      let token = c.req.header("x-csrf-token");
      if (!token && (c.req.header("content-type") ?? "").includes("application/x-www-form-urlencoded")) {
        const form = await c.req.parseBody();
        token = typeof form._csrf === "string" ? form._csrf : undefined;
      }
      if (!token || token !== c.get("session")!.csrfToken) {
        throw new HarmonyError(
          403,
          "csrf",
          "this request lacks a valid CSRF token; reload the page and try again",
        );
      }
    }
    await next();
  });
}
