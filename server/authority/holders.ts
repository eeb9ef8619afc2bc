/**
 * Who may hold capabilities here, and when what they hold is suspended.
 *
 * A capability never makes a DID a member. It is in force for a member; for
 * a bot a member registered (server/community/bots.ts), without the owner's
 * own actions (`NEVER_FOR_BOTS`); for anyone else, never, whatever was
 * delegated to them. So invite-only admission, the join lock, the credential
 * policy and the minimum DID age cannot be walked round by a delegation.
 *
 * Sanctions reach down the chain: while a member is banned or timed out,
 * every capability delegated through one of theirs, and everything their
 * bots hold, is suspended. It works again when the sanction ends, unless it
 * was revoked meanwhile (a ban revokes what the banned DID holds, and so
 * every chain through it, for good).
 */
import type { Snapshot } from "../community/snapshot.ts";
import { anySanctions, type ModerationState, type Sanction, sanctionOn } from "../moderation/state.ts";
import { formatDuration } from "../shared/duration.ts";
import { type Action, NEVER_FOR_BOTS } from "./actions.ts";
import type { AuthorityState } from "./store.ts";

export type Standing = { kind: "member" } | { kind: "bot"; owner: string } | { kind: "outsider" };

export function standingOf(snapshot: Snapshot, did: string): Standing {
  if (snapshot.members.has(did)) return { kind: "member" };
  const bot = snapshot.bots.get(did);
  return bot ? { kind: "bot", owner: bot.owner } : { kind: "outsider" };
}

/** The member who answers for what `did` does: itself, or a bot's owner; null for anyone else. */
export function accountableMember(snapshot: Snapshot, did: string): string | null {
  const standing = standingOf(snapshot, did);
  return standing.kind === "member" ? did : standing.kind === "bot" ? standing.owner : null;
}

/** Whether a holder of this standing may use `action` at all, whatever it holds. */
export function mayUse(standing: Standing, action: Action): boolean {
  return standing.kind === "member" || (standing.kind === "bot" && !NEVER_FOR_BOTS.includes(action));
}

export interface Suspension {
  /** The sanctioned DID: a delegator above the holder, or a bot's owner. */
  did: string;
  sanction: Sanction;
}

/**
 * The sanction that suspends a capability held with this chain (root
 * first, the held capability last), if any: one on a member who delegated
 * a link above the holder, or on the owner of the bot holding it.
 */
export function suspensionOf(
  authority: AuthorityState,
  moderation: ModerationState,
  standing: Standing,
  chainIds: readonly string[],
  now: number,
): Suspension | null {
  if (!anySanctions(moderation)) return null;
  const above = chainIds.slice(0, -1).map((id) => authority.byId.get(id)?.holder);
  if (standing.kind === "bot") above.push(standing.owner);
  for (const did of above) {
    const sanction = did ? sanctionOn(moderation, did, now) : null;
    if (sanction) return { did: did!, sanction };
  }
  return null;
}

/** Why a suspended capability gives nothing now, for the refusal. */
export function describeSuspension(suspension: Suspension, now: number): string {
  const { sanction } = suspension;
  return sanction.kind === "banned"
    ? "it was delegated by a DID that is banned here"
    : `it was delegated by a member who is timed out for another ${
      formatDuration(Date.parse(sanction.until) - now)
    }; it works again when the timeout ends`;
}
