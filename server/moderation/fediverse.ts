/**
 * Moderating the fediverse side of a community. Each is a signed Action
 * (like kick and ban, see actions.ts), authorized by its own capability,
 * applied in one transaction with its audit log entry, and undoable:
 *
 *   remove-reply    target: a fediverse reply's id (its Note IRI)    arguments: { reason? }
 *                   capability remove-reply on the reply's channel
 *   restore-reply   target: a removed reply's id                        remove-reply on its channel
 *   block-actor     target: a fediverse actor's IRI                     arguments: { reason?, removeReplies? }
 *                   capability block-actor (and remove-reply where replies are removed)
 *   unblock-actor   target: a blocked actor's IRI                       block-actor
 *   block-server    target: a server's origin (https://host[:port])     arguments: { reason?, removeReplies? }
 *                   capability block-server (and remove-reply where replies are removed)
 *   unblock-server  target: a blocked server's origin                   block-server
 *
 * A removed reply shows as deleted but keeps its text, so restore-reply
 * brings it back as it was (server/replication/remoteMessages.ts). A block
 * is quads in the moderation graph (state.ts): from its commit on, the
 * account's or server's activities are refused (the inbox, follows and
 * replies ask remoteBlocks.ts), nothing is delivered to it, and its
 * followers are dropped in the same transaction; with `removeReplies` its
 * replies already here are removed too. Lifting a block lets it follow
 * and reply again; dropped followers must follow again, removed replies
 * are restored one by one.
 */
import type { Tx } from "../../db/client.ts";
import { argumentsOf, type AuditEntry, draftFromAction, recordAudit, sqlOf } from "../audit/log.ts";
import { allowed as allowedTo, type Authorization, authorize } from "../authority/authorize.ts";
import { findChannel } from "../channels/channels.ts";
import { sqlOverQueryable } from "../conversation/store.ts";
import type { SignedAction } from "../documents/signed.ts";
import type { Harmony } from "../harmony.ts";
import { dropFollowers } from "../replication/followers.ts";
import {
  published,
  type RemoteMessageRow,
  remoteMessages,
  removeRemoteMessage,
  restoreRemoteMessage,
} from "../replication/remoteMessages.ts";
import { conflict, forbidden, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Actor, ChannelInfo, MessageView } from "../shared/model.ts";
import { cleanText } from "../shared/text.ts";
import type { ActionResult } from "./actions.ts";
import { blockCovers, hostOf } from "./remoteBlocks.ts";
import {
  moderationState,
  type RemoteBlock,
  removeRemoteBlock,
  writeModeration,
  writeRemoteBlock,
} from "./state.ts";

export const FEDIVERSE_ACTIONS = [
  "remove-reply",
  "restore-reply",
  "block-actor",
  "unblock-actor",
  "block-server",
  "unblock-server",
] as const;
export type FediverseAction = (typeof FEDIVERSE_ACTIONS)[number];

export function isFediverseAction(action: string): action is FediverseAction {
  return (FEDIVERSE_ACTIONS as readonly string[]).includes(action);
}

const allowedArguments: Record<FediverseAction, string[]> = {
  "remove-reply": ["reason"],
  "restore-reply": [],
  "block-actor": ["reason", "removeReplies"],
  "unblock-actor": [],
  "block-server": ["reason", "removeReplies"],
  "unblock-server": [],
};

function checkArguments(doc: SignedAction, action: FediverseAction) {
  const args = argumentsOf(doc);
  for (const key of Object.keys(args)) {
    if (!allowedArguments[action].includes(key)) {
      throw invalid("invalid_arguments", `a ${action} action takes no "${key}"`);
    }
  }
  if (args.reason !== undefined) cleanText(args.reason, { field: "reason", max: 500, min: 0 });
  if (args.removeReplies !== undefined && typeof args.removeReplies !== "boolean") {
    throw invalid("invalid_arguments", "removeReplies is true or false");
  }
  const reason = typeof args.reason === "string" && args.reason.trim() ? args.reason.trim() : null;
  return { reason, removeReplies: args.removeReplies === true };
}

const done = (doc: SignedAction, entry: AuditEntry, more: Record<string, unknown> = {}): ActionResult => ({
  action: doc.action,
  target: doc.target,
  ...more,
  entry: { seq: entry.seq, hash: entry.hash },
});

/** Publishes what a committed action changed: messages to open pages and delivery, followers to delivery. */
function announce(h: Harmony, kind: "created" | "deleted", messages: MessageView[], followersDropped = 0) {
  for (const message of messages) published(h, kind, message);
  if (followersDropped > 0) h.hub.publishFollowers();
}

// ---- removing and restoring one reply

async function replyChannel(h: Harmony, id: string): Promise<ChannelInfo> {
  const [row] = await sqlOverQueryable(h.db).all("SELECT channel FROM message_index WHERE id = ?", [id]);
  if (!row) throw notFound("there is no such message");
  return await findChannel(h, String(row.channel));
}

async function removeReply(h: Harmony, actor: Actor, doc: SignedAction): Promise<ActionResult> {
  checkArguments(doc, "remove-reply");
  const channel = await replyChannel(h, doc.target);
  const auth = await authorize(h, actor, "remove-reply", channel);
  const at = new Date().toISOString();
  const { entry, message } = await writeModeration(h, async (tx) => {
    const message = await removeRemoteMessage(sqlOf(tx), { id: doc.target, by: auth.did, at });
    return { entry: await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId)), message };
  });
  announce(h, "deleted", [message]);
  return done(doc, entry, { channel: channel.id, author: message.author });
}

async function restoreReply(h: Harmony, actor: Actor, doc: SignedAction): Promise<ActionResult> {
  checkArguments(doc, "restore-reply");
  const channel = await replyChannel(h, doc.target);
  const auth = await authorize(h, actor, "remove-reply", channel);
  const at = new Date().toISOString();
  const { entry, message } = await writeModeration(h, async (tx) => {
    const message = await restoreRemoteMessage(sqlOf(tx), { id: doc.target, by: auth.did, at });
    return { entry: await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId)), message };
  });
  announce(h, "created", [message]);
  return done(doc, entry, { channel: channel.id, author: message.author });
}

// ---- blocks

/** The block an action's target names, checked: an actor's URL, or a server's origin. */
function blockTarget(h: Harmony, doc: SignedAction, kind: RemoteBlock["kind"]): string {
  let url: URL | null = null;
  try {
    url = new URL(doc.target);
  } catch { /* refused below */ }
  const http = url && (url.protocol === "https:" || url.protocol === "http:") && !url.username &&
    !url.password;
  if (kind === "actor" && (!http || url!.href !== doc.target)) {
    throw invalid(
      "invalid_target",
      "the target of block-actor is the account's actor URL, written as a URL is normalized (https://host/path)",
    );
  }
  if (kind === "server" && (!http || url!.origin !== doc.target)) {
    throw invalid("invalid_target", "the target of block-server is the server's origin: https://host[:port]");
  }
  if (blockCovers({ kind, target: doc.target }, h.config.origin)) {
    throw invalid(
      "own_server",
      "that is this community's own server: its members are moderated with kick, timeout and ban",
    );
  }
  return doc.target;
}

/**
 * Authorizes removing, with a block, the replies it covers: remove-reply on
 * each of their channels. Returns the channels allowed (checked again
 * inside the write, whose list of replies is the one acted on).
 */
async function authorizeRemovals(h: Harmony, actor: Actor, block: Pick<RemoteBlock, "kind" | "target">) {
  const channels = new Set<string>();
  for (const row of await remoteMessages(sqlOverQueryable(h.db), { removed: false })) {
    if (!blockCovers(block, row.author) || channels.has(row.channel)) continue;
    await authorize(h, actor, "remove-reply", await findChannel(h, row.channel));
    channels.add(row.channel);
  }
  return channels;
}

async function removeCovered(
  tx: Tx,
  block: Pick<RemoteBlock, "kind" | "target">,
  allowed: Set<string>,
  by: string,
  at: string,
): Promise<MessageView[]> {
  const sql = sqlOf(tx);
  const covered: RemoteMessageRow[] = (await remoteMessages(sql, { removed: false }))
    .filter((row) => blockCovers(block, row.author));
  const removed: MessageView[] = [];
  for (const row of covered) {
    if (!allowed.has(row.channel)) {
      throw forbidden("a reply arrived meanwhile in a channel where you cannot remove replies; try again");
    }
    removed.push(await removeRemoteMessage(sql, { id: row.id, by, at }));
  }
  return removed;
}

async function block(
  h: Harmony,
  actor: Actor,
  doc: SignedAction,
  kind: RemoteBlock["kind"],
): Promise<ActionResult> {
  const action = kind === "actor" ? "block-actor" : "block-server";
  const target = blockTarget(h, doc, kind);
  const args = checkArguments(doc, action);
  const auth: Authorization = await authorize(h, actor, action);
  const state = await moderationState(h);
  if (kind === "actor" ? state.blockedActors.has(target) : state.blockedServers.has(hostOf(target)!)) {
    throw conflict("already_blocked", `that ${kind === "actor" ? "account" : "server"} is already blocked`);
  }
  const at = new Date().toISOString();
  const blocked: RemoteBlock = { kind, target, by: auth.did, at, reason: args.reason };
  const allowed = args.removeReplies ? await authorizeRemovals(h, actor, blocked) : new Set<string>();
  const { entry, removed, dropped } = await writeModeration(h, async (tx) => {
    await writeRemoteBlock(tx, h, blocked);
    const dropped = await dropFollowers(h, tx, (urls) => urls.some((url) => blockCovers(blocked, url)));
    const removed = args.removeReplies ? await removeCovered(tx, blocked, allowed, auth.did, at) : [];
    return { entry: await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId)), removed, dropped };
  });
  announce(h, "deleted", removed, dropped);
  return done(doc, entry, {
    reason: args.reason,
    followersDropped: dropped,
    repliesRemoved: removed.length,
  });
}

async function unblock(
  h: Harmony,
  actor: Actor,
  doc: SignedAction,
  kind: RemoteBlock["kind"],
): Promise<ActionResult> {
  const action = kind === "actor" ? "block-actor" : "block-server";
  checkArguments(doc, kind === "actor" ? "unblock-actor" : "unblock-server");
  const auth = await authorize(h, actor, action);
  const state = await moderationState(h);
  const host = hostOf(doc.target);
  const found = kind === "actor"
    ? state.blockedActors.get(doc.target)
    : host && new URL(doc.target).origin === doc.target
    ? state.blockedServers.get(host)
    : undefined;
  if (!found) throw notFound(`that ${kind === "actor" ? "account" : "server"} is not blocked`);
  const entry = await writeModeration(h, async (tx) => {
    await removeRemoteBlock(tx, h, found.target);
    return await recordAudit(tx, h, draftFromAction(doc, auth.capabilityId));
  });
  return done(doc, entry);
}

/** Applies one of FEDIVERSE_ACTIONS (its signed Action already checked by moderate()). */
export function moderateFediverse(
  h: Harmony,
  actor: Actor,
  doc: SignedAction,
  action: FediverseAction,
): Promise<ActionResult> {
  switch (action) {
    case "remove-reply":
      return removeReply(h, actor, doc);
    case "restore-reply":
      return restoreReply(h, actor, doc);
    case "block-actor":
      return block(h, actor, doc, "actor");
    case "unblock-actor":
      return unblock(h, actor, doc, "actor");
    case "block-server":
      return block(h, actor, doc, "server");
    case "unblock-server":
      return unblock(h, actor, doc, "server");
  }
}

// ---- what moderators see

export interface FediverseReply {
  id: string;
  channel: { id: string; name: string };
  author: string;
  /** The author's name and handle, as their server gave them (null if never fetched). */
  authorName: string | null;
  handle: string | null;
  /** Empty for a removed reply (its text is kept, not shown). */
  content: string;
  published: string;
  removedBy: string | null;
  removedAt: string | null;
}

export interface FediverseReplies {
  /** The newest replies that show, in channels where the caller may remove them. */
  replies: FediverseReply[];
  /** Removed replies, newest removal first. */
  removed: FediverseReply[];
}

const LIST_LIMIT = 50;

/** Replies from the fediverse a moderator may remove or restore; 403 without remove-reply anywhere. */
export async function fediverseReplies(h: Harmony, actor: Actor): Promise<FediverseReplies> {
  if (!actor.did) throw unauthorized("sign in to moderate");
  const snapshot = await h.snapshot();
  const mayIn = new Map<string, ChannelInfo>();
  for (const channel of snapshot.channels) {
    if (await allowedTo(h, actor.did, "remove-reply", channel)) mayIn.set(channel.iri, channel);
  }
  if (mayIn.size === 0) throw forbidden("you have no capability to remove replies from the fediverse");
  const view = (row: RemoteMessageRow): FediverseReply | null => {
    const channel = mayIn.get(row.channel);
    if (!channel) return null;
    const profile = snapshot.profiles.get(row.author);
    return {
      id: row.id,
      channel: { id: channel.id, name: channel.name },
      author: row.author,
      authorName: profile?.name || null,
      handle: profile?.remote?.handle ?? null,
      content: row.content,
      published: row.published,
      removedBy: row.removedBy,
      removedAt: row.removedAt,
    };
  };
  const sql = sqlOverQueryable(h.db);
  const pick = (rows: RemoteMessageRow[]) =>
    rows.map(view).filter((r): r is FediverseReply => r !== null).slice(0, LIST_LIMIT);
  return {
    replies: pick(await remoteMessages(sql, { removed: false, limit: LIST_LIMIT * 4 })),
    removed: pick(await remoteMessages(sql, { removed: true, limit: LIST_LIMIT * 4 })),
  };
}
