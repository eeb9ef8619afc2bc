/**
 * Membership and reading. What a member may *do* is decided by the
 * capabilities they hold (server/authority/authorize.ts); this module
 * answers "is this DID a member" and "may this caller read this channel".
 */
import { forbidden, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo, MemberInfo, Role } from "../shared/model.ts";
import { allowed } from "../authority/authorize.ts";

const rank: Record<Role, number> = { member: 1, moderator: 2, admin: 3, owner: 4 };

export function atLeast(role: Role, minimum: Role): boolean {
  return rank[role] >= rank[minimum];
}

export async function memberOf(h: Harmony, did: string | null): Promise<MemberInfo | null> {
  if (!did) return null;
  return (await h.snapshot()).members.get(did) ?? null;
}

/** The actor's membership, if they hold `minimum` or more; else 401/403. */
export async function requireRole(
  h: Harmony,
  actor: Actor,
  minimum: Role,
  doing: string,
): Promise<MemberInfo> {
  if (!actor.did) throw unauthorized(`sign in to ${doing}`);
  const member = await memberOf(h, actor.did);
  if (!member) throw forbidden(`only members can ${doing}; join the community first`);
  if (!atLeast(member.role, minimum)) {
    throw forbidden(`only ${minimum === "admin" ? "admins and the owner" : "the owner"} can ${doing}`);
  }
  return member;
}

/** Whether the actor may read a channel's messages: anyone for a public one, else a capability to read it. */
export async function canRead(h: Harmony, actor: Actor, channel: ChannelInfo): Promise<boolean> {
  if (channel.visibility === "public") return true;
  if (!actor.did) return false;
  return (await allowed(h, actor.did, "read", channel)) !== null;
}

/** Throws 401 (signed out) or 403 (not a member) when the channel is closed to the actor. */
export async function requireRead(h: Harmony, actor: Actor, channel: ChannelInfo): Promise<void> {
  if (await canRead(h, actor, channel)) return;
  if (!actor.did) throw unauthorized(`#${channel.name} is for members only; sign in to read it`);
  throw forbidden(`#${channel.name} is for members only`);
}
