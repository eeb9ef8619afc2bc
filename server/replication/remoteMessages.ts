/**
 * Messages from the fediverse: replies written on another server (a
 * Mastodon or Lemmy account) that entered a channel whose owner opened it
 * to them. They carry no member signature, so they do not go through the
 * signed operation path; they are written here, as the same message quads
 * and index row as any message, and logged in the operation log with kind
 * "Remote":
 *
 * - `document` is a RemoteOpDocument: the activity as received (its HTTP
 *   signature was checked by the federation layer) plus what it did;
 * - `actor` is the remote actor's IRI (never a did:key, which is how
 *   bridges know not to forward it), `target` the message id (the Note's IRI);
 * - the envelope origin is the remote actor's IRI and `seq` counts that
 *   actor's operations in the channel, so the instance's own numbering (and
 *   a bridged peer's) is never touched;
 * - the Lamport time is the channel's next one, like a local post.
 *
 * Edits and deletions are accepted only from the message's own author,
 * and nothing at all from an account or server that is blocked here
 * (server/moderation/remoteBlocks.ts).
 *
 * A moderator may remove such a message (server/moderation/fediverse.ts):
 * it shows as deleted, but its text stays in its quads (marked
 * `harmony:removedBy`) so that the removal can be undone. Both are logged
 * as "Remote" operations too (`action` "Remove" or "Restore", `by` the
 * moderator's DID, the origin still the message's author), so followers are
 * told (federation/outbound.ts), and like every "Remote" operation they
 * never travel over bridges. An author's own Delete of a removed message
 * erases the kept text: it can no longer be restored.
 *
 * Nothing here speaks ActivityPub.
 */
import { quadRow } from "../../db/quadRow.ts";
import type { SqlTransaction } from "../../db/sql.ts";
import { dateTime, integer, iri, literal, type Quad, quad } from "../../db/terms.ts";
import { quadStore } from "../../db/quadstore.ts";
import { findChannel } from "../channels/channels.ts";
import { conflict, forbidden, HarmonyError, invalid, notFound } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { sha256Hex } from "../shared/ids.ts";
import type { MessageView } from "../shared/model.ts";
import { type IndexRow, indexRowFrom, logEntryIri, nextLogPosition, toView } from "../messages/oplog.ts";
import { characterCount, hasForbiddenCharacters } from "../shared/text.ts";
import { refuseBlocked } from "../moderation/remoteBlocks.ts";
import { AS, H, RDF, RDF_JSON } from "../rdf/vocab.ts";

export interface RemoteOpDocument {
  type: "Remote";
  /** What the activity did to the message; "Remove" and "Restore" are a moderator's. */
  action: "Create" | "Update" | "Delete" | "Remove" | "Restore";
  /** The remote actor's IRI (the message's author). */
  actor: string;
  /** The message (the Note's IRI). */
  object: string;
  /** The activity's id (for a moderator's operation, a `urn:harmony:removal:` id minted here). */
  activityId: string;
  /** The activity as received (null for a moderator's operation). */
  activity: unknown;
  /** A moderator's operation: who removed or restored the message, and when. */
  by?: string;
  published?: string;
}

/** Operation ids of remote operations come from their activity's id (a redelivery is the same operation). */
export async function remoteOpId(activityId: string): Promise<string> {
  return `urn:harmony:op:${(await sha256Hex(`remote\n${activityId}`)).slice(0, 40)}`;
}

export function isRemoteOp(doc: { type: string }): doc is RemoteOpDocument {
  return doc.type === "Remote";
}

export interface RemotePost {
  channelIri: string;
  /** The Note's IRI, on the author's server: the message id. */
  id: string;
  /** The author's actor IRI. */
  author: string;
  /** Markdown (converted from the Note's HTML by the federation layer). */
  content: string;
  published: string;
  activityId: string;
  activity: unknown;
}

export interface RemoteEdit {
  id: string;
  author: string;
  content: string;
  updated: string;
  activityId: string;
  activity: unknown;
}

export interface RemoteDeletion {
  id: string;
  author: string;
  published: string;
  activityId: string;
  activity: unknown;
}

export type RemoteOutcome = { status: "applied"; message: MessageView } | { status: "duplicate" };

function sameOriginUrl(id: string, author: string): boolean {
  try {
    const a = new URL(id);
    const b = new URL(author);
    return (a.protocol === "https:" || a.protocol === "http:") && a.origin === b.origin;
  } catch {
    return false;
  }
}

function checkContent(h: Harmony, content: string): void {
  if (content.trim().length === 0) throw invalid("empty_message", "a message cannot be empty");
  const length = characterCount(content);
  if (length > h.config.maxMessageLength) {
    throw invalid("message_too_long", `the message is ${length} characters long`);
  }
  if (hasForbiddenCharacters(content, true)) {
    throw invalid("invalid_characters", "the message contains control characters");
  }
}

const instant = (value: string) => {
  const time = Date.parse(value);
  return Number.isNaN(time) ? new Date().toISOString() : new Date(time).toISOString();
};

async function one(sql: SqlTransaction, query: string, args: unknown[]): Promise<number> {
  const [row] = await sql.all(query, args);
  return Number(row?.v ?? 0);
}

async function insertQuads(sql: SqlTransaction, items: Quad[]): Promise<void> {
  for (const q of items.map(quadRow)) {
    await sql.run(
      `INSERT INTO quads (graph, subject, predicate, object, object_kind, datatype, language)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [q.graph, q.subject, q.predicate, q.object, q.objectKind, q.datatype, q.language],
    );
  }
}

/** Appends the operation to the log (op_log row and operation quads); returns its Lamport time. */
async function logOperation(
  sql: SqlTransaction,
  channel: string,
  opId: string,
  doc: RemoteOpDocument,
): Promise<number> {
  const lamport = (await one(sql, "SELECT max(lamport) v FROM op_log WHERE channel = ?", [channel])) + 1;
  const seq = (await one(sql, "SELECT max(seq) v FROM op_log WHERE channel = ? AND origin = ?", [
    channel,
    doc.actor,
  ])) + 1;
  const position = await nextLogPosition(sql);
  const document = JSON.stringify(doc);
  const subject = iri(logEntryIri(channel, position));
  await insertQuads(sql, [
    quad(subject, RDF.type, H.Operation, channel),
    quad(subject, H.origin, iri(doc.actor), channel),
    quad(subject, H.seq, integer(seq), channel),
    quad(subject, H.lamport, integer(lamport), channel),
    quad(subject, H.document, literal(document, RDF_JSON), channel),
  ]);
  await sql.run(
    `INSERT INTO op_log (position, id, channel, origin, seq, lamport, kind, target, actor, document)
       VALUES (?, ?, ?, ?, ?, ?, 'Remote', ?, ?, ?)`,
    [position, opId, channel, doc.actor, seq, lamport, doc.object, doc.actor, document],
  );
  return lamport;
}

async function known(sql: SqlTransaction, opId: string): Promise<boolean> {
  return (await sql.all("SELECT 1 FROM op_log WHERE id = ?", [opId])).length > 0;
}

async function readRow(sql: SqlTransaction, id: string): Promise<IndexRow | null> {
  const [row] = await sql.all("SELECT * FROM message_index WHERE id = ?", [id]);
  return row ? indexRowFrom(row) : null;
}

const nextRevision = async (sql: SqlTransaction, channel: string) =>
  (await one(sql, "SELECT max(revision) v FROM message_index WHERE channel = ?", [channel])) + 1;

/** Tells open pages and outbound delivery about a change (after its commit). */
export function published(h: Harmony, kind: "created" | "updated" | "deleted", message: MessageView): void {
  h.hub.publish(message.channel, { kind, message });
  h.hub.publishOps();
}

/**
 * A reply from the fediverse enters a channel, if the channel is public
 * and its owner opened it to fediverse replies (403 otherwise).
 */
export async function receiveRemotePost(h: Harmony, post: RemotePost): Promise<RemoteOutcome> {
  await refuseBlocked(h, post.author);
  const channel = await findChannel(h, post.channelIri);
  if (channel.visibility !== "public" || channel.fediverseReplies !== "open") {
    throw forbidden(`#${channel.name} does not take replies from the fediverse`);
  }
  if (!sameOriginUrl(post.id, post.author)) {
    throw invalid("foreign_note", "a note's id must be on its author's server");
  }
  checkContent(h, post.content);
  const opId = await remoteOpId(post.activityId);
  const doc: RemoteOpDocument = {
    type: "Remote",
    action: "Create",
    actor: post.author,
    object: post.id,
    activityId: post.activityId,
    activity: post.activity,
  };
  const result = await h.database.writeSql(async (sql): Promise<RemoteOutcome> => {
    if (await known(sql, opId) || await readRow(sql, post.id)) return { status: "duplicate" };
    const lamport = await logOperation(sql, channel.iri, opId, doc);
    const row: IndexRow = {
      id: post.id,
      channel: channel.iri,
      lamport,
      author: post.author,
      content: post.content,
      published: instant(post.published),
      updated: null,
      editLamport: null,
      editOp: null,
      deleted: false,
      revision: await nextRevision(sql, channel.iri),
    };
    const s = iri(row.id);
    await insertQuads(sql, [
      quad(s, RDF.type, H.Message, channel.iri),
      quad(s, AS.attributedTo, iri(row.author), channel.iri),
      quad(s, AS.published, dateTime(row.published), channel.iri),
      quad(s, H.lamport, integer(row.lamport), channel.iri),
      quad(s, AS.content, literal(row.content), channel.iri),
    ]);
    await sql.run(
      `INSERT INTO message_index (id, channel, lamport, author, content, published, updated, edit_lamport,
         edit_op, deleted, revision) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 0, ?)`,
      [row.id, row.channel, row.lamport, row.author, row.content, row.published, row.revision],
    );
    return { status: "applied", message: toView(row) };
  });
  if (result.status === "applied") published(h, "created", result.message);
  return result;
}

const editPredicates = [AS.content, AS.updated, H.editLamport, H.editOp].map((p) => p.value);

async function removeEditQuads(sql: SqlTransaction, row: IndexRow): Promise<void> {
  await sql.run(
    `DELETE FROM quads WHERE graph = ? AND subject = ? AND predicate IN (?, ?, ?, ?)`,
    [row.channel, row.id, ...editPredicates],
  );
}

async function ownMessage(sql: SqlTransaction, id: string, author: string): Promise<IndexRow> {
  const row = await readRow(sql, id);
  if (!row) throw notFound("there is no such message");
  if (row.author !== author) throw forbidden("only the author can change a message from the fediverse");
  return row;
}

/** The author of a fediverse message edits it; an edit older than the stored one changes nothing. */
export async function receiveRemoteEdit(h: Harmony, edit: RemoteEdit): Promise<RemoteOutcome> {
  await refuseBlocked(h, edit.author);
  checkContent(h, edit.content);
  const opId = await remoteOpId(edit.activityId);
  const updated = instant(edit.updated);
  const result = await h.database.writeSql(async (sql): Promise<RemoteOutcome> => {
    if (await known(sql, opId)) return { status: "duplicate" };
    const row = await ownMessage(sql, edit.id, edit.author);
    if (row.deleted) throw new HarmonyError(410, "deleted", "the message was deleted");
    if (Date.parse(updated) <= Date.parse(row.updated ?? row.published)) return { status: "duplicate" };
    const lamport = await logOperation(sql, row.channel, opId, {
      type: "Remote",
      action: "Update",
      actor: edit.author,
      object: edit.id,
      activityId: edit.activityId,
      activity: edit.activity,
    });
    await removeEditQuads(sql, row);
    Object.assign(row, {
      content: edit.content,
      updated,
      editLamport: lamport,
      editOp: opId,
      revision: await nextRevision(sql, row.channel),
    });
    const s = iri(row.id);
    await insertQuads(sql, [
      quad(s, AS.content, literal(row.content), row.channel),
      quad(s, AS.updated, dateTime(updated), row.channel),
      quad(s, H.editLamport, integer(lamport), row.channel),
      quad(s, H.editOp, iri(opId), row.channel),
    ]);
    await sql.run(
      "UPDATE message_index SET content = ?, updated = ?, edit_lamport = ?, edit_op = ?, revision = ? WHERE id = ?",
      [row.content, row.updated, row.editLamport, row.editOp, row.revision, row.id],
    );
    return { status: "applied", message: toView(row) };
  });
  if (result.status === "applied") published(h, "updated", result.message);
  return result;
}

/**
 * The author of a fediverse message deletes it: it becomes a tombstone, like
 * any deleted message. Deleting a message a moderator removed erases the
 * text kept to restore it.
 */
export async function receiveRemoteDeletion(h: Harmony, deletion: RemoteDeletion): Promise<RemoteOutcome> {
  await refuseBlocked(h, deletion.author);
  const opId = await remoteOpId(deletion.activityId);
  const result = await h.database.writeSql(async (sql): Promise<RemoteOutcome> => {
    if (await known(sql, opId)) return { status: "duplicate" };
    const row = await ownMessage(sql, deletion.id, deletion.author);
    const removed = row.deleted && await wasRemoved(sql, row);
    if (row.deleted && !removed) return { status: "duplicate" };
    await logOperation(sql, row.channel, opId, {
      type: "Remote",
      action: "Delete",
      actor: deletion.author,
      object: deletion.id,
      activityId: deletion.activityId,
      activity: deletion.activity,
    });
    await removeEditQuads(sql, row);
    if (removed) {
      await sql.run("DELETE FROM quads WHERE graph = ? AND subject = ? AND predicate IN (?, ?)", [
        row.channel,
        row.id,
        H.removedBy.value,
        H.deletedBy.value,
      ]);
      await insertQuads(sql, [quad(iri(row.id), H.deletedBy, iri(deletion.author), row.channel)]);
      // Nothing changes on the page; followers are still told of the author's Delete.
      return { status: "applied", message: toView(row) };
    }
    Object.assign(row, { content: "", deleted: true, revision: await nextRevision(sql, row.channel) });
    const s = iri(row.id);
    await insertQuads(sql, [
      quad(s, H.deleted, dateTime(instant(deletion.published)), row.channel),
      quad(s, H.deletedBy, iri(deletion.author), row.channel),
    ]);
    await sql.run("UPDATE message_index SET content = '', deleted = 1, revision = ? WHERE id = ?", [
      row.revision,
      row.id,
    ]);
    return { status: "applied", message: toView(row) };
  });
  if (result.status === "applied") published(h, "deleted", result.message);
  return result;
}

/** Whether a deleted message is a fediverse reply a moderator removed (its text kept). */
async function wasRemoved(sql: SqlTransaction, row: IndexRow): Promise<boolean> {
  const found = await sql.all("SELECT 1 FROM quads WHERE graph = ? AND subject = ? AND predicate = ?", [
    row.channel,
    row.id,
    H.removedBy.value,
  ]);
  return found.length > 0;
}

export interface Removal {
  /** The message: a fediverse reply's Note IRI. */
  id: string;
  /** The moderator's DID. */
  by: string;
  at: string;
}

/** A message from the fediverse, or the refusal that says why it is not one. */
async function remoteRow(sql: SqlTransaction, id: string): Promise<IndexRow> {
  const row = await readRow(sql, id);
  if (!row) throw notFound("there is no such message");
  if (!/^https?:\/\//.test(row.author)) {
    throw invalid(
      "not_a_fediverse_reply",
      "only replies from the fediverse are removed this way; a member's message is deleted with DELETE /api/messages/{id}",
    );
  }
  return row;
}

async function logModeration(
  sql: SqlTransaction,
  row: IndexRow,
  removal: Removal,
  action: "Remove" | "Restore",
) {
  const activityId = `urn:harmony:removal:${crypto.randomUUID()}`;
  await logOperation(sql, row.channel, await remoteOpId(activityId), {
    type: "Remote",
    action,
    actor: row.author,
    object: row.id,
    activityId,
    activity: null,
    by: removal.by,
    published: removal.at,
  });
}

/**
 * A moderator removes a reply from the fediverse, inside the caller's
 * transaction (the one that records the audit entry): it shows as deleted,
 * its text stays in its quads for restoreRemoteMessage. Call `published`
 * with the result after the commit.
 */
export async function removeRemoteMessage(sql: SqlTransaction, removal: Removal): Promise<MessageView> {
  const row = await remoteRow(sql, removal.id);
  if (row.deleted) {
    throw await wasRemoved(sql, row)
      ? conflict("already_removed", "that reply was already removed")
      : new HarmonyError(410, "deleted", "its author deleted that reply");
  }
  await logModeration(sql, row, removal, "Remove");
  const s = iri(row.id);
  await insertQuads(sql, [
    quad(s, H.deleted, dateTime(instant(removal.at)), row.channel),
    quad(s, H.deletedBy, iri(removal.by), row.channel),
    quad(s, H.removedBy, iri(removal.by), row.channel),
  ]);
  // As rebuildIndexes derives a deleted message's row from its quads.
  Object.assign(row, {
    content: "",
    updated: null,
    editLamport: null,
    editOp: null,
    deleted: true,
    revision: await nextRevision(sql, row.channel),
  });
  await sql.run(
    `UPDATE message_index SET content = '', updated = NULL, edit_lamport = NULL, edit_op = NULL, deleted = 1,
       revision = ? WHERE id = ?`,
    [row.revision, row.id],
  );
  return toView(row);
}

/** Undoes a removal (in the caller's transaction): the reply shows again as it was. */
export async function restoreRemoteMessage(sql: SqlTransaction, removal: Removal): Promise<MessageView> {
  const row = await remoteRow(sql, removal.id);
  if (!row.deleted) throw conflict("not_removed", "that reply is not removed");
  if (!(await wasRemoved(sql, row))) {
    throw new HarmonyError(410, "deleted", "its author deleted that reply: it cannot be restored");
  }
  await logModeration(sql, row, removal, "Restore");
  await sql.run("DELETE FROM quads WHERE graph = ? AND subject = ? AND predicate IN (?, ?, ?)", [
    row.channel,
    row.id,
    H.deleted.value,
    H.deletedBy.value,
    H.removedBy.value,
  ]);
  const kept = new Map<string, string>();
  for (
    const q of await sql.all("SELECT predicate, object FROM quads WHERE graph = ? AND subject = ?", [
      row.channel,
      row.id,
    ])
  ) {
    kept.set(String(q.predicate), String(q.object));
  }
  const editLamport = kept.get(H.editLamport.value);
  Object.assign(row, {
    content: kept.get(AS.content.value) ?? "",
    updated: kept.get(AS.updated.value) ?? null,
    editLamport: editLamport === undefined ? null : Number(editLamport),
    editOp: kept.get(H.editOp.value) ?? null,
    deleted: false,
    revision: await nextRevision(sql, row.channel),
  });
  await sql.run(
    `UPDATE message_index SET content = ?, updated = ?, edit_lamport = ?, edit_op = ?, deleted = 0, revision = ?
       WHERE id = ?`,
    [row.content, row.updated, row.editLamport, row.editOp, row.revision, row.id],
  );
  return toView(row);
}

export interface RemoteMessageRow extends IndexRow {
  /** For a removed reply: the moderator who removed it, and when. */
  removedBy: string | null;
  removedAt: string | null;
}

/**
 * Replies from the fediverse, newest first, at most `limit`: those that
 * show, or those a moderator removed. Live ones are found through the index
 * range of attributedTo quads whose object is an http(s) IRI (members'
 * are did:keys); removed ones through their removedBy quads.
 */
export async function remoteMessages(
  sql: SqlTransaction,
  options: { removed: boolean; limit?: number },
): Promise<RemoteMessageRow[]> {
  const limit = options.limit ?? -1;
  const rows = options.removed
    ? await sql.all(
      `SELECT m.*, q.object AS removed_by, d.object AS removed_at
         FROM quads q JOIN message_index m ON m.id = q.subject AND m.channel = q.graph
         LEFT JOIN quads d ON d.subject = q.subject AND d.graph = q.graph AND d.predicate = ?
         WHERE q.predicate = ? AND q.object_kind = 0 ORDER BY removed_at DESC LIMIT ?`,
      [H.deleted.value, H.removedBy.value, limit],
    )
    : await sql.all(
      `SELECT m.* FROM quads q JOIN message_index m ON m.id = q.subject AND m.channel = q.graph
         WHERE q.predicate = ? AND q.object_kind = 0 AND q.object >= 'http://' AND q.object < 'https:0'
           AND m.deleted = 0
         ORDER BY m.published DESC LIMIT ?`,
      [AS.attributedTo.value, limit],
    );
  return rows.map((r) => ({
    ...indexRowFrom(r),
    removedBy: r.removed_by == null ? null : String(r.removed_by),
    removedAt: r.removed_at == null ? null : String(r.removed_at),
  }));
}

export interface RemoteActorInfo {
  iri: string;
  name: string | null;
  preferredUsername: string | null;
  url: string | null;
  icon: string | null;
}

const clean = (value: string | null, max: number) => {
  if (value === null) return null;
  // deno-lint-ignore no-control-regex
  const text = value.normalize("NFC").replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "")
    .trim();
  return text ? [...text].slice(0, max).join("") : null;
};

const httpUrl = (value: string | null) => {
  if (value === null) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
};

/** Caches the name (and profile link) of a fediverse author, shown beside their messages. */
export async function rememberRemoteActor(h: Harmony, actor: RemoteActorInfo): Promise<void> {
  const name = clean(actor.name, 64);
  const username = clean(actor.preferredUsername, 64);
  const url = httpUrl(actor.url);
  const icon = httpUrl(actor.icon);
  const current = (await h.snapshot()).profiles.get(actor.iri);
  if (current && !current.remote) return;
  if (
    current?.remote && current.name === (name || username || "") && current.remote.url === url &&
    current.remote.handle.startsWith(`@${username ?? ""}@`)
  ) return;
  await h.writeCommunity(async (tx) => {
    const g = h.iris.remoteActors;
    const s = iri(actor.iri);
    await quadStore.remove(tx, { graph: g, subject: s });
    const items: Quad[] = [
      quad(s, RDF.type, H.RemoteActor, g),
      quad(s, AS.updated, dateTime(new Date()), g),
    ];
    if (name) items.push(quad(s, AS.name, literal(name), g));
    if (username) items.push(quad(s, AS.preferredUsername, literal(username), g));
    if (url) items.push(quad(s, AS.url, iri(url), g));
    if (icon) items.push(quad(s, AS.icon, iri(icon), g));
    await quadStore.insert(tx, items);
  });
}
