import { and, asc, desc, eq, gt, max, sql } from "drizzle-orm";
import type { Queryable, Tx } from "../db/client.ts";
import { quadStore } from "../db/quadstore.ts";
import { messageIndex } from "../db/schema.ts";
import { dateTime, integer, iri, literal, quad } from "../db/terms.ts";
import { base64urlnopad } from "@scure/base";
import { findChannel } from "./channels.ts";
import { conflict, forbidden, HarmonyError, invalid, notFound, unauthorized } from "./errors.ts";
import type { Harmony } from "./harmony.ts";
import type { Actor, ChannelInfo, MessageView } from "./model.ts";
import { atLeast, requireRead, requireRole } from "./permissions.ts";
import {
  checkClock,
  type SignedDelete,
  type SignedMessage,
  type SignedUpdate,
  verifySigned,
} from "./signed.ts";
import { characterCount, hasForbiddenCharacters } from "./text.ts";
import { canonicalize } from "./crypto/jcs.ts";
import { AS, H, HARMONY_CONTEXT_URL, RDF, RDF_JSON } from "./vocab.ts";

type IndexRow = typeof messageIndex.$inferSelect;

export function toView(row: IndexRow): MessageView {
  return {
    id: row.id,
    channel: row.channel,
    lamport: row.lamport,
    author: row.author,
    content: row.content,
    published: row.published,
    updated: row.updated,
    deleted: row.deleted,
    revision: row.revision,
  };
}

function checkContent(h: Harmony, content: string): void {
  if (content.trim().length === 0) throw invalid("empty_message", "a message cannot be empty");
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

async function nextCounters(tx: Tx, channel: string): Promise<{ lamport: number; revision: number }> {
  // One aggregate per query: SQLite answers a lone max() from the end of an
  // index (O(log n)), but max(a), max(b) together scan every row of the channel.
  const [row] = await tx.select({ lamport: max(messageIndex.lamport) }).from(messageIndex)
    .where(eq(messageIndex.channel, channel));
  return { lamport: (row?.lamport ?? 0) + 1, revision: await nextRevision(tx, channel) };
}

async function nextRevision(tx: Tx, channel: string): Promise<number> {
  const [row] = await tx.select({ revision: max(messageIndex.revision) }).from(messageIndex)
    .where(eq(messageIndex.channel, channel));
  return (row?.revision ?? 0) + 1;
}

async function readRow(q: Queryable, id: string): Promise<IndexRow | undefined> {
  const [row] = await q.select().from(messageIndex).where(eq(messageIndex.id, id));
  return row;
}

async function channelFor(h: Harmony, channelIri: string): Promise<ChannelInfo> {
  const id = h.iris.channelId(channelIri);
  if (!id) throw invalid("wrong_channel", "the message names a channel of another instance");
  return await findChannel(h, id);
}

/**
 * Stores a message the author signed. Posting the same signed message
 * again returns the stored one; reusing its id for other content is a
 * conflict.
 */
export async function postMessage(
  h: Harmony,
  actor: Actor,
  channelId: string,
  document: unknown,
): Promise<{ message: MessageView; created: boolean }> {
  const channel = await findChannel(h, channelId);
  if (!actor.did) throw unauthorized("sign in to post messages");
  const doc = await verifySigned("Message", document);
  if (doc.channel !== channel.iri) {
    throw invalid("wrong_channel", "the message was signed for another channel");
  }
  if (doc.attributedTo !== actor.did) throw forbidden("you can only post messages you signed yourself");
  await requireRole(h, actor, "member", "post messages");
  checkContent(h, doc.content);
  const existing = await readRow(h.db, doc.id);
  if (existing) return { message: await sameMessage(h.db, existing, doc), created: false };
  checkClock(doc.published);

  const result = await h.database.write(async (tx) => {
    const again = await readRow(tx, doc.id);
    if (again) return { message: await sameMessage(tx, again, doc), created: false };
    const { lamport, revision } = await nextCounters(tx, channel.iri);
    const subject = iri(doc.id);
    const g = channel.iri;
    await quadStore.insert(tx, [
      quad(subject, RDF.type, H.Message, g),
      quad(subject, H.channel, iri(channel.iri), g),
      quad(subject, AS.attributedTo, iri(doc.attributedTo), g),
      quad(subject, AS.content, literal(doc.content), g),
      quad(subject, AS.published, dateTime(doc.published), g),
      quad(subject, H.lamport, integer(lamport), g),
      quad(subject, H.proof, literal(JSON.stringify(doc.proof), RDF_JSON), g),
    ]);
    const row: IndexRow = {
      id: doc.id,
      channel: channel.iri,
      lamport,
      author: doc.attributedTo,
      content: doc.content,
      published: doc.published,
      updated: null,
      deleted: false,
      revision,
    };
    await tx.insert(messageIndex).values(row);
    return { message: toView(row), created: true };
  });
  if (result.created) h.hub.publish(channel.iri, { kind: "created", message: result.message });
  return result;
}

/**
 * A message posted again: the same signed document (Ed25519 signatures are
 * deterministic, so the same proof) is a harmless retry; anything else
 * under a taken id is a conflict.
 */
async function sameMessage(q: Queryable, row: IndexRow, doc: SignedMessage): Promise<MessageView> {
  if (row.deleted) throw new HarmonyError(410, "message_deleted", "the message with this id was deleted");
  const [stored] = await quadStore.match(q, { graph: row.channel, subject: iri(row.id), predicate: H.proof });
  if (!stored || canonicalize(JSON.parse(stored.object.value)) !== canonicalize(doc.proof)) {
    throw conflict("id_taken", "another message already has this id");
  }
  return toView(row);
}

/** Applies an edit the author signed; an older edit than the stored one is refused. */
export async function editMessage(
  h: Harmony,
  actor: Actor,
  messageId: string,
  document: unknown,
): Promise<MessageView> {
  if (!actor.did) throw unauthorized("sign in to edit messages");
  if (!actor.did) throw unauthorized("sign in to edit messages");
  const doc = await verifySigned("Update", document);
  if (doc.object !== messageId) throw invalid("wrong_message", "the edit was signed for another message");
  if (doc.actor !== actor.did) throw forbidden("you can only send edits you signed yourself");
  await requireRole(h, actor, "member", "edit messages");
  checkContent(h, doc.content);
  const row = await readRow(h.db, messageId);
  if (!row) throw notFound("there is no such message");
  if (row.channel !== doc.channel) throw invalid("wrong_channel", "the edit was signed for another channel");
  if (row.author !== doc.actor) throw forbidden("only the author can edit a message");
  if (row.deleted) throw new HarmonyError(410, "deleted", "the message was deleted");
  const storedEdit = await quadStore.match(h.db, {
    graph: row.channel,
    subject: iri(messageId),
    predicate: H.editProof,
  });
  if (storedEdit[0]?.object.value === JSON.stringify(doc.proof)) return toView(row);
  checkClock(doc.published);
  const updated = await h.database.write(async (tx) => {
    const current = await readRow(tx, messageId);
    if (!current || current.deleted) throw notFound("there is no such message");
    if (current.updated !== null && Date.parse(current.updated) >= Date.parse(doc.published)) {
      throw conflict("stale_edit", "a newer edit of this message is already stored");
    }
    const subject = iri(messageId);
    const g = current.channel;
    await quadStore.set(tx, g, subject, AS.content, literal(doc.content));
    await quadStore.set(tx, g, subject, AS.updated, dateTime(doc.published));
    await quadStore.set(tx, g, subject, H.editProof, literal(JSON.stringify(doc.proof), RDF_JSON));
    // harmony:proof stays: it identifies the original post (a retry of it is
    // recognised), while the signed edit now vouches for the content.
    const revision = await nextRevision(tx, g);
    await tx.update(messageIndex).set({
      content: doc.content,
      updated: doc.published,
      revision,
    }).where(eq(messageIndex.id, messageId));
    return toView((await readRow(tx, messageId))!);
  });
  h.hub.publish(updated.channel, { kind: "updated", message: updated });
  return updated;
}

/** Deletes a message: its author, or an admin or the owner, signs the deletion. */
export async function deleteMessage(
  h: Harmony,
  actor: Actor,
  messageId: string,
  document: unknown,
): Promise<MessageView> {
  if (!actor.did) throw unauthorized("sign in to delete messages");
  if (!actor.did) throw unauthorized("sign in to delete messages");
  const doc = await verifySigned("Delete", document);
  if (doc.object !== messageId) throw invalid("wrong_message", "the deletion was signed for another message");
  if (doc.actor !== actor.did) throw forbidden("you can only send deletions you signed yourself");
  const me = await requireRole(h, actor, "member", "delete messages");
  const row = await readRow(h.db, messageId);
  if (!row) throw notFound("there is no such message");
  if (row.channel !== doc.channel) {
    throw invalid("wrong_channel", "the deletion was signed for another channel");
  }
  if (row.author !== me.did && !atLeast(me.role, "admin")) {
    throw forbidden("only the author, admins and the owner can delete a message");
  }
  if (row.deleted) return toView(row);
  checkClock(doc.published);
  const deleted = await h.database.write(async (tx) => {
    const current = await readRow(tx, messageId);
    if (!current) throw notFound("there is no such message");
    if (current.deleted) return toView(current);
    const subject = iri(messageId);
    const g = current.channel;
    for (const p of [AS.content, AS.updated, H.editProof, H.proof]) {
      await quadStore.remove(tx, { graph: g, subject, predicate: p });
    }
    await quadStore.insert(tx, [
      quad(subject, H.deleted, dateTime(doc.published), g),
      quad(subject, H.deletedBy, iri(doc.actor), g),
      quad(subject, H.deleteProof, literal(JSON.stringify(doc.proof), RDF_JSON), g),
    ]);
    const revision = await nextRevision(tx, g);
    await tx.update(messageIndex).set({
      content: "",
      deleted: true,
      revision,
    }).where(eq(messageIndex.id, messageId));
    return toView((await readRow(tx, messageId))!);
  });
  h.hub.publish(deleted.channel, { kind: "deleted", message: deleted });
  return deleted;
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
  const where = [eq(m.channel, channelIri), eq(m.deleted, false)];
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
 * The signed documents behind a message, rebuilt from its quads, so anyone
 * can check who wrote (and who edited or deleted) it.
 */
export async function signedDocuments(h: Harmony, actor: Actor, id: string): Promise<{
  message: SignedMessage | null;
  update: SignedUpdate | null;
  delete: SignedDelete | null;
}> {
  const view = await getMessage(h, actor, id);
  const d = new Map((await quadStore.match(h.db, { graph: view.channel, subject: iri(id) }))
    .map((q) => [q.predicate.value, q.object.value]));
  const base = { "@context": HARMONY_CONTEXT_URL, channel: view.channel } as const;
  const get = (p: { value: string }) => d.get(p.value);
  return {
    message: get(H.proof) && !get(H.editProof)
      ? {
        ...base,
        type: "Message",
        id,
        attributedTo: view.author,
        content: get(AS.content)!,
        published: view.published,
        proof: JSON.parse(get(H.proof)!),
      }
      : null,
    update: get(H.editProof)
      ? {
        ...base,
        type: "Update",
        actor: view.author,
        object: id,
        content: get(AS.content)!,
        published: get(AS.updated)!,
        proof: JSON.parse(get(H.editProof)!),
      }
      : null,
    delete: get(H.deleteProof)
      ? {
        ...base,
        type: "Delete",
        actor: get(H.deletedBy)!,
        object: id,
        published: get(H.deleted)!,
        proof: JSON.parse(get(H.deleteProof)!),
      }
      : null,
  };
}
