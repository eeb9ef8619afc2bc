/**
 * Moderation actions. Each request carries the acting member's signed
 * Action (server/documents/signed.ts, built by signAction in server/documents/documents.ts);
 * it is checked, authorized by capability (and, against a member, by rank:
 * the actor must outrank the target), applied in one transaction together
 * with its audit log entry, and refused with a reason otherwise, leaving
 * nothing written.
 *
 *   kick            target: a member's or a bot's DID   arguments: { reason? }
 *   ban             target: a DID                   arguments: { reason? }
 *   unban           target: a banned DID
 *   timeout         target: a member's or a bot's DID   arguments: { seconds (0 lifts it), reason? }
 *
 * Against a bot, the rank that counts is its owner's.
 *   slow-mode       target: a channel IRI           arguments: { seconds (0 turns it off) }
 *   moderation-settings  target: the community     arguments: { rateLimit?, raidProtection?, minimumDidAge? }
 *   lock-joins / unlock-joins  target: the community
 *   dismiss-alert   target: an alert IRI
 *
 * and the fediverse side (fediverse.ts): remove-reply, restore-reply,
 * block-actor, unblock-actor, block-server, unblock-server.
 */
import { quadStore } from "../../db/quadstore.ts";
import { iri } from "../../db/terms.ts";
import type { Tx } from "../../db/client.ts";
import { actionsOf, type Authorization, authorize, outranks } from "../authority/authorize.ts";
import { revokeAllHeldBy } from "../authority/grants.ts";
import { dropBot } from "../community/bots.ts";
import { findChannel } from "../channels/channels.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { revokeMemberCredentials } from "../credentials/issue.ts";
import { conflict, forbidden, invalid, notFound } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import type { SignedAction } from "../documents/signed.ts";
import {
  argumentsOf,
  type AuditEntry,
  checkSignedAction,
  draftFromAction,
  recordAudit,
  sqlOf,
} from "../audit/log.ts";
import { cleanText } from "../shared/text.ts";
import { FEDIVERSE_ACTIONS, isFediverseAction, moderateFediverse } from "./fediverse.ts";
import {
  alertIri,
  type ModerationSettings,
  moderationState,
  removeBan,
  resolveAlert,
  writeBan,
  writeJoinLock,
  writeModeration,
  writeSettings,
  writeSlowMode,
  writeTimeout,
} from "./state.ts";

export const MODERATION_ACTIONS = [
  "kick",
  "ban",
  "unban",
  "timeout",
  "slow-mode",
  "moderation-settings",
  "lock-joins",
  "unlock-joins",
  "dismiss-alert",
  ...FEDIVERSE_ACTIONS,
] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

/** Longest timeout (as on Discord) and slowest slow mode. */
export const MAX_TIMEOUT_SECONDS = 28 * 86400;
export const MAX_SLOW_MODE_SECONDS = 6 * 3600;

export interface ActionResult {
  action: string;
  target: string;
  /** The audit log entry the action was recorded as. */
  entry: { seq: number; hash: string };
  [key: string]: unknown;
}

const allowedArguments: Record<Exclude<ModerationAction, (typeof FEDIVERSE_ACTIONS)[number]>, string[]> = {
  kick: ["reason"],
  ban: ["reason"],
  unban: [],
  timeout: ["seconds", "reason"],
  "slow-mode": ["seconds"],
  "moderation-settings": ["rateLimit", "raidProtection", "minimumDidAge"],
  "lock-joins": ["reason"],
  "unlock-joins": [],
  "dismiss-alert": [],
};

function checkArguments(doc: SignedAction, action: keyof typeof allowedArguments): Record<string, unknown> {
  const args = argumentsOf(doc);
  for (const key of Object.keys(args)) {
    if (!allowedArguments[action].includes(key)) {
      throw invalid("invalid_arguments", `a ${action} action takes no "${key}"`);
    }
  }
  if (args.reason !== undefined) cleanText(args.reason, { field: "reason", max: 500, min: 0 });
  return args;
}

function wholeNumber(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw invalid("invalid_arguments", `${field} must be a whole number from ${min} to ${max}`);
  }
  return value as number;
}

function reasonOf(args: Record<string, unknown>): string | null {
  return typeof args.reason === "string" && args.reason.trim() ? args.reason.trim() : null;
}

function targetDid(doc: SignedAction, me: string, doing: string): string {
  if (!isDidKey(doc.target)) throw invalid("invalid_target", `the target of ${doing} must be a did:key`);
  if (doc.target === me) throw invalid("own_identity", `you cannot ${doing} yourself`);
  return doc.target;
}

async function mustOutrank(h: Harmony, me: string, target: string, doing: string): Promise<void> {
  // A bot is its owner's: acting on it takes outranking the owner.
  const bot = (await h.snapshot()).registeredBots.get(target);
  if (bot && bot.owner === me) return;
  if (!(await outranks(h, me, bot?.owner ?? target))) {
    throw forbidden(
      bot
        ? `you can only ${doing} the bots of members you outrank`
        : `you can only ${doing} members you outrank (who hold fewer actions than you)`,
    );
  }
}

/** Whether `did` is a member or a member's registered bot (what kick and timeout act on). */
async function memberOrBot(h: Harmony, did: string): Promise<"member" | "bot" | null> {
  const snapshot = await h.snapshot();
  return snapshot.members.has(did) ? "member" : snapshot.registeredBots.has(did) ? "bot" : null;
}

/** Ends a membership: the member's quads, every capability they hold and their credentials. */
async function endMembership(h: Harmony, tx: Tx, did: string, by: string): Promise<void> {
  await quadStore.remove(tx, { graph: h.iris.community, subject: iri(did) });
  await revokeAllHeldBy(h, tx, did, by);
  await revokeMemberCredentials(tx, h, did, "membership");
}

const done = (doc: SignedAction, entry: AuditEntry, more: Record<string, unknown> = {}): ActionResult => ({
  action: doc.action,
  target: doc.target,
  ...more,
  entry: { seq: entry.seq, hash: entry.hash },
});

async function kick(h: Harmony, doc: SignedAction, auth: Authorization): Promise<ActionResult> {
  const target = targetDid(doc, auth.did, "kick");
  const args = checkArguments(doc, "kick");
  const kind = await memberOrBot(h, target);
  if (!kind) throw notFound("that DID is not a member or a bot");
  await mustOutrank(h, auth.did, target, "kick");
  const entry = await writeModeration(h, async (tx) => {
    if (kind === "bot") await dropBot(h, tx, target, auth.did);
    else await endMembership(h, tx, target, auth.did);
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  }, { community: true });
  return done(doc, entry, { reason: reasonOf(args) });
}

async function ban(h: Harmony, doc: SignedAction, auth: Authorization): Promise<ActionResult> {
  const target = targetDid(doc, auth.did, "ban");
  const args = checkArguments(doc, "ban");
  if ((await moderationState(h)).bans.has(target)) {
    throw conflict("already_banned", "that DID is already banned");
  }
  const member = (await h.snapshot()).members.has(target);
  // A member, a bot (through its owner), or anyone holding capabilities here must be outranked.
  if (member || (await memberOrBot(h, target)) || (await actionsOf(h, target)).size > 0) {
    await mustOutrank(h, auth.did, target, "ban");
  }
  const at = new Date().toISOString();
  const entry = await writeModeration(h, async (tx) => {
    await writeBan(tx, h, { did: target, by: auth.did, at, reason: reasonOf(args) });
    await writeTimeout(tx, h, { did: target, until: null });
    await endMembership(h, tx, target, auth.did);
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  }, { community: true });
  return done(doc, entry, { wasMember: member, reason: reasonOf(args) });
}

async function unban(h: Harmony, doc: SignedAction, auth: Authorization): Promise<ActionResult> {
  checkArguments(doc, "unban");
  if (!(await moderationState(h)).bans.has(doc.target)) throw notFound("that DID is not banned");
  const entry = await writeModeration(h, async (tx) => {
    await removeBan(tx, h, doc.target);
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  });
  return done(doc, entry);
}

async function timeout(h: Harmony, doc: SignedAction, auth: Authorization): Promise<ActionResult> {
  const target = targetDid(doc, auth.did, "time out");
  const args = checkArguments(doc, "timeout");
  const seconds = wholeNumber(args.seconds, "seconds", 0, MAX_TIMEOUT_SECONDS);
  if (!(await memberOrBot(h, target))) throw notFound("that DID is not a member or a bot");
  await mustOutrank(h, auth.did, target, "time out");
  const until = seconds > 0 ? new Date(Date.now() + seconds * 1000).toISOString() : null;
  if (!until && !(await moderationState(h)).timeouts.has(target)) {
    throw notFound("that member is not timed out");
  }
  const entry = await writeModeration(h, async (tx) => {
    await writeTimeout(tx, h, until ? { did: target, until, by: auth.did } : { did: target, until: null });
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  });
  return done(doc, entry, { until });
}

async function slowMode(h: Harmony, doc: SignedAction, actor: Actor): Promise<ActionResult> {
  const id = h.iris.channelId(doc.target);
  const channel = id ? await findChannel(h, id).catch(() => null) : null;
  if (!channel) throw notFound("the target is not a channel of this community");
  const auth = await authorize(h, actor, "slow-mode", channel);
  const args = checkArguments(doc, "slow-mode");
  const seconds = wholeNumber(args.seconds, "seconds", 0, MAX_SLOW_MODE_SECONDS);
  const entry = await writeModeration(h, async (tx) => {
    await writeSlowMode(tx, h, channel.iri, seconds);
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  });
  return done(doc, entry, { channel: channel.id, seconds });
}

function parsePair(
  value: unknown,
  field: string,
  a: string,
  b: string,
  limits: [number, number, number, number],
) {
  if (value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v !== "object" || Array.isArray(v) || Object.keys(v).some((k) => k !== a && k !== b)) {
    throw invalid("invalid_arguments", `${field} is null or { ${a}, ${b} }`);
  }
  return {
    [a]: wholeNumber(v[a], `${field}.${a}`, limits[0], limits[1]),
    [b]: wholeNumber(v[b], `${field}.${b}`, limits[2], limits[3]),
  };
}

/** The settings after applying the changes in an action's arguments (validated). */
export function applySettings(
  current: ModerationSettings,
  args: Record<string, unknown>,
): ModerationSettings {
  const next = { ...current };
  if ("rateLimit" in args) {
    next.rateLimit = parsePair(args.rateLimit, "rateLimit", "messages", "seconds", [1, 10_000, 1, 86400]) as
      | ModerationSettings["rateLimit"]
      | null;
  }
  if ("raidProtection" in args) {
    next.raidProtection = parsePair(args.raidProtection, "raidProtection", "joins", "seconds", [
      1,
      100_000,
      10,
      86400,
    ]) as ModerationSettings["raidProtection"] | null;
  }
  if ("minimumDidAge" in args) {
    next.minimumDidAge = wholeNumber(args.minimumDidAge, "minimumDidAge", 0, 90 * 86400);
  }
  return next;
}

async function settings(h: Harmony, doc: SignedAction, auth: Authorization): Promise<ActionResult> {
  if (doc.target !== h.iris.community) {
    throw invalid("invalid_target", "the target of the settings is the community");
  }
  const args = checkArguments(doc, "moderation-settings");
  if (Object.keys(args).length === 0) {
    throw invalid("invalid_arguments", "name at least one setting to change");
  }
  const next = applySettings((await moderationState(h)).settings, args);
  const entry = await writeModeration(h, async (tx) => {
    await writeSettings(tx, h, next);
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  });
  return done(doc, entry, { settings: next });
}

async function lockJoins(
  h: Harmony,
  doc: SignedAction,
  auth: Authorization,
  lock: boolean,
): Promise<ActionResult> {
  if (doc.target !== h.iris.community) {
    throw invalid("invalid_target", "the target of a join lock is the community");
  }
  checkArguments(doc, lock ? "lock-joins" : "unlock-joins");
  const state = await moderationState(h);
  if (lock && state.joinsLocked) throw conflict("already_locked", "joining is already locked");
  if (!lock && !state.joinsLocked) throw conflict("not_locked", "joining is not locked");
  const at = new Date().toISOString();
  const entry = await writeModeration(h, async (tx) => {
    await writeJoinLock(tx, h, lock ? { at, by: auth.did } : null);
    // Unlocking answers the raid alerts that locked it, and the raid's joins stop counting.
    if (!lock) {
      await sqlOf(tx).run("DELETE FROM join_log");
      for (const alert of state.alerts) {
        if (!alert.resolved && alert.kind === "raid") await resolveAlert(tx, h, alert.id, auth.did, at);
      }
    }
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  });
  return done(doc, entry, { locked: lock });
}

async function dismissAlert(h: Harmony, doc: SignedAction, auth: Authorization): Promise<ActionResult> {
  checkArguments(doc, "dismiss-alert");
  const alert = (await moderationState(h)).alerts.find((a) => alertIri(h, a.id) === doc.target);
  if (!alert) throw notFound("there is no such alert");
  if (alert.resolved) throw conflict("already_resolved", "this alert was already dealt with");
  const entry = await writeModeration(h, async (tx) => {
    await resolveAlert(tx, h, alert.id, auth.did, new Date().toISOString());
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  });
  return done(doc, entry);
}

/** Checks, authorizes and applies one signed moderation action. */
export async function moderate(h: Harmony, actor: Actor, value: unknown): Promise<ActionResult> {
  const doc = await checkSignedAction(h, actor, value);
  const action = doc.action as ModerationAction;
  if (!MODERATION_ACTIONS.includes(action)) {
    throw invalid("unknown_action", `"${doc.action}" is not a moderation action; see docs/api.md`);
  }
  if (isFediverseAction(action)) return await moderateFediverse(h, actor, doc, action);
  switch (action) {
    case "kick":
      return await kick(h, doc, await authorize(h, actor, "kick"));
    case "ban":
      return await ban(h, doc, await authorize(h, actor, "ban"));
    case "unban":
      return await unban(h, doc, await authorize(h, actor, "ban"));
    case "timeout":
      return await timeout(h, doc, await authorize(h, actor, "timeout"));
    case "slow-mode":
      return await slowMode(h, doc, actor);
    case "moderation-settings":
      return await settings(h, doc, await authorize(h, actor, "manage-community"));
    case "lock-joins":
      return await lockJoins(h, doc, await authorize(h, actor, "manage-community"), true);
    case "unlock-joins":
      return await lockJoins(h, doc, await authorize(h, actor, "manage-community"), false);
    case "dismiss-alert":
      return await dismissAlert(h, doc, await authorize(h, actor, "manage-community"));
  }
}
