/**
 * Authorization by capability. A request is allowed when the actor holds a
 * capability, delegated from the community's root capability through a
 * chain whose every link verifies, that allows the action on the exact
 * target (the community, or the channel). Roles are only how capabilities
 * are handed out; nothing here looks at a role name.
 *
 * Verified chains are cached for a while (keyed by capability id; the
 * signatures cannot change); expiry and revocation are checked on every
 * call, so a revocation takes effect at once. So are the holder's standing
 * (a member, a member's registered bot, or nobody here) and the sanctions on
 * everyone above it in the chain (server/authority/holders.ts).
 */
import { communityKey } from "../capabilities/communityKey.ts";
import { forbidden, HarmonyError, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo } from "../shared/model.ts";
import { moderationState, moderationStateNow } from "../moderation/state.ts";
import { type Action, ACTIONS } from "./actions.ts";
import { describeSuspension, mayUse, standingOf, type Suspension, suspensionOf } from "./holders.ts";
import { authorityState, type HeldCapability } from "./store.ts";

export interface Authorization {
  did: string;
  /** The capability that allowed it, and its chain (root first). */
  capabilityId: string;
  chainIds: string[];
}

const VERIFIED_TTL_MS = 10 * 60_000;
const verifiedChains = new WeakMap<Harmony, Map<string, { chainIds: string[]; until: number }>>();

/** Turns the cache of verified chains off (the uncached benchmark). */
export const authorizationSettings = { cacheVerifiedChains: true };

async function verifiedChain(h: Harmony, held: HeldCapability, now: Date): Promise<string[] | null> {
  let perInstance = verifiedChains.get(h);
  if (!perInstance) verifiedChains.set(h, perInstance = new Map());
  const cached = perInstance.get(held.id);
  if (cached && cached.until > now.getTime() && authorizationSettings.cacheVerifiedChains) {
    return cached.chainIds;
  }
  const key = await communityKey(h);
  const result = await h.proofs.verifyDelegation(held.capability, {
    rootTarget: h.iris.communityTarget,
    rootController: key.did,
    now,
    useDelegationCache: authorizationSettings.cacheVerifiedChains,
  });
  if (!result.verified) {
    console.warn(`authority: capability ${held.id} of ${held.holder} does not verify: ${result.reason}`);
    perInstance.delete(held.id);
    return null;
  }
  if (perInstance.size > 50_000) perInstance.clear();
  perInstance.set(held.id, { chainIds: result.chainIds, until: now.getTime() + VERIFIED_TTL_MS });
  return result.chainIds;
}

/** Whether a capability's target covers `target` (itself, or a channel under the community). */
export function covers(capabilityTarget: string, target: string): boolean {
  return target === capabilityTarget || target.startsWith(`${capabilityTarget}/`);
}

/**
 * The capabilities `did` holds that are in force now: not expired, not
 * revoked, no revoked link in their chain, every signature verified, held
 * by a member or a registered bot (a bot's without the owner's own
 * actions), and nobody above the holder sanctioned.
 */
export async function capabilitiesInForce(
  h: Harmony,
  did: string,
  now = new Date(),
): Promise<Array<HeldCapability & { chainIds: string[] }>> {
  const [state, snapshot, moderation] = await Promise.all([
    authorityState(h),
    h.snapshot(),
    moderationState(h),
  ]);
  const standing = standingOf(snapshot, did);
  if (standing.kind === "outsider") return [];
  const out: Array<HeldCapability & { chainIds: string[] }> = [];
  for (const held of state.byHolder.get(did) ?? []) {
    if (held.revoked || Date.parse(held.expires) <= now.getTime()) continue;
    const actions = held.actions.filter((action) => mayUse(standing, action));
    if (actions.length === 0) continue;
    const chainIds = await verifiedChain(h, held, now);
    if (!chainIds || chainIds.some((id) => state.revoked.has(id))) continue;
    if (suspensionOf(state, moderation, standing, chainIds, now.getTime())) continue;
    out.push({ ...held, actions, chainIds });
  }
  return out;
}

/** An authorization, or why there is none (null: nothing held covers it). */
async function evaluate(
  h: Harmony,
  did: string,
  action: Action,
  channel: ChannelInfo | null | undefined,
  now: Date,
): Promise<Authorization | { suspended: Suspension } | { outsider: true } | null> {
  const state = await authorityState(h);
  const target = channel ? h.iris.channelTarget(channel.id) : h.iris.communityTarget;
  const candidates = (state.byHolder.get(did) ?? []).filter((held) =>
    !held.revoked && held.actions.includes(action) && covers(held.target, target) &&
    Date.parse(held.expires) > now.getTime()
  );
  if (candidates.length === 0) return null;
  const standing = standingOf(await h.snapshot(), did);
  if (standing.kind === "outsider") return { outsider: true };
  if (!mayUse(standing, action)) return null;
  let suspended: Suspension | null = null;
  for (const held of candidates) {
    const chainIds = await verifiedChain(h, held, now);
    if (!chainIds || chainIds.some((id) => state.revoked.has(id))) continue;
    const moderation = moderationStateNow(h);
    const suspension = suspensionOf(
      state,
      moderation instanceof Promise ? await moderation : moderation,
      standing,
      chainIds,
      now.getTime(),
    );
    if (suspension) {
      suspended ??= suspension;
      continue;
    }
    return { did, capabilityId: held.id, chainIds };
  }
  return suspended ? { suspended } : null;
}

/** Checks without throwing; null when not allowed. */
export async function allowed(
  h: Harmony,
  did: string,
  action: Action,
  channel?: ChannelInfo | null,
  now = new Date(),
): Promise<Authorization | null> {
  const result = await evaluate(h, did, action, channel, now);
  return result && "capabilityId" in result ? result : null;
}

/**
 * The actor's authorization for `action` (on `channel`, or the whole
 * community); 401 when signed out, 403 naming what is missing otherwise.
 */
export async function authorize(
  h: Harmony,
  actor: Actor,
  action: Action,
  channel?: ChannelInfo | null,
): Promise<Authorization> {
  const what = ACTIONS[action];
  if (!actor.did) throw unauthorized(`sign in to ${what}`);
  const now = new Date();
  const result = await evaluate(h, actor.did, action, channel, now);
  if (result && "capabilityId" in result) return result;
  const where = channel ? ` in #${channel.name}` : "";
  if (result && "suspended" in result) {
    throw new HarmonyError(
      403,
      "delegation_suspended",
      `the capability you hold to ${what}${where} is suspended: ${
        describeSuspension(result.suspended, now.getTime())
      }`,
    );
  }
  if (result && "outsider" in result) {
    throw new HarmonyError(
      403,
      "not_a_member",
      `you are not a member here, and a capability delegated to you does not make you one: ` +
        `join the community to ${what}${where}`,
    );
  }
  throw forbidden(`you have no capability to ${what}${where}`);
}

/** Every action `did` may take community-wide. */
export async function actionsOf(h: Harmony, did: string): Promise<Set<Action>> {
  const out = new Set<Action>();
  for (const held of await capabilitiesInForce(h, did)) {
    if (held.target === h.iris.communityTarget) { for (const action of held.actions) out.add(action); }
  }
  return out;
}

/**
 * Whether `actor` outranks `target`: holds every action the target holds
 * community-wide, and more. A moderator cannot act on an admin, an admin
 * not on the owner, and nobody on an equal.
 */
export async function outranks(h: Harmony, actor: string, target: string): Promise<boolean> {
  const [mine, theirs] = await Promise.all([actionsOf(h, actor), actionsOf(h, target)]);
  for (const action of theirs) if (!mine.has(action)) return false;
  return mine.size > theirs.size;
}
