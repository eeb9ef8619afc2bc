/**
 * Routes of replication: bridges with other Harmony instances, a channel's
 * replication state, and fediverse followers waiting for approval (JSON API
 * under /api; the bridge and follower forms of the settings page).
 */
import { Hono } from "hono";
import { installBridge, listBridges, offerBridge, revokeBridge } from "./bridges.ts";
import { approveFollower, followRequests, rejectFollower } from "./followers.ts";
import { stateHash, versionVector } from "./sync.ts";
import { listRefusals } from "./refusals.ts";
import { findChannel } from "../channels/channels.ts";
import { requireRead } from "../community/permissions.ts";
import { HarmonyError } from "../shared/errors.ts";
import { jsonBody } from "../http/body.ts";
import { form } from "../http/pages.ts";
import type { AppEnv } from "../http/env.ts";
import { settingsAction, settingsData } from "../settings/panel.tsx";
import { SettingsPanel } from "../../views/settings.tsx";

export function replicationApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  // ---- fediverse followers of a channel (admins)
  api.get(
    "/channels/:id/followers",
    async (c) => c.json(await followRequests(c.get("harmony"), c.get("actor"), c.req.param("id"))),
  );
  api.post("/channels/:id/followers/approve", async (c) => {
    const body = await jsonBody(c);
    return c.json(await approveFollower(c.get("harmony"), c.get("actor"), c.req.param("id"), body.actor));
  });
  api.post("/channels/:id/followers/reject", async (c) => {
    const body = await jsonBody(c);
    return c.json(await rejectFollower(c.get("harmony"), c.get("actor"), c.req.param("id"), body.actor));
  });

  // ---- bridges and replication state
  api.get("/channels/:id/state", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    await requireRead(h, c.get("actor"), channel);
    const state = await stateHash(h.db, channel.iri);
    return c.json({ channel: channel.iri, ...state, versionVector: await versionVector(h.db, channel.iri) });
  });
  api.post("/channels/:id/bridge-offers", async (c) => {
    const body = await jsonBody(c);
    const grant = await offerBridge(c.get("harmony"), c.get("actor"), c.req.param("id"), {
      to: body.to,
      expiresIn: body.expiresIn,
      actions: body.actions,
    });
    return c.json(grant, 201);
  });
  api.get("/bridges", async (c) => c.json(await listBridges(c.get("harmony"), c.get("actor"))));
  api.get("/bridges/refusals", async (c) => {
    const limit = Number(c.req.query("limit") ?? 100);
    return c.json(
      await listRefusals(c.get("harmony"), c.get("actor"), Number.isInteger(limit) ? limit : 100),
    );
  });
  api.post("/bridges", async (c) => {
    const body = await jsonBody(c);
    return c.json(await installBridge(c.get("harmony"), c.get("actor"), body.capability), 201);
  });
  api.delete("/bridges/:id", async (c) => {
    const outcome = await revokeBridge(c.get("harmony"), c.get("actor"), c.req.param("id"));
    return c.json({ id: c.req.param("id"), outcome });
  });
  return api;
}

export function replicationWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  web.post("/ui/bridges/offer", async (c) => {
    const body = await form(c);
    const grant = await offerBridge(c.get("harmony"), c.get("actor"), body.channel ?? "", {
      to: body.to,
      expiresIn: body.expiresIn ? Number(body.expiresIn) : undefined,
    });
    const offered = { id: grant.id, json: JSON.stringify(grant.capability, null, 2) };
    return c.html(
      <SettingsPanel
        {...await settingsData(c, "Capability created: send it to the peer's admin.", offered)}
      />,
    );
  });
  settingsAction(web, "/ui/bridges/install", async (c, body) => {
    let capability: unknown;
    try {
      capability = JSON.parse(body.capability ?? "");
    } catch {
      throw new HarmonyError(400, "malformed_capability", "the capability is not valid JSON");
    }
    const link = await installBridge(c.get("harmony"), c.get("actor"), capability);
    return `Installed: this channel now delivers to ${link.peerInbox}.`;
  });
  settingsAction(web, "/ui/bridges/revoke", async (c) => {
    const outcome = await revokeBridge(c.get("harmony"), c.get("actor"), c.req.query("id") ?? "");
    return outcome === "revoked" ? "Capability revoked." : "Bridge removed.";
  });
  settingsAction(web, "/ui/channels/:id/followers/approve", async (c, body) => {
    const follower = await approveFollower(c.get("harmony"), c.get("actor"), c.req.param("id")!, body.actor);
    return `${follower.actor} now follows the channel.`;
  });
  settingsAction(web, "/ui/channels/:id/followers/reject", async (c, body) => {
    const follower = await rejectFollower(c.get("harmony"), c.get("actor"), c.req.param("id")!, body.actor);
    return `Refused ${follower.actor}.`;
  });
  return web;
}
