/** The JSON API of social recovery and device pairing (docs/api.md), mounted under /api. */
import { Hono } from "hono";
import { unauthorized } from "../shared/errors.ts";
import type { AppEnv } from "../http/env.ts";
import { createPairing, deliverPairingKey, lookupPairing, pickUpPairing } from "./pairing.ts";
import {
  approveRecovery,
  cancelRecovery,
  getRecoveryRequest,
  openRecoveryRequest,
  recoveryOverview,
  requestIdOf,
  setRecoveryDelay,
  setRecoverySetup,
} from "./recovery.ts";
import { jsonBody } from "../http/body.ts";
import { requesterOf } from "../http/requester.ts";
import { issueRecoveryId } from "./ids.ts";

export function recoveryApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  // ---- social recovery
  api.get("/recovery", async (c) => {
    const { did } = c.get("actor");
    if (!did) throw unauthorized("sign in to see your recovery settings");
    return c.json(await recoveryOverview(c.get("harmony"), did));
  });
  api.post("/recovery/ids", async (c) => {
    const { kind } = await jsonBody(c);
    return c.json(await issueRecoveryId(c.get("harmony"), c.get("actor"), kind), 201);
  });
  api.put("/recovery/setup", async (c) => {
    const { setup } = await jsonBody(c);
    return c.json(await setRecoverySetup(c.get("harmony"), c.get("actor"), setup));
  });
  api.put("/recovery/settings", async (c) => {
    const { delaySeconds } = await jsonBody(c);
    return c.json({ delaySeconds: await setRecoveryDelay(c.get("harmony"), c.get("actor"), delaySeconds) });
  });
  api.post("/recovery/requests", async (c) => {
    const { request } = await jsonBody(c);
    return c.json(await openRecoveryRequest(c.get("harmony"), c.get("actor"), request), 201);
  });
  api.get("/recovery/requests/:id", async (c) => {
    const id = requestIdOf(c.req.param("id"));
    return c.json(await getRecoveryRequest(c.get("harmony"), c.get("actor"), id));
  });
  api.post("/recovery/requests/:id/approve", async (c) => {
    const id = requestIdOf(c.req.param("id"));
    const { approval } = await jsonBody(c);
    const { request, counted } = await approveRecovery(c.get("harmony"), c.get("actor"), id, approval);
    return c.json({ ...request, counted });
  });
  api.post("/recovery/requests/:id/cancel", async (c) => {
    const id = requestIdOf(c.req.param("id"));
    const { cancel } = await jsonBody(c);
    return c.json(await cancelRecovery(c.get("harmony"), c.get("actor"), id, cancel));
  });

  // ---- adding a device
  api.post("/pairings", async (c) => {
    return c.json(await createPairing(c.get("harmony"), requesterOf(c), await jsonBody(c)), 201);
  });
  api.get("/pairings/:code", async (c) => {
    return c.json(await lookupPairing(c.get("harmony"), c.get("actor"), requesterOf(c), c.req.param("code")));
  });
  api.post("/pairings/:code/key", async (c) => {
    const input = await jsonBody(c);
    await deliverPairingKey(c.get("harmony"), c.get("actor"), requesterOf(c), c.req.param("code"), input);
    return c.body(null, 204);
  });
  api.post("/pairings/:code/pickup", async (c) => {
    const { token } = await jsonBody(c);
    return c.json(await pickUpPairing(c.get("harmony"), c.req.param("code"), token));
  });

  return api;
}
