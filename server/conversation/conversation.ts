/**
 * Conversation features (issue 5): reactions, replies, threads, pins and
 * message links. Every change is an operation a member signed, applied
 * through the operation log (server/messages/oplog.ts, folded in ./fold.ts), so it
 * replicates over bridges like posts and edits.
 */
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { messageIndex, pins, threadReads } from "../../db/schema.ts";
import { findChannel } from "../channels/channels.ts";
import { forbidden, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo, MessageView } from "../shared/model.ts";
import { type IndexRow, opIdOf, toView } from "../messages/oplog.ts";
import { authorityOf } from "../messages/heldAuthority.ts";
import { requireRead } from "../community/permissions.ts";
import { authorize } from "../authority/authorize.ts";
import { checkEdit, checkReact } from "../moderation/guard.ts";
import {
  type SignedMessage,
  type SignedPin,
  type SignedReact,
  type SignedUnreact,
  verifySigned,
} from "../documents/signed.ts";
import type { ThreadSummary } from "./model.ts";
import { threadSummaries } from "./store.ts";

const MAX_CLOCK_SKEW_MS = 10 * 60_000;

async function readRow(q: Queryable, id: string): Promise<IndexRow | undefined> {
  const [row] = await q.select().from(messageIndex).where(eq(messageIndex.id, id));
  return row;
}

async function channelOfIri(h: Harmony, iri: string): Promise<ChannelInfo> {
  const id = h.iris.channelId(iri);
  if (!id) throw notFound("there is no such message");
  return await findChannel(h, id);
}

/** The live message an operation names, checked against the channel it was signed for. */
async function targetMessage(h: Harmony, messageId: string, signedChannel: string): Promise<IndexRow> {
  const row = await readRow(h.db, messageId);
  if (!row || row.deleted) throw notFound("there is no such message");
  if (row.channel !== signedChannel) {
    throw invalid("wrong_channel", "the operation was signed for another channel");
  }
  return row;
}

/**
 * A post's references, checked before it is stored: a reply and a thread
 * reply name a live message of the same channel, and a thread branches
 * from a message that is not itself inside a thread.
 */
export async function checkReferences(h: Harmony, channel: ChannelInfo, doc: SignedMessage): Promise<void> {
  for (const [field, id] of [["inReplyTo", doc.inReplyTo], ["thread", doc.thread]] as const) {
    if (!id) continue;
    const row = await readRow(h.db, id);
    if (!row || row.deleted) throw invalid("unknown_reference", `"${field}" names no message here`);
    if (row.channel !== channel.iri) {
      throw invalid("wrong_channel", `"${field}" names a message of another channel`);
    }
    if (field === "thread" && row.threadRoot) {
      throw invalid(
        "nested_thread",
        "a thread branches from a message of the channel, not from a thread reply",
      );
    }
    if (field === "inReplyTo" && (row.threadRoot ?? null) !== (doc.thread ?? null) && row.id !== doc.thread) {
      throw invalid("wrong_thread", "a reply stays in the timeline or thread of the message it replies to");
    }
  }
}

export interface ReactionOutcome {
  status: "applied" | "duplicate" | "logged";
  opId: string;
  message: MessageView | null;
}

/** Adds a reaction the member signed (React) or takes reactions back (Unreact). */
export async function reactToMessage(
  h: Harmony,
  actor: Actor,
  messageId: string,
  document: unknown,
): Promise<ReactionOutcome> {
  if (!actor.did) throw unauthorized("sign in to react to messages");
  const type = (document as { type?: unknown })?.type === "Unreact" ? "Unreact" : "React";
  const doc = await verifySigned(type, document);
  const outcome = await submitOnMessage(h, actor, messageId, doc, "reaction", "react");
  return { status: outcome.status, opId: outcome.opId, message: outcome.message };
}

/**
 * Submits a member's signed operation on a message (a reaction or a pin):
 * signed by the caller, for this message, allowed `action` in its channel,
 * and not refused by moderation (timeouts, rate limits).
 */
async function submitOnMessage(
  h: Harmony,
  actor: Actor,
  messageId: string,
  doc: SignedReact | SignedUnreact | SignedPin,
  noun: "reaction" | "pin",
  action: "react" | "pin",
) {
  if (doc.object !== messageId) throw invalid("wrong_message", `the ${noun} was signed for another message`);
  const did = actor.did!;
  if (doc.actor !== did) throw forbidden(`you can only send ${noun}s you signed yourself`);
  const row = await targetMessage(h, messageId, doc.channel);
  const channel = await channelOfIri(h, row.channel);
  const authorization = await authorize(h, actor, action, channel);
  if (action === "react") await checkReact(h, did);
  else await checkEdit(h, did);
  return await h.ops.submit({
    doc,
    opId: await opIdOf(doc),
    channel: channel.iri,
    envelope: null,
    maxSkewMs: MAX_CLOCK_SKEW_MS,
    // A pin is a moderation: the capability that allowed it travels with it.
    authority: action === "pin" ? await authorityOf(h, authorization) : null,
  });
}

/** Pins or unpins a message (members allowed "pin"). */
export async function pinMessage(
  h: Harmony,
  actor: Actor,
  messageId: string,
  document: unknown,
): Promise<ReactionOutcome & { pinned: boolean }> {
  if (!actor.did) throw unauthorized("sign in to pin messages");
  const type = (document as { type?: unknown })?.type === "Unpin" ? "Unpin" : "Pin";
  const doc = await verifySigned(type, document);
  const outcome = await submitOnMessage(h, actor, messageId, doc, "pin", "pin");
  const [state] = await h.db.select().from(pins).where(eq(pins.message, messageId));
  return {
    status: outcome.status,
    opId: outcome.opId,
    message: outcome.message,
    pinned: state?.pinned ?? false,
  };
}

export interface PinnedMessage {
  message: MessageView;
  pinnedBy: string;
  pinnedAt: string;
}

/** A channel's pinned messages, most recently pinned first. */
export async function pinnedMessages(
  h: Harmony,
  actor: Actor,
  channel: ChannelInfo,
): Promise<PinnedMessage[]> {
  await requireRead(h, actor, channel);
  const rows = await h.db.select({ m: messageIndex, p: pins }).from(pins)
    .innerJoin(messageIndex, eq(messageIndex.id, pins.message))
    .where(and(eq(pins.channel, channel.iri), eq(pins.pinned, true), eq(messageIndex.deleted, false)))
    .orderBy(desc(pins.lamport), desc(pins.opId)).limit(200);
  return rows.map(({ m, p }) => ({ message: toView(m), pinnedBy: p.actor, pinnedAt: p.at }));
}

/** A message of the channel by its uuid (the permalink), readable by the actor. */
export async function messageInChannel(
  h: Harmony,
  actor: Actor,
  channel: ChannelInfo,
  uuid: string,
): Promise<MessageView> {
  await requireRead(h, actor, channel);
  if (!/^[0-9a-f-]{36}$/.test(uuid)) throw notFound("there is no such message");
  const row = await readRow(h.db, `urn:uuid:${uuid}`);
  if (!row || row.deleted || row.channel !== channel.iri) {
    throw notFound("there is no such message in this channel");
  }
  return toView(row);
}

/**
 * The timeline around a message (for its permalink): up to `each` messages
 * before and after it, oldest first, thread replies left out. For a thread
 * reply, the history around its root.
 */
export async function historyAround(
  h: Harmony,
  channel: ChannelInfo,
  message: MessageView,
  each = 25,
): Promise<{ messages: MessageView[]; olderCursor: MessageView | null; hasNewer: boolean }> {
  const anchor = message.thread ? (await readRow(h.db, message.thread)) ?? null : null;
  const center = anchor ? toView(anchor) : message;
  const m = messageIndex;
  const base = and(eq(m.channel, channel.iri), eq(m.deleted, false), sql`${m.threadRoot} IS NULL`);
  const key = sql`(${m.lamport}, ${m.author}, ${m.id})`;
  const at = sql`(${center.lamport}, ${center.author}, ${center.id})`;
  const older = await h.db.select().from(m).where(and(base, sql`${key} < ${at}`))
    .orderBy(desc(m.lamport), desc(m.author), desc(m.id)).limit(each + 1);
  const newer = await h.db.select().from(m).where(and(base, sql`${key} >= ${at}`))
    .orderBy(asc(m.lamport), asc(m.author), asc(m.id)).limit(each + 2);
  const olderPage = older.slice(0, each).reverse().map(toView);
  return {
    messages: [...olderPage, ...newer.slice(0, each + 1).map(toView)],
    olderCursor: older.length > each && olderPage.length ? olderPage[0] : null,
    hasNewer: newer.length > each + 1,
  };
}

export interface ThreadView {
  root: MessageView;
  replies: MessageView[];
}

/** A thread: its root and every reply, oldest first (at most 500). */
export async function readThread(
  h: Harmony,
  actor: Actor,
  channel: ChannelInfo,
  uuid: string,
): Promise<ThreadView> {
  const root = await messageInChannel(h, actor, channel, uuid);
  if (root.thread) throw notFound("this message is a thread reply, not the start of a thread");
  const rows = await h.db.select().from(messageIndex)
    .where(and(eq(messageIndex.threadRoot, root.id), eq(messageIndex.deleted, false)))
    .orderBy(asc(messageIndex.lamport), asc(messageIndex.author), asc(messageIndex.id)).limit(500);
  return { root, replies: rows.map(toView) };
}

/** Records that `did` has read a thread up to its newest reply. */
export async function markThreadRead(h: Harmony, did: string, root: string, lamport: number): Promise<void> {
  await h.database.write((tx) =>
    tx.insert(threadReads).values({ member: did, root, lamport }).onConflictDoUpdate({
      target: [threadReads.member, threadReads.root],
      set: { lamport: sql`max(${threadReads.lamport}, excluded.lamport)` },
    })
  );
}

export interface ThreadListing {
  root: MessageView;
  summary: ThreadSummary;
}

/** A channel's threads, most recent activity first. */
export async function listThreads(h: Harmony, actor: Actor, channel: ChannelInfo): Promise<ThreadListing[]> {
  await requireRead(h, actor, channel);
  const active = await h.db.all<{ root: string; last: number }>(sql`
    SELECT thread_root AS root, max(lamport) AS last FROM message_index
    WHERE channel = ${channel.iri} AND thread_root IS NOT NULL AND deleted = 0
    GROUP BY thread_root ORDER BY last DESC LIMIT 100`);
  const roots = active.map((r) => r.root);
  const summaries = await threadSummaries(h.db, roots, actor.did);
  const out: ThreadListing[] = [];
  for (const id of roots) {
    const row = await readRow(h.db, id);
    const summary = summaries.get(id);
    if (!row || row.deleted || !summary) continue;
    out.push({ root: toView(row), summary });
  }
  return out;
}
