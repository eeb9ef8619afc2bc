/** Server-rendered pages and the htmx endpoints behind their forms. */
import { Hono } from "hono";
import type { Context } from "hono";
import { deleteCookie } from "hono/cookie";
import { closeSession } from "../identity/auth.ts";
import {
  type ChannelUpdate,
  createChannel,
  deleteChannel,
  findChannel,
  listChannels,
  reorderChannels,
  updateChannel,
} from "../channels/channels.ts";
import { claim, getCommunity, isClaimable, updateCommunity } from "../community/community.ts";
import { HarmonyError } from "../shared/errors.ts";
import type { ChannelEvent } from "../shared/events.ts";
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
import { approveFollower, channelFollowers, rejectFollower } from "../replication/followers.ts";
import { changesSince, history, latestRevision } from "../messages/messages.ts";
import { memberOf, requireRead } from "../community/permissions.ts";
import { getAvatar } from "../community/profiles.ts";
import { ChatPage, OlderMessages } from "../../views/chat.tsx";
import { IdentityPage } from "../../views/identity.tsx";
import { ClaimPage, InvitePage, MemberPage, ProfilePage } from "../../views/pages.tsx";
import { communityKey, listCredentials } from "../credentials/mod.ts";
import { recoveryPanel } from "../recovery/panel.ts";
import { messageDomId, MessageItem, type Viewer } from "../../views/parts.tsx";
import { type SettingsData, SettingsPage, SettingsPanel } from "../../views/settings.tsx";
import type { AppEnv } from "./env.ts";
import type { Harmony } from "../harmony.ts";
import { ACTIONS } from "../authority/actions.ts";
import { allowed, authorize } from "../authority/authorize.ts";
import { removeRole } from "../authority/grants.ts";
import { createRole, deleteRole, updateRole } from "../authority/roles.ts";
import { authorityState } from "../authority/store.ts";
import { capabilityReport } from "../authority/report.ts";
import type { RolesData } from "../../views/roles.tsx";
import { installBridge, listBridges, offerBridge, revokeBridge } from "../replication/bridges.ts";
import { Encoded, liveStream } from "./live.ts";
import { sessionCookieName } from "./middleware.ts";
import { moderationWebRoutes } from "../moderation/routes.tsx";
import { dmWebRoutes } from "../dms/routes.tsx";
import { filesWebRoutes } from "../files/routes.tsx";
import { conversationWebRoutes } from "../conversation/routes.tsx";
import { EVERY_VIEWER, extrasFor } from "../conversation/store.ts";
import { searchWebRoutes } from "../search/routes.tsx";
import { attachLive, attentionWebRoutes, pageAttention, presenceNow } from "../attention/routes.tsx";
import { mentionNames } from "../attention/mentions.ts";

type C = Context<AppEnv>;

async function viewerOf(c: C): Promise<Viewer | null> {
  const { did } = c.get("actor");
  if (!did) return null;
  const member = await memberOf(c.get("harmony"), did);
  return { did, role: member?.role ?? null };
}

const csrfOf = (c: C) => c.get("session")?.csrfToken ?? null;

/** Where an htmx request should go next (a full navigation). */
function redirect(c: C, to: string) {
  c.header("HX-Redirect", to);
  return c.body(null, 204);
}

async function form(c: C): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

function safeReturn(path: string | undefined): string {
  return path && /^\/[A-Za-z0-9/_\-.~%?=&]*$/.test(path) && !path.startsWith("//") ? path : "/";
}

async function delegationsOf(h: Harmony, did: string) {
  const report = await capabilityReport(h, did);
  return {
    delegated: report.delegated,
    mine: [...new Set(report.held.flatMap((c) => c.actions))].sort(),
    channels: (await h.snapshot()).channels,
  };
}

async function rolesData(h: Harmony, me: string): Promise<RolesData> {
  const state = await authorityState(h);
  const members = await listMembers(h);
  return {
    roles: state.roles.map(({ slug, name, actions, builtIn }) => ({ slug, name, actions, builtIn })),
    actions: { ...ACTIONS },
    members: members.map((m) => ({
      did: m.did,
      name: m.name,
      role: m.role,
      roles: [
        ...new Set(
          (state.byHolder.get(m.did) ?? []).filter((c) => !c.revoked && c.role && !c.role.endsWith("/member"))
            .map((c) => c.role!.split("/").pop()!),
        ),
      ],
    })),
    me,
    canTransfer: (await allowed(h, me, "transfer-ownership")) !== null,
  };
}

async function settingsData(c: C, notice?: string, offered?: { id: string; json: string }) {
  const h = c.get("harmony");
  const actor = c.get("actor");
  await authorize(h, actor, "manage-community");
  const me = { did: actor.did!, role: (await memberOf(h, actor.did))?.role ?? "member" as const };
  const snapshot = await h.snapshot();
  const followers: SettingsData["followers"] = {};
  for (const channel of snapshot.channels) {
    const all = await channelFollowers(h, channel.iri);
    followers[channel.id] = {
      followers: all.filter((f) => f.state === "accepted"),
      pending: all.filter((f) => f.state === "pending"),
    };
  }
  return {
    community: await getCommunity(h),
    channels: snapshot.channels,
    followers,
    invites: (await listInvites(h, actor)).map((i) => ({
      ...i,
      state: inviteState(i),
      url: `${h.config.origin}/invite/${i.code}`,
    })),
    members: await listMembers(h),
    viewerRole: me.role,
    csrfToken: csrfOf(c),
    me: me.did,
    bridges: { ...await listBridges(h, actor), offered: offered ?? null },
    roles: await rolesData(h, me.did),
    communityDid: (await communityKey(h)).did,
    notice,
  };
}

/** Each event's JSON for the pages' live streams, computed once and shared by every subscriber. */
const sharedRenders = new WeakMap<ChannelEvent, Promise<Encoded>>();

function renderShared(h: Harmony, event: ChannelEvent): Promise<Encoded> {
  let rendered = sharedRenders.get(event);
  if (!rendered) {
    rendered = (async () => {
      if (event.kind === "channel") return new Encoded(JSON.stringify({ kind: "channel" }));
      const { message } = event;
      if (message.deleted) {
        return new Encoded(JSON.stringify({ kind: "deleted", id: messageDomId(message.id) }));
      }
      const [profiles, names] = [(await h.snapshot()).profiles, await mentionNames(h)];
      // Reactions carry every reactor's operations; each page marks its viewer's own.
      const extras = (await extrasFor(h, [message], EVERY_VIEWER)).get(message.id);
      const html = (
        <MessageItem
          message={message}
          author={profiles.get(message.author)}
          viewer={null}
          names={names}
          extras={extras}
          profiles={profiles}
          shared
        />
      ).toString();
      // A thread reply goes to its thread's page, not the channel's timeline.
      return new Encoded(
        JSON.stringify({
          kind: event.kind,
          id: messageDomId(message.id),
          html,
          thread: message.thread ?? null,
        }),
      );
    })();
    sharedRenders.set(event, rendered);
  }
  return rendered;
}

export function webRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();

  web.get("/", async (c) => {
    const h = c.get("harmony");
    const [first] = await listChannels(h, c.get("actor"));
    if (!first) throw new HarmonyError(404, "not_found", "there is no channel you can read yet");
    return c.redirect(`/channels/${first.id}`);
  });

  web.get("/channels/:id", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const channel = await findChannel(h, c.req.param("id"));
    await requireRead(h, actor, channel);
    const viewer = await viewerOf(c);
    const channels = await listChannels(h, actor);
    const [page, revision, members, names, attention] = await Promise.all([
      history(h, actor, channel),
      latestRevision(h.db, channel.iri),
      listMembers(h),
      mentionNames(h),
      pageAttention(h, actor, channel, channels),
    ]);
    const snapshot = await h.snapshot();
    return c.html(
      <ChatPage
        community={await getCommunity(h)}
        channels={channels}
        channel={channel}
        messages={page.messages}
        olderCursor={page.before}
        revision={revision}
        profiles={snapshot.profiles}
        members={viewer?.role ? members : null}
        memberCount={members.length}
        viewer={viewer}
        csrfToken={csrfOf(c)}
        extras={await extrasFor(h, page.messages, actor.did)}
        names={names}
        attention={attention}
        presence={presenceNow(h)}
      />,
    );
  });

  web.get("/channels/:id/older", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id"));
    const page = await history(h, c.get("actor"), channel, { before: c.req.query("before") });
    return c.html(
      <OlderMessages
        channelId={channel.id}
        messages={page.messages}
        cursor={page.before}
        profiles={(await h.snapshot()).profiles}
        viewer={await viewerOf(c)}
        extras={await extrasFor(h, page.messages, c.get("actor").did)}
        names={await mentionNames(h)}
      />,
    );
  });

  web.get("/channels/:id/live", async (c) => {
    const h = c.get("harmony");
    const actor = c.get("actor");
    const channel = await findChannel(h, c.req.param("id"));
    await requireRead(h, actor, channel);
    return liveStream(c, h, channel, {
      // Rendered once per event for every subscriber (viewer-neutral HTML; the page's script
      // keeps the controls its viewer may use): 1,000 open pages cost one rendering, not 1,000.
      render: (event: ChannelEvent) => renderShared(h, event),
      attach: attachLive(h, actor, channel),
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

  web.get("/identity", async (c) => {
    const h = c.get("harmony");
    return c.html(
      <IdentityPage
        returnTo={safeReturn(c.req.query("return"))}
        communityName={(await getCommunity(h)).name}
        signedInAs={c.get("actor").did}
        csrfToken={csrfOf(c)}
      />,
    );
  });

  web.post("/ui/signout", async (c) => {
    const h = c.get("harmony");
    const token = c.get("sessionToken");
    if (token) await closeSession(h, token);
    deleteCookie(c, sessionCookieName(h.config.origin), { path: "/" });
    return redirect(c, "/");
  });

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

  // ---- settings (admins)
  web.get("/settings", async (c) => {
    if (!c.get("actor").did) return c.redirect("/identity?return=/settings");
    return c.html(<SettingsPage {...await settingsData(c)} />);
  });

  const settingsAction = (
    path: string,
    run: (c: C, body: Record<string, string>) => Promise<string>,
  ) =>
    web.post(path, async (c) => {
      const notice = await run(c, await form(c));
      return c.html(<SettingsPanel {...await settingsData(c, notice)} />);
    });

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
  settingsAction("/ui/bridges/install", async (c, body) => {
    let capability: unknown;
    try {
      capability = JSON.parse(body.capability ?? "");
    } catch {
      throw new HarmonyError(400, "malformed_capability", "the capability is not valid JSON");
    }
    const link = await installBridge(c.get("harmony"), c.get("actor"), capability);
    return `Installed: this channel now delivers to ${link.peerInbox}.`;
  });
  settingsAction("/ui/bridges/revoke", async (c) => {
    const outcome = await revokeBridge(c.get("harmony"), c.get("actor"), c.req.query("id") ?? "");
    return outcome === "revoked" ? "Capability revoked." : "Bridge removed.";
  });
  settingsAction("/ui/community", async (c, body) => {
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
  settingsAction("/ui/channels", async (c, body) => {
    const channel = await createChannel(c.get("harmony"), c.get("actor"), {
      name: body.name,
      topic: body.topic,
      visibility: body.visibility,
    });
    return `Created #${channel.name}.`;
  });
  settingsAction("/ui/channels/:id", async (c, body) => {
    const update: ChannelUpdate = { name: body.name, topic: body.topic, visibility: body.visibility };
    // The form's fediverse fields (an unchecked box sends nothing, hence the marker field).
    if (body.fediverse === "1") {
      update.approveFollowers = body.approveFollowers === "true";
      update.fediverseReplies = body.fediverseReplies;
    }
    const channel = await updateChannel(c.get("harmony"), c.get("actor"), c.req.param("id")!, update);
    return `Saved #${channel.name}.`;
  });
  settingsAction("/ui/channels/:id/followers/approve", async (c, body) => {
    const follower = await approveFollower(c.get("harmony"), c.get("actor"), c.req.param("id")!, body.actor);
    return `${follower.actor} now follows the channel.`;
  });
  settingsAction("/ui/channels/:id/followers/reject", async (c, body) => {
    const follower = await rejectFollower(c.get("harmony"), c.get("actor"), c.req.param("id")!, body.actor);
    return `Refused ${follower.actor}.`;
  });
  settingsAction("/ui/channels/:id/move", async (c) => {
    const h = c.get("harmony");
    const id = c.req.param("id")!;
    const to = Number(c.req.query("to"));
    const ids = (await h.snapshot()).channels.map((ch) => ch.id).filter((x) => x !== id);
    if (!Number.isInteger(to) || to < 0 || to > ids.length) {
      throw new HarmonyError(422, "invalid_order", "no such position");
    }
    ids.splice(to, 0, id);
    await reorderChannels(h, c.get("actor"), ids);
    return "Channel order saved.";
  });
  settingsAction("/ui/channels/:id/delete", async (c) => {
    const h = c.get("harmony");
    const channel = await findChannel(h, c.req.param("id")!);
    await deleteChannel(h, c.get("actor"), channel.id);
    return `Deleted #${channel.name}.`;
  });
  settingsAction("/ui/invites", async (c, body) => {
    await createInvite(c.get("harmony"), c.get("actor"), {
      expiresIn: body.expiresIn ? Number(body.expiresIn) : null,
      maxUses: body.maxUses ? Number(body.maxUses) : null,
    });
    return "Invite created.";
  });
  settingsAction("/ui/invites/:code/revoke", async (c) => {
    await revokeInvite(c.get("harmony"), c.get("actor"), c.req.param("code")!);
    return "Invite revoked.";
  });
  // `action`: the signed action the browser adds (static/client/moderation.ts), kept in the audit log.
  settingsAction("/ui/members/:did/ownership", async (c, body) => {
    await transferOwnership(c.get("harmony"), c.get("actor"), c.req.param("did")!, body.action);
    return "The community has a new owner.";
  });
  settingsAction("/ui/members/:did/roles/:role/remove", async (c, body) => {
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
  settingsAction("/ui/roles/:slug/delete", async (c, body) => {
    await deleteRole(c.get("harmony"), c.get("actor"), c.req.param("slug")!, body.action);
    return "Role deleted.";
  });
  web.route("/", moderationWebRoutes());
  web.route("/", dmWebRoutes());
  web.route("/", filesWebRoutes());
  web.route("/", conversationWebRoutes());
  web.route("/", searchWebRoutes());
  web.route("/", attentionWebRoutes());

  return web;
}
