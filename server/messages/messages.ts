import { and, asc, desc, eq, gt, isNull, max, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { messageIndex, opLog } from "../../db/schema.ts";
import { base64urlnopad } from "@scure/base";
import { findChannel } from "../channels/channels.ts";
import { forbidden, HarmonyError, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo, MessageView } from "../shared/model.ts";
import { requireRead } from "../community/permissions.ts";
import { authorize } from "../authority/authorize.ts";
import {
  type SignedDelete,
  type SignedMessage,
  type SignedUpdate,
  verifySigned,
} from "../documents/signed.ts";
import { characterCount, hasForbiddenCharacters } from "../shared/text.ts";
import { type IndexRow, isRedacted, opIdOf, toView } from "./oplog.ts";
import { authorityOf } from "./heldAuthority.ts";
import { checkEdit, guardPost } from "../moderation/guard.ts";
import { claimAttachments, removeFilesOfMessage } from "../files/files.ts";
import { checkReferences } from "../conversation/conversation.ts";
import { checkMentions } from "../attention/mentions.ts";

export { toView };

function checkContent(h: Harmony, content: string, hasFiles = false): void {
  if (content.trim().length === 0 && !hasFiles) throw invalid("empty_message", "a message cannot be empty");
  const length = characterCount(content);
  if (length > h.config.maxMessageLength) {
    throw invalid(
      "message_too_long",
      `the message is ${length} characters long; the limit is ${h.config.maxMessageLength}`,
    );
  }
  if (hasForbiddenCharacters(content, true)) {
    throw invalid("invalid_characters", "the message contains control characters");
  }
}

async function readRow(q: Queryable, id: string): Promise<IndexRow | undefined> {
  const [row] = await q.select().from(messageIndex).where(eq(messageIndex.id, id));
  return row;
}

/** How far a signed time may be from the server's clock (a client clock gone wrong). */
const MAX_CLOCK_SKEW_MS = 10 * 60_000;

async function channelFor(h: Harmony, channelIri: string): Promise<ChannelInfo> {
  const id = h.iris.channelId(channelIri);
  if (!id) throw notFound("there is no such message");
  return await findChannel(h, id);
}

/**
 * Stores a message the author signed. Posting the same signed message
 * again returns the stored one (Ed25519 signatures are deterministic, so a
 * retry is the same operation); reusing its id for anything else is a
 * conflict, and a deleted message cannot come back.
 */
export async function postMessage(
  h: Harmony,
  actor: Actor,
  channelId: string,
  document: unknown,
): Promise<{ message: MessageView; created: boolean }> {
  if (!actor.did) throw unauthorized("sign in to post messages");
  const channel = await findChannel(h, channelId);
  const doc = await verifySigned("Message", document);
  if (doc.channel !== channel.iri) {
    throw invalid("wrong_channel", "the message was signed for another channel");
  }
  if (doc.attributedTo !== actor.did) throw forbidden("you can only post messages you signed yourself");
  await authorize(h, actor, "post", channel);
  checkContent(h, doc.content, Boolean(doc.attachment?.length));
  await checkReferences(h, channel, doc);
  await checkMentions(h, doc);
  const opId = await opIdOf(doc);
  // Attached files must be the author's own uploads to this channel (server/files).
  const releaseFiles = await claimAttachments(h, actor.did, channel, doc);
  const outcome = await guardPost(
    h,
    actor.did,
    channel,
    opId,
    () => h.ops.submit({ doc, opId, channel: channel.iri, envelope: null, maxSkewMs: MAX_CLOCK_SKEW_MS }),
  ).catch(async (error) => {
    await releaseFiles();
    throw error;
  });
  if (outcome.message?.deleted) {
    throw new HarmonyError(410, "message_deleted", "the message with this id was deleted");
  }
  return { message: outcome.message!, created: outcome.status !== "duplicate" };
}

/** Applies an edit the author signed; an edit older than the stored one is refused. */
export async function editMessage(
  h: Harmony,
  actor: Actor,
  messageId: string,
  document: unknown,
): Promise<MessageView> {
  if (!actor.did) throw unauthorized("sign in to edit messages");
  const doc = await verifySigned("Update", document);
  if (doc.object !== messageId) throw invalid("wrong_message", "the edit was signed for another message");
  if (doc.actor !== actor.did) throw forbidden("you can only send edits you signed yourself");
  checkContent(h, doc.content);
  await checkMentions(h, doc);
  const row = await readRow(h.db, messageId);
  if (!row) throw notFound("there is no such message");
  if (row.channel !== doc.channel) throw invalid("wrong_channel", "the edit was signed for another channel");
  const channel = await channelFor(h, row.channel);
  if (row.author !== actor.did) throw forbidden("only the author can edit a message");
  await authorize(h, actor, "edit-own", channel);
  await checkEdit(h, actor.did);
  const outcome = await h.ops.submit({
    doc,
    opId: await opIdOf(doc),
    channel: channel.iri,
    envelope: null,
    maxSkewMs: MAX_CLOCK_SKEW_MS,
  });
  return outcome.message!;
}

/** Deletes a message: its author, or an admin or the owner, signs the deletion. */
export async function deleteMessage(
  h: Harmony,
  actor: Actor,
  messageId: string,
  document: unknown,
): Promise<MessageView> {
  if (!actor.did) throw unauthorized("sign in to delete messages");
  const doc = await verifySigned("Delete", document);
  if (doc.object !== messageId) throw invalid("wrong_message", "the deletion was signed for another message");
  if (doc.actor !== actor.did) throw forbidden("you can only send deletions you signed yourself");
  const row = await readRow(h.db, messageId);
  if (!row) throw notFound("there is no such message");
  if (row.channel !== doc.channel) {
    throw invalid("wrong_channel", "the deletion was signed for another channel");
  }
  const channel = await channelFor(h, row.channel);
  const own = row.author === actor.did;
  const auth = await authorize(h, actor, own ? "delete-own" : "delete-any", channel).catch((error) => {
    throw !own && error instanceof HarmonyError && error.code === "forbidden"
      ? forbidden("only the author, and members allowed to delete anyone's messages, can delete a message")
      : error;
  });
  if (row.deleted) return toView(row);
  const outcome = await h.ops.submit({
    doc,
    opId: await opIdOf(doc),
    channel: channel.iri,
    envelope: null,
    maxSkewMs: MAX_CLOCK_SKEW_MS,
    // Someone else's message: the capability that allowed it travels with the deletion, which
    // joins the audit log in the same transaction.
    authority: own ? null : await authorityOf(h, auth),
    audit: own ? undefined : {
      action: "delete-message",
      target: doc.object,
      actor: doc.actor,
      capability: auth.capabilityId,
      arguments: { author: row.author },
      evidence: doc as unknown as Record<string, unknown>,
    },
  });
  // Its files become unreachable with it, and leave storage.
  await removeFilesOfMessage(h, messageId);
  return outcome.message!;
}

export interface HistoryPage {
  /** Oldest first, as a page shows them. */
  messages: MessageView[];
  /** Cursor for the page of older messages, or null at the beginning. */
  before: string | null;
}

interface Position {
  lamport: number;
  author: string;
  id: string;
}

export function encodeCursor(p: Position): string {
  return base64urlnopad.encode(new TextEncoder().encode(JSON.stringify([p.lamport, p.author, p.id])));
}

export function decodeCursor(cursor: string): Position {
  try {
    const [lamport, author, id] = JSON.parse(new TextDecoder().decode(base64urlnopad.decode(cursor)));
    if (Number.isSafeInteger(lamport) && typeof author === "string" && typeof id === "string") {
      return { lamport, author, id };
    }
  } catch { /* fall through */ }
  throw invalid("invalid_cursor", "the paging cursor is not valid");
}

/**
 * One page of history in total order (Lamport time, author DID, id),
 * newest page first: keyset paging over the (channel, lamport, author, id)
 * index, so every page costs the same however deep it is.
 */
export async function history(
  h: Harmony,
  actor: Actor,
  channel: ChannelInfo,
  options: { before?: string | null; limit?: number } = {},
): Promise<HistoryPage> {
  await requireRead(h, actor, channel);
  return await readHistory(h.db, channel.iri, options);
}

export async function readHistory(
  q: Queryable,
  channelIri: string,
  options: { before?: string | null; limit?: number } = {},
): Promise<HistoryPage> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  const m = messageIndex;
  // Thread replies show in their thread, not in the channel's timeline.
  const where = [eq(m.channel, channelIri), eq(m.deleted, false), isNull(m.threadRoot)];
  if (options.before) {
    const p = decodeCursor(options.before);
    where.push(sql`(${m.lamport}, ${m.author}, ${m.id}) < (${p.lamport}, ${p.author}, ${p.id})`);
  }
  const rows = await q.select().from(m).where(and(...where))
    .orderBy(desc(m.lamport), desc(m.author), desc(m.id)).limit(limit + 1);
  const more = rows.length > limit;
  const page = rows.slice(0, limit).reverse().map(toView);
  return { messages: page, before: more && page.length ? encodeCursor(page[0]) : null };
}

/** The most changes a reconnecting live stream replays; beyond, it must reload. */
export const CATCH_UP_LIMIT = 500;

/** Creates, edits and deletions after a revision, for a reconnecting live stream. */
export async function changesSince(
  q: Queryable,
  channelIri: string,
  revision: number,
  limit = CATCH_UP_LIMIT,
): Promise<MessageView[]> {
  const rows = await q.select().from(messageIndex)
    .where(and(eq(messageIndex.channel, channelIri), gt(messageIndex.revision, revision)))
    .orderBy(asc(messageIndex.revision)).limit(limit);
  return rows.map(toView);
}

export async function latestRevision(q: Queryable, channelIri: string): Promise<number> {
  const [row] = await q.select({ revision: max(messageIndex.revision) }).from(messageIndex)
    .where(eq(messageIndex.channel, channelIri));
  return row?.revision ?? 0;
}

export async function getMessage(h: Harmony, actor: Actor, id: string): Promise<MessageView> {
  const row = await readRow(h.db, id);
  if (!row) throw notFound("there is no such message");
  await requireRead(h, actor, await channelFor(h, row.channel));
  return toView(row);
}

/**
 * The signed documents behind a message, from its operation log: the
 * original post, the edit that won and the deletion, so anyone can check
 * who wrote, edited or deleted it.
 */
export async function signedDocuments(h: Harmony, actor: Actor, id: string): Promise<{
  message: SignedMessage | null;
  update: SignedUpdate | null;
  delete: SignedDelete | null;
}> {
  await getMessage(h, actor, id);
  const row = (await readRow(h.db, id))!;
  // A peer's placeholder may name any message: only signed operations of its channel count.
  const ops = (await h.db.select().from(opLog).where(eq(opLog.target, id)))
    .filter((op) => op.channel === row.channel && !isRedacted(JSON.parse(op.document)));
  const doc = <T>(op: (typeof ops)[number] | undefined) => op ? JSON.parse(op.document) as T : null;
  return {
    message: row.deleted ? null : doc<SignedMessage>(ops.find((op) => op.kind === "Message")),
    update: row.deleted
      ? null
      : doc<SignedUpdate>(ops.find((op) => op.id === row.editOp && op.kind === "Update")),
    delete: doc<SignedDelete>(ops.find((op) => op.kind === "Delete")),
  };
}
