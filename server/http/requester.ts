/** Who is asking, for the limits kept per requester (sign-in, device pairing): see server/shared/requester.ts. */
import type { Context } from "hono";
import { requesterKey } from "../shared/requester.ts";
import type { AppEnv } from "./env.ts";

/** The requester key of a request; Deno.serve passes the connection as `info`. */
export function requesterOf(c: Context<AppEnv>): string {
  const info = (c.env as { info?: Deno.ServeHandlerInfo } | undefined)?.info;
  const peer = info?.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : undefined;
  return requesterKey(peer, c.req.header("x-forwarded-for"), c.get("harmony").config.trustedProxies);
}
