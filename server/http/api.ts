/** The JSON API (docs/api.md): everything the web UI does, for scripts, bots and the CLI. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, setCookie } from "hono/cookie";
import { closeSession, issueChallenge, openSession, verifyPresentation } from "../identity/auth.ts";
import {
  createChannel,
  deleteChannel,
  findChannel,
  listChannels,
  reorderChannels,
  updateChannel,
} from "../channels/channels.ts";
import { claim, getCommunity, updateCommunity } from "../community/community.ts";
import { communityKey, credentialJson, getCredential, listCredentials } from "../credentials/mod.ts";
import { HarmonyError, invalid, notFound } from "../shared/errors.ts";
import { exportNQuads } from "../exchange/exchange.ts";
import {
  createInvite,
  findInvite,
  inviteState,
  join,
  leave,
  listInvites,
  listMembers,
  revokeInvite,
  transferOwnership,
} from "../community/members.ts";
import {
  changesSince,
  deleteMessage,
  editMessage,
  getMessage,
  history,
  latestRevision,
  postMessage,
  signedDocuments,
} from "../messages/messages.ts";
import { approveFollower, followRequests, rejectFollower } from "../replication/followers.ts";
import { memberOf, requireRead, requireRole } from "../community/permissions.ts";
import { MAX_AVATAR_BYTES, setProfile, signedProfile } from "../community/profiles.ts";
import type { AppEnv } from "./env.ts";
import {
  acceptDelegation,
  assignRole,
  listRoles,
  removeRole,
  revokeCapability,
} from "../authority/grants.ts";
import { createRole, deleteRole, updateRole } from "../authority/roles.ts";
import { capabilityJson, capabilityReport } from "../authority/report.ts";
import { authorize } from "../authority/authorize.ts";
import { installBridge, listBridges, offerBridge, revokeBridge } from "../replication/bridges.ts";
import { stateHash, versionVector } from "../replication/sync.ts";

import { recoveryApiRoutes } from "../recovery/routes.ts";
import { moderationApiRoutes } from "../moderation/routes.tsx";
import { dmApiRoutes } from "../dms/routes.tsx";
import { filesApiRoutes } from "../files/routes.tsx";
import { conversationApiRoutes } from "../conversation/routes.tsx";
import { searchApiRoutes } from "../search/routes.tsx";
import { recordFirstSeen } from "../moderation/guard.ts";
import { sessionCookieName } from "./middleware.ts";
import { liveStream } from "./live.ts";
import { attentionApiRoutes } from "../attention/routes.tsx";
import type { ChannelEvent } from "../shared/events.ts";
import { jsonBody, optionalBody } from "./body.ts";

const MAX_JSON_BYTES = 64 * 1024;

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new HarmonyError(413, "too_large", `the request body is larger than ${maxSize} bytes`);
    },
  });

export function apiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  const jsonLimit = limit(MAX_JSON_BYTES);
  // A profile carries its avatar as base64 (4/3 of the image size).
  const profileLimit = limit(Math.ceil(MAX_AVATAR_BYTES * 4 / 3) + MAX_JSON_BYTES);
  api.use("*", (c, next) =>
    // An upload streams to storage and is counted against the community's own limit (server/files).
    c.req.method === "POST" && c.req.path === "/api/files"
      ? next()
      : (c.req.path.endsWith("/api/profile") ? profileLimit : jsonLimit)(c, next));

  // ---- sign-in
  api.post("/auth/challenge", async (c) => c.json(await issueChallenge(c.get("harmony"))));

  api.post("/auth/session", async (c) => {
    const h = c.get("harmony");
    const body = await jsonBody(c);
    const did = await verifyPresentation(h, body.presentation);
    const session = await openSession(h, did);
    await recordFirstSeen(h, did);
    setCookie(c, sessionCookieName(h.config.origin), session.token, {
      httpOnly: true,
      sameSite: "Lax",
      secure: h.config.origin.startsWith("https:"),
      path: "/",
      expires: new Date(session.expiresAt),
    });
    return c.json({
      did,
      token: session.token,
      csrfToken: session.csrfToken,
      expires: new Date(session.expiresAt).toISOString(),
      member: await memberOf(h, did),
    }, 201);
  });

  api.delete("/auth/session", async (c) => {
    const h = c.get("harmony");
    const token = c.get("sessionToken");
    if (token) await closeSession(h, token);
    deleteCookie(c, sessionCookieName(h.config.origin), { path: "/" });
    return c.body(null, 204);
  });

  api.get("/me", async (c) => {
    const h = c.get("harmony");
    const { did } = c.get("actor");
    if (!did) throw new HarmonyError(401, "unauthenticated", "sign in first");
    return c.json({
      did,
      member: await memberOf(h, did),
      profile: (await h.snapshot()).profiles.get(did) ?? null,
    });
  });

  // ---- community
  api.get("/community", async (c) => {
    const h = c.get("harmony");
    const community = await getCommunity(h);
    // `did`: the community's did:key, the issuer of its credentials (allied communities admit by it).
    return c.json({ ...community, origin: h.config.origin, did: (await communityKey(h)).did });
  });
  api.patch("/community", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      await updateCommunity(c.get("harmony"), c.get("actor"), {
        name: body.name as string | undefined,
        openJoin: body.openJoin as boolean | undefined,
        admission: body.admission,
      }),
    );
  });
  api.post("/claim", async (c) => {
    const body = await jsonBody(c);
    if (typeof body.token !== "string") throw invalid("missing_token", 'send the claim token as "token"');
    await claim(c.get("harmony"), c.get("actor"), body.token);
    return c.json(await getCommunity(c.get("harmony")));
  });

  // ---- members and invites
  api.get("/members", async (c) => {
    const h = c.get("harmony");
    await requireRole(h, c.get("actor"), "member", "see the member list");
    return c.json(await listMembers(h));
  });
  api.post("/join", async (c) => {
    // The body is optional: no body (or {}) joins an open community.
    const hasBody = (c.req.header("content-length") ?? "0") !== "0" || c.req.header("transfer-encoding");
    const body = hasBody ? await jsonBody(c) : {};
    const code = body.invite;
    if (code !== undefined && (typeof code !== "string" || code === "")) {
      throw invalid("invalid_invite", "invite must be an invite code");
    }
    return c.json(await join(c.get("harmony"), c.get("actor"), code, body.presentation), 201);
  });
  api.post("/leave", async (c) => {
    await leave(c.get("harmony"), c.get("actor"));
    return c.body(null, 204);
  });
  // ---- roles and capabilities
  api.post(
    "/members/:did/ownership",
    async (c) =>
      c.json(
        await transferOwnership(
          c.get("harmony"),
          c.get("actor"),
          c.req.param("did"),
          (await optionalBody(c)).action,
        ),
      ),
  );
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
  api.get("/invites", async (c) => {
    const invites = await listInvites(c.get("harmony"), c.get("actor"));
    return c.json(invites.map((i) => ({ ...i, state: inviteState(i) })));
  });
  api.post("/invites", async (c) => {
    const body = await jsonBody(c);
    const invite = await createInvite(c.get("harmony"), c.get("actor"), body);
    return c.json({
      ...invite,
      state: inviteState(invite),
      url: `${c.get("harmony").config.origin}/invite/${invite.code}`,
    }, 201);
  });
  api.get("/invites/:code", async (c) => {
    const invite = await findInvite(c.get("harmony"), c.req.param("code"));
    if (!invite) throw notFound("this invite does not exist");
    return c.json({ code: invite.code, state: inviteState(invite), expires: invite.expires });
  });
  api.delete("/invites/:code", async (c) => {
    await revokeInvite(c.get("harmony"), c.get("actor"), c.req.param("code"));
    return c.body(null, 204);
  });

  // ---- profiles
  api.put("/profile", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      await setProfile(c.get("harmony"), c.get("actor"), { profile: body.profile, avatar: body.avatar }),
    );
  });
  api.get("/profiles/:did", async (c) => {
    const doc = await signedProfile(c.get("harmony"), c.req.param("did"));
    if (!doc) throw notFound("this DID has no profile here");
    return c.json(doc);
  });

  // ---- channels
  api.get("/channels", async (c) => c.json(await listChannels(c.get("harmony"), c.get("actor"))));
  api.post("/channels", async (c) => {
    const body = await jsonBody(c);
    return c.json(await createChannel(c.get("harmony"), c.get("actor"), body as { name: unknown }), 201);
  });
  api.put("/channels/order", async (c) => {
    const body = await jsonBody(c);
    return c.json(await reorderChannels(c.get("harmony"), c.get("actor"), body.order));
  });
  api.get("/channels/:id", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    await requireRead(h, c.get("actor"), channel);
    return c.json(channel);
  });
  api.patch("/channels/:id", async (c) => {
    const body = await jsonBody(c);
    return c.json(await updateChannel(c.get("harmony"), c.get("actor"), c.req.param("id"), body));
  });
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
  api.delete("/channels/:id", async (c) => {
    await deleteChannel(c.get("harmony"), c.get("actor"), c.req.param("id"));
    return c.body(null, 204);
  });

  // ---- messages
  api.get("/channels/:id/messages", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    const limitParam = c.req.query("limit");
    const limitValue = limitParam === undefined ? 50 : Number(limitParam);
    if (!Number.isInteger(limitValue) || limitValue < 1 || limitValue > 200) {
      throw invalid("invalid_limit", "limit must be an integer from 1 to 200");
    }
    return c.json(
      await history(h, c.get("actor"), channel, { before: c.req.query("before"), limit: limitValue }),
    );
  });
  api.post("/channels/:id/messages", async (c) => {
    const body = await jsonBody(c);
    const { message, created } = await postMessage(
      c.get("harmony"),
      c.get("actor"),
      c.req.param("id"),
      body.message,
    );
    return c.json(message, created ? 201 : 200);
  });
  api.get("/channels/:id/events", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    const actor = c.get("actor");
    await requireRead(h, actor, channel);
    return liveStream(c, h, channel, {
      render: (event: ChannelEvent) =>
        event.kind === "channel" ? { kind: "channel" } : { kind: event.kind, message: event.message },
      catchUp: (since) => changesSince(h.db, channel.iri, since),
      latest: () => latestRevision(h.db, channel.iri),
      stillAllowed: async () => {
        try {
          await requireRead(h, actor, await findChannel(h, channel.id));
          return true;
        } catch {
          return false;
        }
      },
    });
  });
  api.get("/messages/:id", async (c) => {
    const h = c.get("harmony");
    const id = c.req.param("id");
    const message = await getMessage(h, c.get("actor"), id);
    return c.json({ ...message, signed: await signedDocuments(h, c.get("actor"), id) });
  });
  api.put("/messages/:id", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      await editMessage(c.get("harmony"), c.get("actor"), c.req.param("id"), body.update),
    );
  });
  api.delete("/messages/:id", async (c) => {
    const body = await jsonBody(c);
    return c.json(
      await deleteMessage(
        c.get("harmony"),
        c.get("actor"),
        c.req.param("id"),
        body.delete,
      ),
    );
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
  api.post("/bridges", async (c) => {
    const body = await jsonBody(c);
    return c.json(await installBridge(c.get("harmony"), c.get("actor"), body.capability), 201);
  });
  api.delete("/bridges/:id", async (c) => {
    const outcome = await revokeBridge(c.get("harmony"), c.get("actor"), c.req.param("id"));
    return c.json({ id: c.req.param("id"), outcome });
  });

  // ---- export
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

  // ---- social recovery and device pairing (server/recovery)
  api.route("/", recoveryApiRoutes());
  // ---- moderation and the audit log (server/moderation, server/audit)
  api.route("/", moderationApiRoutes());
  // ---- end-to-end encrypted direct messages (server/dms)
  api.route("/", dmApiRoutes());
  // ---- files (server/files)
  api.route("/", filesApiRoutes());
  // ---- reactions, pins, threads (server/conversation)
  api.route("/", conversationApiRoutes());
  api.route("/", searchApiRoutes());
  api.route("/", attentionApiRoutes());

  // ---- credentials (server/credentials/)
  api.get("/credentials", async (c) => {
    const records = await listCredentials(c.get("harmony"), c.get("actor"));
    return c.json(records.map(credentialJson));
  });
  api.get("/credentials/:id", async (c) => {
    const record = await getCredential(c.get("harmony"), c.get("actor"), c.req.param("id"));
    return c.json(record.credential);
  });

  api.all("*", () => {
    throw notFound("there is no such API endpoint; see docs/api.md");
  });
  return api;
}
