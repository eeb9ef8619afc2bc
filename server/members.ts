import { quadStore } from "../db/quadstore.ts";
import { boolean, dateTime, integer, iri, literal, quad } from "../db/terms.ts";
import { addMember } from "./community.ts";
import { conflict, forbidden, HarmonyError, invalid, notFound, unauthorized } from "./errors.ts";
import type { Harmony } from "./harmony.ts";
import { shortId } from "./ids.ts";
import type { Actor, InviteInfo, MemberInfo, ProfileInfo, Role } from "./model.ts";
import { memberOf, requireRole } from "./permissions.ts";
import { AS, H, RDF } from "./vocab.ts";

export interface MemberListing extends MemberInfo {
  name: string;
  profile: ProfileInfo | null;
}

/** A short fallback name for a DID with no profile. */
export function shortDid(did: string): string {
  const key = did.replace(/^did:key:/, "");
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}

export async function listMembers(h: Harmony): Promise<MemberListing[]> {
  const { members, profiles } = await h.snapshot();
  const rank: Record<Role, number> = { owner: 0, admin: 1, member: 2 };
  return [...members.values()].map((m) => {
    const profile = profiles.get(m.did) ?? null;
    return { ...m, profile, name: profile?.name || shortDid(m.did) };
  }).sort((a, b) => rank[a.role] - rank[b.role] || a.name.localeCompare(b.name));
}

export function inviteState(
  invite: InviteInfo,
  now = new Date(),
): "active" | "revoked" | "expired" | "used up" {
  if (invite.revoked) return "revoked";
  if (invite.expires && new Date(invite.expires) <= now) return "expired";
  if (invite.maxUses !== null && invite.uses >= invite.maxUses) return "used up";
  return "active";
}

/** Joins the community, freely when it is open or with a live invite code. */
export async function join(h: Harmony, actor: Actor, code?: string | null): Promise<MemberInfo> {
  if (!actor.did) throw unauthorized("sign in to join");
  const did = actor.did;
  const existing = await memberOf(h, did);
  if (existing) return existing;
  await h.writeCommunity(async (tx) => {
    const g = h.iris.community;
    const open =
      (await quadStore.match(tx, { graph: g, subject: iri(h.iris.community), predicate: H.openJoin }))[0]
        ?.object.value === "true";
    if (code) {
      const snapshotInvite = (await h.snapshot()).invites.find((i) => i.code === code);
      if (!snapshotInvite) throw notFound("this invite does not exist");
      // Re-read the use count inside the transaction: two joins racing for
      // the last use must not both succeed.
      const usesQuad = await quadStore.match(tx, {
        graph: g,
        subject: iri(snapshotInvite.iri),
        predicate: H.uses,
      });
      const invite = { ...snapshotInvite, uses: Number(usesQuad[0]?.object.value ?? 0) };
      const state = inviteState(invite);
      if (state !== "active") {
        throw new HarmonyError(410, "invite_" + state.replace(" ", "_"), `this invite is ${state}`);
      }
      await quadStore.set(tx, g, iri(invite.iri), H.uses, integer(invite.uses + 1));
    } else if (!open) {
      throw forbidden("this community is invite only; you need an invite link to join");
    }
    await addMember(h, tx, did, H.MemberRole, new Date());
  });
  return (await memberOf(h, did))!;
}

export async function leave(h: Harmony, actor: Actor): Promise<void> {
  const member = await requireRole(h, actor, "member", "leave");
  if (member.role === "owner") {
    throw conflict("owner_cannot_leave", "the owner cannot leave; hand ownership to someone else first");
  }
  await h.writeCommunity((tx) => quadStore.remove(tx, { graph: h.iris.community, subject: iri(member.did) }));
}

const roleIri = { owner: H.Owner, admin: H.Admin, member: H.MemberRole };

/** The owner appoints and removes admins, or hands ownership over. */
export async function setRole(h: Harmony, actor: Actor, did: string, role: unknown): Promise<MemberInfo> {
  const me = await requireRole(h, actor, "owner", "change roles");
  if (role !== "admin" && role !== "member" && role !== "owner") {
    throw invalid("invalid_role", 'role must be "owner", "admin" or "member"');
  }
  const target = await memberOf(h, did);
  if (!target) throw notFound("that DID is not a member");
  if (target.did === me.did) throw conflict("own_role", "hand ownership to another member instead");
  await h.writeCommunity(async (tx) => {
    const g = h.iris.community;
    await quadStore.set(tx, g, iri(did), H.role, roleIri[role]);
    if (role === "owner") {
      await quadStore.set(tx, g, iri(me.did), H.role, H.Admin);
      await quadStore.set(tx, g, iri(h.iris.community), H.owner, iri(did));
    }
  });
  return (await memberOf(h, did))!;
}

export interface NewInvite {
  /** Seconds until it expires; null or absent for never. */
  expiresIn?: unknown;
  maxUses?: unknown;
}

export async function createInvite(h: Harmony, actor: Actor, input: NewInvite): Promise<InviteInfo> {
  const me = await requireRole(h, actor, "admin", "create invites");
  const { expiresIn, maxUses } = input;
  if (
    expiresIn != null &&
    (!Number.isInteger(expiresIn) || (expiresIn as number) < 60 || (expiresIn as number) > 365 * 86400)
  ) {
    throw invalid("invalid_expiry", "an invite expires after 60 seconds to 365 days, or never");
  }
  if (
    maxUses != null && (!Number.isInteger(maxUses) || (maxUses as number) < 1 || (maxUses as number) > 10000)
  ) {
    throw invalid("invalid_max_uses", "an invite allows 1 to 10000 uses, or unlimited");
  }
  const code = shortId(12);
  const now = new Date();
  await h.writeCommunity(async (tx) => {
    const g = h.iris.community;
    const invite = iri(h.iris.invite(code));
    const quads = [
      quad(invite, RDF.type, H.Invite, g),
      quad(invite, H.code, literal(code), g),
      quad(invite, AS.attributedTo, iri(me.did), g),
      quad(invite, AS.published, dateTime(now), g),
      quad(invite, H.uses, integer(0), g),
      quad(invite, H.revoked, boolean(false), g),
    ];
    if (expiresIn != null) {
      quads.push(
        quad(invite, H.expires, dateTime(new Date(now.getTime() + (expiresIn as number) * 1000)), g),
      );
    }
    if (maxUses != null) quads.push(quad(invite, H.maxUses, integer(maxUses as number), g));
    await quadStore.insert(tx, quads);
  });
  return (await h.snapshot()).invites.find((i) => i.code === code)!;
}

export async function listInvites(h: Harmony, actor: Actor): Promise<InviteInfo[]> {
  await requireRole(h, actor, "admin", "see invites");
  return (await h.snapshot()).invites;
}

export async function findInvite(h: Harmony, code: string): Promise<InviteInfo | null> {
  return (await h.snapshot()).invites.find((i) => i.code === code) ?? null;
}

export async function revokeInvite(h: Harmony, actor: Actor, code: string): Promise<void> {
  await requireRole(h, actor, "admin", "revoke invites");
  const invite = await findInvite(h, code);
  if (!invite) throw notFound("this invite does not exist");
  await h.writeCommunity((tx) =>
    quadStore.set(tx, h.iris.community, iri(invite.iri), H.revoked, boolean(true))
  );
}
