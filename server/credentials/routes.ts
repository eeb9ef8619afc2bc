/** Routes of a member's own credentials (under /api); status lists are served by the app itself. */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.ts";
import { credentialJson, getCredential, listCredentials } from "./mod.ts";

export function credentialsApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get("/credentials", async (c) => {
    const records = await listCredentials(c.get("harmony"), c.get("actor"));
    return c.json(records.map(credentialJson));
  });
  api.get("/credentials/:id", async (c) => {
    const record = await getCredential(c.get("harmony"), c.get("actor"), c.req.param("id"));
    return c.json(record.credential);
  });
  return api;
}
