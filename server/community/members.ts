import { quadStore } from "../../db/quadstore.ts";
import { boolean, dateTime, integer, iri, literal, quad } from "../../db/terms.ts";
import { addMember } from "./community.ts";
import { authorize } from "../authority/authorize.ts";
import { communityKey } from "../capabilities/communityKey.ts";
import {
  grantMembership,
  grantOwnership,
  memberCapability,
  ownerCapability,
  reissueFromRoot,
  revokeAllHeldBy,
  rootGrant,
  writeAuthority,
} from "../authority/grants.ts";
import { authorityState, delegatedThrough, markRevoked, storeHeld } from "../authority/store.ts";
import { BUILT_IN_ROLES } from "../authority/actions.ts";
import { conflict, forbidden, HarmonyError, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { shortId } from "../shared/ids.ts";
import type { Actor, InviteInfo, MemberInfo, ProfileInfo, Role } from "../shared/model.ts";
import { memberOf, requireRole } from "./permissions.ts";
import { AS, H, RDF } from "../rdf/vocab.ts";
import { readAdmission } from "../credentials/admission.ts";
import {
  type Admission,
  checkAdmissionPresentation,
  consumeChallenge,
  samePolicy,
} from "../credentials/admit.ts";
import {
  issueMembershipCredential,
  issueRoleCredential,
  revokeMemberCredentials,
} from "../credentials/issue.ts";
import { admitJoin } from "../moderation/guard.ts";
import { shortDid } from "./snapshot.ts";
import { dropBot } from "./bots.ts";
import { auditFor, recordAudit } from "../audit/log.ts";

export interface MemberListing extends MemberInfo {
  name: string;
  profile: ProfileInfo | null;
}

export { shortDid };

/** The sorted listing of each snapshot (a new snapshot is loaded whenever members or profiles change). */
const listings = new WeakMap<object, readonly MemberListing[]>();

/** Members by rank, then name. The same (frozen) array is shared by every caller until the snapshot changes. */
export async function listMembers(h: Harmony): Promise<readonly MemberListing[]> {
  const snapshot = await h.snapshot();
  let listing = listings.get(snapshot);
  if (!listing) {
    const rank: Record<Role, number> = { owner: 0, admin: 1, moderator: 2, member: 3 };
    const collator = new Intl.Collator();
    listing = Object.freeze(
      [...snapshot.members.values()].map((m) => {
        const profile = snapshot.profiles.get(m.did) ?? null;
        return Object.freeze({ ...m, profile, name: profile?.name || shortDid(m.did) });
      }).sort((a, b) => rank[a.role] - rank[b.role] || collator.compare(a.name, b.name)),
    );
    listings.set(snapshot, listing);
  }
  return listing;
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

/**
 * Joins the community: with a live invite code, freely when it is open, or
 * with a presentation of the credential its admission policy asks for
 * (server/credentials/admit.ts). The member is issued a membership
 * credential in the same transaction.
 */
export async function join(
  h: Harmony,
  actor: Actor,
  code?: string | null,
  presentation?: unknown,
): Promise<MemberInfo> {
  if (!actor.did) throw unauthorized("sign in to join");
  const did = actor.did;
  const existing = await memberOf(h, did);
  if (existing) return existing;
  await admitJoin(h, did);
  // Verified before the transaction (it may fetch an issuer's status list); settled inside it.
  let admission: Admission | null = null;
  const current = (await h.snapshot()).community?.admission;
  if (!code && presentation !== undefined && current?.policy === "credential") {
    admission = await checkAdmissionPresentation(h, did, presentation, current);
  }
  const capability = await memberCapability(h, did);
  await writeAuthority(h, async (tx) => {
    const g = h.iris.community;
    const policy = await readAdmission(tx, h);
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
    } else if (policy.policy === "credential") {
      if (!admission) {
        throw forbidden(
          `to join, present a ${policy.credentialType} issued by ${policy.issuer}, or use an invite link`,
        );
      }
      if (!samePolicy(admission.policy, policy)) {
        throw conflict("admission_changed", "the community's admission policy changed; try again");
      }
      await consumeChallenge(tx, h, admission.challenge);
    } else if (policy.policy !== "open") {
      throw forbidden("this community is invite only; you need an invite link to join");
    }
    // A bot admitted in its own right is a member from now on, and no one's bot.
    if ((await h.snapshot()).registeredBots.has(did)) await dropBot(h, tx, did, did);
    await addMember(h, tx, did, H.MemberRole, new Date());
    await grantMembership(h, tx, did, capability);
    await issueMembershipCredential(tx, h, did);
  });
  return (await memberOf(h, did))!;
}

export async function leave(h: Harmony, actor: Actor): Promise<void> {
  const member = await requireRole(h, actor, "member", "leave");
  if (member.role === "owner") {
    throw conflict("owner_cannot_leave", "the owner cannot leave; hand ownership to someone else first");
  }
  await writeAuthority(h, async (tx) => {
    await quadStore.remove(tx, { graph: h.iris.community, subject: iri(member.did) });
    await revokeAllHeldBy(h, tx, member.did, member.did);
    await revokeMemberCredentials(tx, h, member.did, "membership");
  });
}

/**
 * The owner hands the community over: the new owner gets the owner's
 * capability from the root, the old one becomes an admin, and whatever was
 * delegated through the old owner's capability is issued again from the
 * root, so nobody loses a role.
 */
export async function transferOwnership(
  h: Harmony,
  actor: Actor,
  did: string,
  signed?: unknown,
): Promise<MemberInfo> {
  const { did: me, capabilityId } = await authorize(h, actor, "transfer-ownership");
  const target = await memberOf(h, did);
  if (!target) throw notFound("that DID is not a member");
  if (did === me) throw conflict("own_role", "you already own the community");
  const state = await authorityState(h);
  const owners = (state.byHolder.get(me) ?? []).filter((c) => c.role === h.iris.role("owner") && !c.revoked);
  const mine = new Set(owners.map((c) => c.id));
  const dependents = [...state.byId.values()].filter((c) =>
    !c.revoked && c.holder !== me && c.target === h.iris.communityTarget && delegatedThrough(state, c, mine)
  );
  const root = (await communityKey(h)).did;
  const newOwner = await ownerCapability(h, did);
  const formerOwner = await rootGrant(h, me, BUILT_IN_ROLES.admin.actions);
  const reissued = await Promise.all(dependents.map((c) => reissueFromRoot(h, c)));
  const audit = await auditFor(h, actor, signed, {
    action: "transfer-ownership",
    target: did,
    capability: capabilityId,
  });
  await writeAuthority(h, async (tx) => {
    await recordAudit(tx, h, audit);
    for (const c of owners) await markRevoked(h, tx, c.id, me);
    for (const c of dependents) await markRevoked(h, tx, c.id, me);
    await grantOwnership(h, tx, newOwner);
    await storeHeld(h, tx, formerOwner, { delegatedBy: root, role: h.iris.role("admin") });
    for (const [i, c] of dependents.entries()) {
      await storeHeld(h, tx, reissued[i].capability, { delegatedBy: reissued[i].delegatedBy, role: c.role });
    }
    const g = h.iris.community;
    await quadStore.set(tx, g, iri(did), H.role, H.Owner);
    await quadStore.set(tx, g, iri(me), H.role, H.Admin);
    await quadStore.set(tx, g, iri(h.iris.community), H.owner, iri(did));
    await revokeMemberCredentials(tx, h, me, { role: "owner" });
    await issueRoleCredential(tx, h, me, "admin");
    await issueRoleCredential(tx, h, did, "owner");
  });
  return (await memberOf(h, did))!;
}

export interface NewInvite {
  /** Seconds until it expires; null or absent for never. */
  expiresIn?: unknown;
  maxUses?: unknown;
}

export async function createInvite(h: Harmony, actor: Actor, input: NewInvite): Promise<InviteInfo> {
  const me = await authorize(h, actor, "manage-invites");
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
  await authorize(h, actor, "manage-invites");
  return (await h.snapshot()).invites;
}

export async function findInvite(h: Harmony, code: string): Promise<InviteInfo | null> {
  return (await h.snapshot()).invites.find((i) => i.code === code) ?? null;
}

export async function revokeInvite(h: Harmony, actor: Actor, code: string): Promise<void> {
  await authorize(h, actor, "manage-invites");
  const invite = await findInvite(h, code);
  if (!invite) throw notFound("this invite does not exist");
  await h.writeCommunity((tx) =>
    quadStore.set(tx, h.iris.community, iri(invite.iri), H.revoked, boolean(true))
  );
}
