/**
 * Routes of the community and its members: the community itself, claiming
 * it, joining and leaving, invites, ownership, profiles and avatars (JSON
 * API under /api; pages and the settings forms at /).
 */
import { Hono } from "hono";
import { claim, getCommunity, isClaimable, updateCommunity } from "./community.ts";
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
} from "./members.ts";
import { memberOf, requireRole } from "./permissions.ts";
import { listBots, registerBot, unregisterBot } from "./bots.ts";
import { getAvatar, setProfile, signedProfile } from "./profiles.ts";
import { communityKey, listCredentials } from "../credentials/mod.ts";
import { capabilityReport } from "../authority/report.ts";
import { recoveryPanel } from "../recovery/panel.ts";
import { HarmonyError, invalid, notFound } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { jsonBody, optionalBody } from "../http/body.ts";
import { csrfOf, form, redirect } from "../http/pages.ts";
import type { AppEnv } from "../http/env.ts";
import { settingsAction } from "../settings/panel.tsx";
import { ClaimPage, InvitePage, MemberPage, ProfilePage } from "../../views/pages.tsx";

export function communityApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
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
  api.get("/bots", async (c) => {
    const h = c.get("harmony");
    await requireRole(h, c.get("actor"), "member", "see the member list");
    return c.json(await listBots(h));
  });
  api.post("/bots", async (c) => {
    const body = await jsonBody(c);
    return c.json(await registerBot(c.get("harmony"), c.get("actor"), body), 201);
  });
  api.delete("/bots/:did", async (c) => {
    const { action } = await optionalBody(c);
    await unregisterBot(c.get("harmony"), c.get("actor"), c.req.param("did"), action);
    return c.body(null, 204);
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
  return api;
}

async function delegationsOf(h: Harmony, did: string) {
  const report = await capabilityReport(h, did);
  return {
    delegated: report.delegated,
    mine: [...new Set(report.held.flatMap((c) => c.actions))].sort(),
    channels: (await h.snapshot()).channels,
  };
}

export function communityWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  web.get("/claim/:token", async (c) => {
    const h = c.get("harmony");
    return c.html(
      <ClaimPage
        token={c.req.param("token")}
        did={c.get("actor").did}
        csrfToken={csrfOf(c)}
        valid={await isClaimable(h, c.req.param("token"))}
      />,
    );
  });

  web.post("/ui/claim", async (c) => {
    const { token } = await form(c);
    await claim(c.get("harmony"), c.get("actor"), token ?? "");
    return redirect(c, "/profile");
  });

  web.get("/invite/:code", async (c) => {
    const h = c.get("harmony");
    const invite = await findInvite(h, c.req.param("code"));
    return c.html(
      <InvitePage
        community={await getCommunity(h)}
        invite={invite}
        state={invite ? inviteState(invite) : "missing"}
        did={c.get("actor").did}
        member={await memberOf(h, c.get("actor").did)}
        csrfToken={csrfOf(c)}
      />,
    );
  });

  web.post("/ui/join", async (c) => {
    const { invite } = await form(c);
    await join(c.get("harmony"), c.get("actor"), invite || null);
    return redirect(c, "/profile");
  });

  web.post("/ui/leave", async (c) => {
    await leave(c.get("harmony"), c.get("actor"));
    return redirect(c, "/");
  });

  web.get("/profile", async (c) => {
    const h = c.get("harmony");
    const { did } = c.get("actor");
    if (!did) return c.redirect("/identity?return=/profile");
    return c.html(
      <ProfilePage
        did={did}
        profile={(await h.snapshot()).profiles.get(did) ?? null}
        role={(await memberOf(h, did))?.role ?? null}
        csrfToken={csrfOf(c)}
        communityName={(await getCommunity(h)).name}
        recovery={await recoveryPanel(h, did)}
        credentials={{ list: await listCredentials(h, c.get("actor")), issuer: (await communityKey(h)).did }}
        delegations={await delegationsOf(h, did)}
      />,
    );
  });

  web.get("/members/:did", async (c) => {
    const h = c.get("harmony");
    const did = c.req.param("did");
    const snapshot = await h.snapshot();
    const member = snapshot.members.get(did) ?? null;
    const profile = snapshot.profiles.get(did) ?? null;
    if (!member && !profile) throw new HarmonyError(404, "not_found", "this DID is not known here");
    const viewer = c.get("actor").did;
    const capabilities = viewer && snapshot.members.has(viewer)
      ? {
        held: (await capabilityReport(h, did)).held,
        channels: snapshot.channels,
        rootDid: (await communityKey(h)).did,
      }
      : null;
    return c.html(
      <MemberPage did={did} profile={profile} member={member} viewer={viewer} capabilities={capabilities} />,
    );
  });

  web.get("/avatars/:did", async (c) => {
    const avatar = await getAvatar(c.get("harmony"), c.req.param("did"));
    if (!avatar) throw new HarmonyError(404, "not_found", "no avatar");
    return c.body(avatar.bytes.slice().buffer, 200, {
      "content-type": avatar.type,
      "cache-control": "public, max-age=86400",
      "content-disposition": "inline",
      "x-content-type-options": "nosniff",
    });
  });

  // ---- settings forms (admins)
  settingsAction(web, "/ui/community", async (c, body) => {
    await updateCommunity(c.get("harmony"), c.get("actor"), {
      name: body.name,
      ...(body.admission
        ? {
          admission: body.admission === "credential"
            ? { policy: "credential", credentialType: body.credentialType, issuer: body.issuer }
            : { policy: body.admission },
        }
        : { openJoin: body.openJoin === "true" }),
    });
    return "Community settings saved.";
  });
  settingsAction(web, "/ui/invites", async (c, body) => {
    await createInvite(c.get("harmony"), c.get("actor"), {
      expiresIn: body.expiresIn ? Number(body.expiresIn) : null,
      maxUses: body.maxUses ? Number(body.maxUses) : null,
    });
    return "Invite created.";
  });
  settingsAction(web, "/ui/invites/:code/revoke", async (c) => {
    await revokeInvite(c.get("harmony"), c.get("actor"), c.req.param("code")!);
    return "Invite revoked.";
  });
  // `action`: the signed action the browser adds (static/client/moderation.ts), kept in the audit log.
  settingsAction(web, "/ui/members/:did/ownership", async (c, body) => {
    await transferOwnership(c.get("harmony"), c.get("actor"), c.req.param("did")!, body.action);
    return "The community has a new owner.";
  });
  return web;
}
