/** Routes of roles and capabilities: the JSON API (under /api) and the role forms of the settings page. */
import { Hono } from "hono";
import type { Context } from "hono";
import { acceptDelegation, assignRole, listRoles, removeRole, revokeCapability } from "./grants.ts";
import { createRole, deleteRole, updateRole } from "./roles.ts";
import { capabilityJson, capabilityReport } from "./report.ts";
import { requireRole } from "../community/permissions.ts";
import { HarmonyError, invalid } from "../shared/errors.ts";
import { jsonBody, optionalBody } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { settingsAction, settingsData } from "../settings/panel.tsx";
import { SettingsPanel } from "../../views/settings.tsx";

export function authorityApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get("/roles", async (c) => c.json(await listRoles(c.get("harmony"))));
  api.post("/roles", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      await createRole(
        c.get("harmony"),
        c.get("actor"),
        { name: body.name, actions: body.actions },
        body.action,
      ),
      201,
    );
  });
  api.put("/roles/:slug", async (c) => {
    const body = await jsonBody(c);
    return c.json(await updateRole(c.get("harmony"), c.get("actor"), c.req.param("slug"), body, body.action));
  });
  api.delete("/roles/:slug", async (c) => {
    await deleteRole(c.get("harmony"), c.get("actor"), c.req.param("slug"), (await optionalBody(c)).action);
    return c.body(null, 204);
  });
  api.post("/members/:did/roles", async (c) => {
    const body = await jsonBody(c);
    if (typeof body.role !== "string") throw invalid("invalid_role", "name the role to assign");
    const held = await assignRole(
      c.get("harmony"),
      c.get("actor"),
      c.req.param("did"),
      body.role,
      body.delegation,
    );
    return c.json(capabilityJson(held), 201);
  });
  api.delete("/members/:did/roles/:role", async (c) => {
    const { action } = await optionalBody(c);
    await removeRole(c.get("harmony"), c.get("actor"), c.req.param("did"), c.req.param("role"), action);
    return c.body(null, 204);
  });
  api.get("/members/:did/capabilities", async (c) => {
    const h = c.get("harmony");
    await requireRole(h, c.get("actor"), "member", "see members' capabilities");
    return c.json(await capabilityReport(h, c.req.param("did")));
  });
  api.get("/capabilities", async (c) => {
    const h = c.get("harmony");
    const { did } = c.get("actor");
    if (!did) throw new HarmonyError(401, "unauthenticated", "sign in first");
    return c.json(await capabilityReport(h, did));
  });
  api.post("/capabilities", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      capabilityJson(await acceptDelegation(c.get("harmony"), c.get("actor"), body.delegation)),
      201,
    );
  });
  api.delete("/capabilities/:id", async (c) => {
    await revokeCapability(
      c.get("harmony"),
      c.get("actor"),
      c.req.param("id"),
      (await optionalBody(c)).action,
    );
    return c.body(null, 204);
  });
  return api;
}

export function authorityWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  settingsAction(web, "/ui/members/:did/roles/:role/remove", async (c, body) => {
    await removeRole(
      c.get("harmony"),
      c.get("actor"),
      c.req.param("did")!,
      c.req.param("role")!,
      body.action,
    );
    return "Role removed.";
  });
  const roleForm = async (c: Context<AppEnv>) => {
    const body = await c.req.parseBody({ all: true });
    const actions = [body.actions ?? []].flat().filter((a): a is string => typeof a === "string");
    const signed = typeof body.action === "string" ? body.action : undefined;
    return { input: { name: body.name, actions }, signed };
  };
  web.post("/ui/roles", async (c) => {
    const { input, signed } = await roleForm(c);
    await createRole(c.get("harmony"), c.get("actor"), input, signed);
    return c.html(<SettingsPanel {...await settingsData(c, "Role created.")} />);
  });
  web.post("/ui/roles/:slug", async (c) => {
    const { input, signed } = await roleForm(c);
    await updateRole(c.get("harmony"), c.get("actor"), c.req.param("slug"), input, signed);
    return c.html(<SettingsPanel {...await settingsData(c, "Role saved.")} />);
  });
  settingsAction(web, "/ui/roles/:slug/delete", async (c, body) => {
    await deleteRole(c.get("harmony"), c.get("actor"), c.req.param("slug")!, body.action);
    return "Role deleted.";
  });
  return web;
}
