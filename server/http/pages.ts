/** What the page routes of every feature share: who is looking, the CSRF token, form bodies, htmx redirects. */
import type { Context } from "hono";
import type { Viewer } from "../../views/parts.tsx";
import { memberOf } from "../community/permissions.ts";
import type { AppEnv } from "./env.ts";

type C = Context<AppEnv>;

export async function viewerOf(c: C): Promise<Viewer | null> {
  const { did } = c.get("actor");
  if (!did) return null;
  const member = await memberOf(c.get("harmony"), did);
  return { did, role: member?.role ?? null };
}

export const csrfOf = (c: C) => c.get("session")?.csrfToken ?? null;

/** Where an htmx request should go next (a full navigation). */
export function redirect(c: C, to: string) {
  c.header("HX-Redirect", to);
  return c.body(null, 204);
}

export async function form(c: C): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

export function safeReturn(path: string | undefined): string {
  return path && /^\/[A-Za-z0-9/_\-.~%?=&]*$/.test(path) && !path.startsWith("//") ? path : "/";
}
