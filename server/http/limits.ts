/** Byte limits on the JSON API's request bodies. */
import { bodyLimit } from "hono/body-limit";
import type { MiddlewareHandler } from "hono";
import { HarmonyError } from "../shared/errors.ts";
import { MAX_AVATAR_BYTES } from "../community/profiles.ts";
import type { AppEnv } from "./env.ts";

const MAX_JSON_BYTES = 64 * 1024;

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new HarmonyError(413, "too_large", `the request body is larger than ${maxSize} bytes`);
    },
  });

/** The limit of every /api request: 64 KiB, more for a profile with its avatar, none for an upload. */
export function apiBodyLimits(): MiddlewareHandler<AppEnv> {
  const jsonLimit = limit(MAX_JSON_BYTES);
  // A profile carries its avatar as base64 (4/3 of the image size).
  const profileLimit = limit(Math.ceil(MAX_AVATAR_BYTES * 4 / 3) + MAX_JSON_BYTES);
  return (c, next) =>
    // An upload streams to storage and is counted against the community's own limit (server/files).
    c.req.method === "POST" && c.req.path === "/api/files"
      ? next()
      : (c.req.path.endsWith("/api/profile") ? profileLimit : jsonLimit)(c, next);
}
