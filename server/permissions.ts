/**
 * Who may do what. Roles are read from the community graph on every
 * check; the capability-based authorisation of a later issue replaces the
 * body of these functions, not their callers.
 */
import { forbidden, unauthorized } from "./errors.ts";
import type { Harmony } from "./harmony.ts";
import type { Actor, ChannelInfo, MemberInfo, Role } from "./model.ts";

const rank: Record<Role, number> = { member: 1, admin: 2, owner: 3 };

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

/** Whether the actor may read a channel's messages. */
export async function canRead(h: Harmony, actor: Actor, channel: ChannelInfo): Promise<boolean> {
  if (channel.visibility === "public") return true;
  return (await memberOf(h, actor.did)) !== null;
}

/** Throws 401 (signed out) or 403 (not a member) when the channel is closed to the actor. */
export async function requireRead(h: Harmony, actor: Actor, channel: ChannelInfo): Promise<void> {
  if (await canRead(h, actor, channel)) return;
  if (!actor.did) throw unauthorized(`#${channel.name} is for members only; sign in to read it`);
  throw forbidden(`#${channel.name} is for members only`);
}
