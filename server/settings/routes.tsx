/** The settings page; its forms live with the features they change (settingsAction). */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.ts";
import { SettingsPage } from "../../views/settings.tsx";
import { settingsData } from "./panel.tsx";

export function settingsWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  web.get("/settings", async (c) => {
    if (!c.get("actor").did) return c.redirect("/identity?return=/settings");
    return c.html(<SettingsPage {...await settingsData(c)} />);
  });
  return web;
}
