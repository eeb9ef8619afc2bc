/**
 * Handing out capabilities. The community key delegates from the root
 * capability (the owner's capability, every member's basic one); members
 * delegate from what they hold (owner to admins, admins to moderators,
 * any member to another member or to their own registered bot), each link
 * attenuating actions, the target (one channel) and the expiry, never more
 * than its parent. Who may receive what is in server/authority/holders.ts.
 */
import type { Tx } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { type AuditDraft, auditFor, recordAudit } from "../audit/log.ts";
import { iri } from "../../db/terms.ts";
import { communityKey } from "../capabilities/communityKey.ts";
import { rootCapabilityId } from "../capabilities/root.ts";
import { didOfVerificationMethod, isDidKey } from "../crypto/didkey.ts";
import type { DelegatedCapability } from "../documents/documents.ts";
import { conflict, forbidden, HarmonyError, invalid, notFound } from "../shared/errors.ts";
import { formatDuration } from "../shared/duration.ts";
import { moderationState, sanctionOn } from "../moderation/state.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { H } from "../rdf/vocab.ts";
import { type Action, BUILT_IN_ROLES, isAction, NEVER_FOR_BOTS } from "./actions.ts";
import { standingOf } from "./holders.ts";
import { authorize, capabilitiesInForce, covers, outranks } from "./authorize.ts";
import {
  authorityChanged,
  authorityState,
  delegatedThrough,
  type HeldCapability,
  markRevoked,
  type RoleInfo,
  storeHeld,
} from "./store.ts";
import { registerIdentityMover } from "../identity/move.ts";
import { syncRoleCredentials } from "../credentials/issue.ts";

/** Capabilities the community grants directly last this long (revocable at any time). */
const ROOT_GRANT_YEARS = 10;

/**
 * Runs a write to the community and authority graphs; caches are dropped after the commit.
 * Most such writes sign (credentials, status lists), so the proof service is loaded first,
 * unless `signs` is false.
 */
export async function writeAuthority<T>(
  h: Harmony,
  fn: (tx: Tx) => Promise<T>,
  options: { signs?: boolean } = {},
): Promise<T> {
  if (options.signs ?? true) await h.proofs.warm();
  try {
    return await h.writeCommunity(fn);
  } finally {
    authorityChanged(h);
  }
}

/** A capability from the community's root capability, signed by the community key. */
export async function rootGrant(
  h: Harmony,
  holder: string,
  actions: readonly Action[],
  options: { target?: string; expires?: Date } = {},
): Promise<DelegatedCapability> {
  const key = await communityKey(h);
  const now = new Date();
  const expires = options.expires ?? new Date(now.getTime() + ROOT_GRANT_YEARS * 365 * 86400_000);
  return await h.proofs.delegate({
    parent: rootCapabilityId(h.iris.communityTarget),
    controller: holder,
    invocationTarget: h.iris.communityTarget,
    allowedAction: [...actions],
    expires,
    signer: key.signer,
    now,
  }) as unknown as DelegatedCapability;
}

/** Grants `did` its member capability (made by memberCapability), in the caller's transaction. */
export async function grantMembership(
  h: Harmony,
  tx: Tx,
  did: string,
  capability: DelegatedCapability,
): Promise<void> {
  if (capability.controller !== did) throw new Error("the member capability is for another DID");
  const key = await communityKey(h);
  await storeHeld(h, tx, capability, { delegatedBy: key.did, role: h.iris.role("member") });
}

/** The member capability to grant (sign before opening the transaction). */
export function memberCapability(h: Harmony, did: string): Promise<DelegatedCapability> {
  return rootGrant(h, did, BUILT_IN_ROLES.member.actions);
}

export function ownerCapability(h: Harmony, did: string): Promise<DelegatedCapability> {
  return rootGrant(h, did, BUILT_IN_ROLES.owner.actions);
}

export async function grantOwnership(h: Harmony, tx: Tx, capability: DelegatedCapability): Promise<void> {
  const key = await communityKey(h);
  await storeHeld(h, tx, capability, { delegatedBy: key.did, role: h.iris.role("owner") });
}

/** Revokes every capability `did` holds (leaving, kick, ban, losing an identity). */
export async function revokeAllHeldBy(h: Harmony, tx: Tx, did: string, by: string): Promise<string[]> {
  const state = await authorityState(h);
  const ids = (state.byHolder.get(did) ?? []).filter((c) => !c.revoked).map((c) => c.id);
  for (const id of ids) await markRevoked(h, tx, id, by);
  return ids;
}

function checkShape(value: unknown): DelegatedCapability {
  const c = value as DelegatedCapability;
  if (typeof c !== "object" || c === null || Array.isArray(c)) {
    throw invalid("malformed_capability", "a delegation must be a capability (JSON object)");
  }
  for (const field of ["id", "parentCapability", "invocationTarget", "controller", "expires"] as const) {
    if (typeof c[field] !== "string") {
      throw invalid("malformed_capability", `the delegation has no "${field}"`);
    }
  }
  if (!/^urn:uuid:[0-9a-f-]{36}$/.test(c.id)) {
    throw invalid("malformed_capability", "a delegation's id is a urn:uuid");
  }
  if (!Array.isArray(c.allowedAction) || c.allowedAction.length === 0 || !c.allowedAction.every(isAction)) {
    throw invalid("malformed_capability", "allowedAction must list Harmony actions");
  }
  if (!isDidKey(c.controller)) {
    throw invalid("malformed_capability", "a capability here is held by a did:key");
  }
  if (typeof c.proof !== "object" || c.proof === null || c.proof.proofPurpose !== "capabilityDelegation") {
    throw invalid("malformed_capability", "the delegation carries no capabilityDelegation proof");
  }
  return c;
}

/**
 * Who may delegate and to whom: a member free of sanctions, to another
 * member or to their own registered bot (not the owner's own actions).
 * A DID that is neither is refused: a capability would not make it a
 * member, only let it past admission.
 */
async function checkDelegation(
  h: Harmony,
  delegator: string,
  capability: DelegatedCapability,
): Promise<void> {
  const snapshot = await h.snapshot();
  if (!snapshot.members.has(delegator)) throw forbidden("only members delegate capabilities");
  const sanction = sanctionOn(await moderationState(h), delegator);
  if (sanction?.kind === "timed_out") {
    throw new HarmonyError(
      403,
      "timed_out",
      `you are timed out and cannot delegate for another ${
        formatDuration(Date.parse(sanction.until) - Date.now())
      }`,
    );
  }
  if (sanction) throw new HarmonyError(403, "banned", "you are banned from this community");
  const recipient = standingOf(snapshot, capability.controller);
  if (recipient.kind === "member") return;
  if (recipient.kind === "bot") {
    if (recipient.owner !== delegator) {
      throw new HarmonyError(
        403,
        "not_your_bot",
        "that DID is another member's bot: only its owner delegates to it",
      );
    }
    const reserved = capability.allowedAction.filter((a) => NEVER_FOR_BOTS.includes(a as Action));
    if (reserved.length) {
      throw invalid("not_for_bots", `a bot cannot hold ${reserved.join(", ")}: those stay with the owner`);
    }
    return;
  }
  throw new HarmonyError(
    403,
    "not_a_member",
    "that DID is not a member here, and a capability would not make it one: invite it to join, " +
      "or register it as your bot first (POST /api/bots)",
  );
}

/**
 * Accepts a delegation `actor` signed from one of their capabilities: the
 * parent must be theirs and in force, the signature theirs, the recipient
 * a member or the actor's own bot (checkDelegation), and the whole chain
 * must verify (so it grants no more than its parent).
 */
export async function acceptDelegation(
  h: Harmony,
  actor: Actor,
  value: unknown,
  options: { role?: RoleInfo; audit?: AuditDraft } = {},
): Promise<HeldCapability> {
  if (!actor.did) throw forbidden("sign in to delegate");
  const capability = checkShape(value);
  const signer = didOfVerificationMethod(String(capability.proof.verificationMethod ?? ""));
  if (signer !== actor.did) throw forbidden("you can only send delegations you signed yourself");
  await checkDelegation(h, actor.did, capability);
  const mine = await capabilitiesInForce(h, actor.did);
  const parent = mine.find((c) => c.id === capability.parentCapability);
  if (!parent) throw forbidden("the delegation's parent is not a capability you hold");
  if (!covers(h.iris.communityTarget, capability.invocationTarget)) {
    throw invalid("malformed_capability", "the delegation's target is not this community");
  }
  const state = await authorityState(h);
  if (state.byId.has(capability.id)) {
    throw conflict("capability_exists", "a capability with this id already exists");
  }
  const key = await communityKey(h);
  const result = await h.proofs.verifyDelegation(capability, {
    rootTarget: h.iris.communityTarget,
    rootController: key.did,
  });
  if (!result.verified) throw forbidden(`the delegation does not verify: ${result.reason}`);
  await writeAuthority(h, async (tx) => {
    await storeHeld(h, tx, capability, { delegatedBy: actor.did!, role: options.role?.iri ?? null });
    if (options.role) await rolesChanged(h, tx, capability.controller);
    if (options.audit) await recordAudit(tx, h, options.audit);
  });
  return (await authorityState(h)).byId.get(capability.id)!;
}

/** The roles defined in the community. */
export async function listRoles(h: Harmony): Promise<RoleInfo[]> {
  return (await authorityState(h)).roles;
}

async function findRole(h: Harmony, slug: string): Promise<RoleInfo> {
  const role = (await listRoles(h)).find((r) => r.slug === slug);
  if (!role) throw notFound(`there is no role "${slug}"`);
  return role;
}

/** Display role of a member, kept beside the capabilities for the member list. */
/**
 * After a role change, inside its transaction: the roles `did` now holds
 * (read from the transaction, so the change just made counts), the role
 * shown in the member list, and the matching role credentials.
 */
async function rolesChanged(h: Harmony, tx: Tx, did: string): Promise<void> {
  const g = h.iris.authority;
  const roles = new Set<string>();
  for (const q of await quadStore.match(tx, { graph: g, predicate: H.holder, object: iri(did) })) {
    const props = await quadStore.match(tx, { graph: g, subject: q.subject });
    const revoked = props.some((p) => p.predicate.value === H.revoked.value && p.object.value === "true");
    const role = props.find((p) => p.predicate.value === H.grantedRole.value)?.object.value;
    if (!revoked && role) roles.add(role.split("/").pop()!);
  }
  const best = ["owner", "admin", "moderator"].find((slug) => roles.has(slug));
  const value = best === "owner"
    ? H.Owner
    : best === "admin"
    ? H.Admin
    : best === "moderator"
    ? H.Moderator
    : H.MemberRole;
  if ((await quadStore.count(tx, { graph: h.iris.community, subject: iri(did), predicate: H.role })) > 0) {
    await quadStore.set(tx, h.iris.community, iri(did), H.role, value);
    await syncRoleCredentials(tx, h, did, [...roles].filter((r) => r !== "member"));
  }
}

/**
 * Assigns a role: `actor` (who may manage roles) sends the delegation they
 * signed, from their own capability, of exactly the role's actions to the
 * member.
 */
export async function assignRole(h: Harmony, actor: Actor, did: string, slug: string, delegation: unknown) {
  const { did: me, capabilityId } = await authorize(h, actor, "manage-roles");
  const role = await findRole(h, slug);
  if (role.slug === "owner") throw invalid("owner_role", "ownership is handed over, not assigned");
  const capability = checkShape(delegation);
  if (capability.controller !== did) throw invalid("wrong_holder", "the delegation is for another DID");
  const wanted = new Set(role.actions);
  const given = new Set(capability.allowedAction);
  if (wanted.size !== given.size || [...wanted].some((a) => !given.has(a as Action))) {
    throw invalid("wrong_actions", `the "${role.name}" role allows exactly: ${role.actions.join(", ")}`);
  }
  if (!(await h.snapshot()).members.has(did)) throw notFound("that DID is not a member");
  // The signed delegation is the audit log's evidence of who assigned the role.
  const evidence = capability as unknown as Record<string, unknown>;
  const audit = {
    action: "role-assign",
    target: did,
    actor: me,
    capability: capabilityId,
    arguments: { role: slug },
    evidence,
  };
  return await acceptDelegation(h, actor, capability, { role, audit });
}

/** Removes a role from a member: its delegator, or someone who outranks the member, may. */
export async function removeRole(
  h: Harmony,
  actor: Actor,
  did: string,
  slug: string,
  signed?: unknown,
): Promise<void> {
  const { did: me, capabilityId } = await authorize(h, actor, "manage-roles");
  const role = await findRole(h, slug);
  const state = await authorityState(h);
  const held = (state.byHolder.get(did) ?? []).filter((c) => c.role === role.iri && !c.revoked);
  if (held.length === 0) throw notFound(`that member does not hold the "${role.name}" role`);
  if (role.slug === "owner") throw invalid("owner_role", "ownership is handed over, not removed");
  if (!held.every((c) => c.delegatedBy === me) && !(await outranks(h, me, did))) {
    throw forbidden("you can only remove roles from members you outrank");
  }
  const what = { action: "role-remove", target: did, capability: capabilityId, arguments: { role: slug } };
  const audit = await auditFor(h, actor, signed, what);
  await writeAuthority(h, async (tx) => {
    await recordAudit(tx, h, audit);
    for (const c of held) await markRevoked(h, tx, c.id, me);
    await rolesChanged(h, tx, did);
  });
}

/**
 * Revokes a capability: the member who delegated it, the holder (giving it
 * up), or someone allowed to manage roles who outranks the holder.
 */
export async function revokeCapability(
  h: Harmony,
  actor: Actor,
  id: string,
  signed?: unknown,
): Promise<void> {
  if (!actor.did) throw forbidden("sign in to revoke capabilities");
  const state = await authorityState(h);
  const held = state.byId.get(id);
  if (!held) throw notFound("there is no such capability");
  if (held.revoked) return;
  const me = actor.did;
  const manager = await authorize(h, actor, "manage-roles").catch(() => null);
  const mayManage = held.delegatedBy === me || held.holder === me ||
    (manager !== null && (await outranks(h, me, held.holder)));
  if (!mayManage) {
    throw forbidden("you can only revoke capabilities you delegated, you hold, or of members you outrank");
  }
  if (held.role === h.iris.role("owner")) {
    throw invalid("owner_role", "ownership is handed over, not revoked");
  }
  // The capability invoked: the parent it was delegated from, itself (given up), or manage-roles.
  const invoked = held.delegatedBy === me
    ? held.parent
    : held.holder === me
    ? held.id
    : manager!.capabilityId;
  const audit = await auditFor(h, actor, signed, {
    action: "capability-revoke",
    target: id,
    capability: invoked,
  });
  await writeAuthority(h, async (tx) => {
    await recordAudit(tx, h, audit);
    await markRevoked(h, tx, id, me);
    await rolesChanged(h, tx, held.holder);
  });
}

/**
 * Issues again, straight from the root, what a capability allowed, to a
 * new holder: used when a chain must survive the revocation of a link
 * above it (ownership handed over, an identity recovered).
 */
export async function reissueFromRoot(h: Harmony, held: HeldCapability, holder = held.holder) {
  const key = await communityKey(h);
  return await h.proofs.delegate({
    parent: rootCapabilityId(h.iris.communityTarget),
    controller: holder,
    invocationTarget: h.iris.communityTarget,
    allowedAction: held.actions,
    expires: new Date(Math.max(Date.parse(held.expires), Date.now() + 60_000)),
    signer: key.signer,
  }).then((c) => ({ capability: c as unknown as DelegatedCapability, delegatedBy: key.did }));
}

export type { DelegatedCapability };

/**
 * Recovery moves an identity: what the old DID held is revoked and issued
 * again from the root to the new one (same actions, same roles), and what
 * others held through it is issued again from the root too, so nobody
 * loses a capability because a link above them changed hands.
 */
registerIdentityMover("authority", async (tx, h, from, to) => {
  const state = await authorityState(h);
  const theirs = (state.byHolder.get(from) ?? []).filter((c) => !c.revoked);
  const ids = new Set(theirs.map((c) => c.id));
  const dependents = [...state.byId.values()].filter((c) =>
    !c.revoked && c.holder !== from && c.target === h.iris.communityTarget && delegatedThrough(state, c, ids)
  );
  for (const c of [...theirs, ...dependents]) {
    await markRevoked(h, tx, c.id, to);
    if (c.target !== h.iris.communityTarget) continue; // a channel-scoped link cannot come from the root
    const { capability, delegatedBy } = await reissueFromRoot(h, c, c.holder === from ? to : c.holder);
    await storeHeld(h, tx, capability, { delegatedBy, role: c.role });
  }
});

/**
 * When a release adds actions to the owner's or the member role (a new
 * feature's action, like "pin"), capabilities granted from the root before it
 * lack them. At start-up each such holder gets a new root grant with the
 * role's current actions. The old grant stays valid, since chains others hold
 * may run through it; authorize() accepts whichever covers the action.
 * Delegations members signed (admins, moderators, custom roles) cannot be
 * widened by the server: they gain new actions when the role is assigned again.
 */
export async function upgradeRootGrants(h: Harmony): Promise<number> {
  const key = await communityKey(h);
  const state = await authorityState(h);
  const builtIn = new Map<string, readonly Action[]>([
    [h.iris.role("owner"), BUILT_IN_ROLES.owner.actions],
    [h.iris.role("member"), BUILT_IN_ROLES.member.actions],
  ]);
  const now = Date.now();
  const current = [...state.byId.values()].filter((c) =>
    !c.revoked && c.delegatedBy === key.did && c.role !== null && builtIn.has(c.role) &&
    c.target === h.iris.communityTarget && Date.parse(c.expires) > now
  );
  const upgrades: Array<{ holder: string; role: string; actions: readonly Action[] }> = [];
  for (const [holder, held] of Map.groupBy(current, (c) => `${c.holder} ${c.role}`)) {
    const role = held[0].role!;
    const wanted = builtIn.get(role)!;
    const covered = held.some((c) => wanted.every((a) => c.actions.includes(a)));
    if (!covered) upgrades.push({ holder: holder.split(" ")[0], role, actions: wanted });
  }
  if (upgrades.length === 0) return 0;
  const grants = await Promise.all(upgrades.map((u) => rootGrant(h, u.holder, u.actions)));
  await writeAuthority(h, async (tx) => {
    for (const [i, capability] of grants.entries()) {
      await storeHeld(h, tx, capability, { delegatedBy: key.did, role: upgrades[i].role });
    }
  });
  return upgrades.length;
}
