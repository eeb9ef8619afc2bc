/** What moderators see: the state, the settings and what they may do (API and pages). */
import { allowed } from "../authority/authorize.ts";
import { forbidden, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { listMembers } from "../community/members.ts";
import type { Actor, Role } from "../shared/model.ts";
import { type FediverseReplies, fediverseReplies } from "./fediverse.ts";
import {
  type Alert,
  alertIri,
  type Ban,
  type ModerationSettings,
  moderationState,
  type RemoteBlock,
  type Timeout,
} from "./state.ts";

export interface ModerationOverview {
  community: string;
  settings: ModerationSettings;
  joinsLocked: { at: string; by: string } | null;
  slowMode: Array<{ channel: string; id: string; name: string; seconds: number }>;
  /** Only for those who may ban. */
  bans: Ban[] | null;
  /** Running timeouts; only for those who may time members out. */
  timeouts: Timeout[] | null;
  alerts: Array<Alert & { iri: string }>;
  /** Blocked fediverse accounts and servers, newest first; only for those who may block them. */
  blockedActors: RemoteBlock[] | null;
  blockedServers: RemoteBlock[] | null;
  /** What the caller may do. */
  may: {
    kick: boolean;
    ban: boolean;
    timeout: boolean;
    slowMode: boolean;
    manage: boolean;
    /** Remove replies from the fediverse, in at least one channel. */
    removeReplies: boolean;
    blockActors: boolean;
    blockServers: boolean;
  };
}

export interface ModerationPageData extends ModerationOverview {
  me: string;
  /** Replies from the fediverse, for those who may remove them. */
  fediverse: FediverseReplies | null;
  members: Array<{ did: string; name: string; role: Role; timedOutUntil: string | null }>;
  channels: Array<{ id: string; iri: string; name: string; slowMode: number; maySlowMode: boolean }>;
}

const newestFirst = (blocks: Map<string, RemoteBlock>) =>
  [...blocks.values()].sort((a, b) => b.at.localeCompare(a.at));

/** 401/403 unless the caller may take some moderation action. */
export async function moderationOverview(h: Harmony, actor: Actor): Promise<ModerationOverview> {
  if (!actor.did) throw unauthorized("sign in to moderate");
  const did = actor.did;
  const snapshot = await h.snapshot();
  const has = async (
    action: "kick" | "ban" | "timeout" | "manage-community" | "block-actor" | "block-server",
  ) => (await allowed(h, did, action)) !== null;
  const inSomeChannel = async (action: "slow-mode" | "remove-reply") =>
    (await Promise.all(snapshot.channels.map(async (c) => (await allowed(h, did, action, c)) !== null)))
      .some(Boolean);
  const may = {
    kick: await has("kick"),
    ban: await has("ban"),
    timeout: await has("timeout"),
    slowMode: await inSomeChannel("slow-mode"),
    manage: await has("manage-community"),
    removeReplies: await inSomeChannel("remove-reply"),
    blockActors: await has("block-actor"),
    blockServers: await has("block-server"),
  };
  if (!Object.values(may).some(Boolean)) throw forbidden("only moderators and admins can see moderation");
  const state = await moderationState(h);
  const now = Date.now();
  return {
    community: h.iris.community,
    settings: state.settings,
    joinsLocked: state.joinsLocked,
    slowMode: snapshot.channels.filter((c) => state.slowMode.has(c.iri)).map((c) => ({
      channel: c.iri,
      id: c.id,
      name: c.name,
      seconds: state.slowMode.get(c.iri)!,
    })),
    bans: may.ban ? [...state.bans.values()].sort((a, b) => b.at.localeCompare(a.at)) : null,
    timeouts: may.timeout ? [...state.timeouts.values()].filter((t) => Date.parse(t.until) > now) : null,
    alerts: state.alerts.map((a) => ({ ...a, iri: alertIri(h, a.id) })),
    blockedActors: may.blockActors ? newestFirst(state.blockedActors) : null,
    blockedServers: may.blockServers ? newestFirst(state.blockedServers) : null,
    may,
  };
}

export async function moderationPageData(h: Harmony, actor: Actor): Promise<ModerationPageData> {
  const overview = await moderationOverview(h, actor);
  const state = await moderationState(h);
  const snapshot = await h.snapshot();
  const now = Date.now();
  const members = (await listMembers(h)).filter((m) => m.did !== actor.did).map((m) => {
    const until = state.timeouts.get(m.did)?.until ?? null;
    return {
      did: m.did,
      name: m.name,
      role: m.role,
      timedOutUntil: until && Date.parse(until) > now ? until : null,
    };
  });
  const channels = await Promise.all(snapshot.channels.map(async (c) => ({
    id: c.id,
    iri: c.iri,
    name: c.name,
    slowMode: state.slowMode.get(c.iri) ?? 0,
    maySlowMode: (await allowed(h, actor.did!, "slow-mode", c)) !== null,
  })));
  const fediverse = overview.may.removeReplies ? await fediverseReplies(h, actor) : null;
  return { ...overview, me: actor.did!, members, channels, fediverse };
}
