/**
 * The settings page (admins): what it shows, gathered from every feature
 * it manages, and how each feature's form answers with the panel redrawn.
 */
import type { Context, Hono } from "hono";
import { getCommunity } from "../community/community.ts";
import { inviteState, listInvites, listMembers } from "../community/members.ts";
import { memberOf } from "../community/permissions.ts";
import { communityKey } from "../credentials/mod.ts";
import { channelFollowers } from "../replication/followers.ts";
import { listBridges } from "../replication/bridges.ts";
import { listRefusals } from "../replication/refusals.ts";
import { ACTIONS } from "../authority/actions.ts";
import { allowed, authorize } from "../authority/authorize.ts";
import { authorityState } from "../authority/store.ts";
import type { Harmony } from "../harmony.ts";
import { csrfOf, form } from "../http/pages.ts";
import type { AppEnv } from "../http/env.ts";
import type { RolesData } from "../../views/roles.tsx";
import { type SettingsData, SettingsPanel } from "../../views/settings.tsx";

type C = Context<AppEnv>;

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

export async function settingsData(c: C, notice?: string, offered?: { id: string; json: string }) {
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
    bridges: {
      ...await listBridges(h, actor),
      offered: offered ?? null,
      refusals: await listRefusals(h, actor, 20),
    },
    roles: await rolesData(h, me.did),
    communityDid: (await communityKey(h)).did,
    notice,
  };
}

/** A form of the settings page: runs, then answers with the panel redrawn and the notice `run` returns. */
export function settingsAction(
  web: Hono<AppEnv>,
  path: string,
  run: (c: C, body: Record<string, string>) => Promise<string>,
) {
  web.post(path, async (c) => {
    const notice = await run(c, await form(c));
    return c.html(<SettingsPanel {...await settingsData(c, notice)} />);
  });
}
