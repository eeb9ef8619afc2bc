/** Route of the export: the whole community as N-Quads (under /api). */
import { Hono } from "hono";
import { authorize } from "../authority/authorize.ts";
import type { AppEnv } from "../http/env.ts";
import { exportNQuads } from "./exchange.ts";

export function exchangeApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get("/export", async (c) => {
    const h = c.get("harmony");
    await authorize(h, c.get("actor"), "export");
    return new Response(exportNQuads(h), {
      headers: {
        "content-type": "application/n-quads; charset=utf-8",
        "content-disposition": 'attachment; filename="harmony-export.nq"',
      },
    });
  });
  return api;
}
