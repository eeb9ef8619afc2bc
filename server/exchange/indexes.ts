/**
 * Derived tables are caches of the quads. This rebuilds them, so they can
 * always be thrown away (after an import, or to repair a database).
 */
import { asc, inArray, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { messageIndex, opLog, quads } from "../../db/schema.ts";
import {
  actorOf,
  isRedacted,
  type OpDocument,
  opIdOf,
  type RedactedOp,
  targetOf,
} from "../messages/oplog.ts";
import { isRemoteOp, type RemoteOpDocument, remoteOpId } from "../replication/remoteMessages.ts";
import { AS, H, RDF } from "../rdf/vocab.ts";
import { rebuildAuditLog } from "../audit/log.ts";
import { rebuildDmIndex } from "../dms/store.ts";
import { rebuildConversation } from "../conversation/fold.ts";
import { sqlOverQueryable } from "../conversation/store.ts";
import { clearSearchIndex } from "../search/rebuild.ts";
import { rebuildMentions } from "../attention/mentionIndex.ts";

type MessageRow = typeof messageIndex.$inferInsert;
type OpRow = typeof opLog.$inferInsert;

/** Quads of every subject of one type, grouped by subject: predicate -> object, plus the graph. */
async function subjectsOfType(q: Queryable, type: string) {
  const subjects = q.select({ subject: quads.subject }).from(quads)
    .where(
      sql`${quads.predicate} = ${RDF.type.value} and ${quads.object} = ${type} and ${quads.objectKind} = 0`,
    );
  const rows = await q.select().from(quads).where(inArray(quads.subject, subjects)).orderBy(asc(quads.id));
  const bySubject = new Map<string, { graph: string; props: Map<string, string> }>();
  for (const row of rows) {
    let entry = bySubject.get(row.subject);
    if (!entry) bySubject.set(row.subject, entry = { graph: row.graph, props: new Map() });
    entry.props.set(row.predicate, row.object);
  }
  return bySubject;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function insertAll<T extends Record<string, unknown>>(
  q: Queryable,
  table: typeof messageIndex | typeof opLog,
  rows: T[],
): Promise<void> {
  // deno-lint-ignore no-explicit-any
  for (let i = 0; i < rows.length; i += 400) await q.insert(table).values(rows.slice(i, i + 400) as any);
}

export async function rebuildIndexes(q: Queryable): Promise<{ messages: number; operations: number }> {
  // The search index follows message_index through triggers: emptied first, it is refilled
  // row by row as the messages are inserted below (server/search/rebuild.ts).
  await clearSearchIndex(q);
  await q.delete(messageIndex);
  await q.delete(opLog);

  const messages: MessageRow[] = [];
  for (const [id, { graph, props: p }] of await subjectsOfType(q, H.Message.value)) {
    const deleted = p.has(H.deleted.value);
    const editLamport = p.get(H.editLamport.value);
    messages.push({
      id,
      channel: graph,
      lamport: Number(p.get(H.lamport.value) ?? 0),
      author: p.get(AS.attributedTo.value) ?? "",
      content: deleted ? "" : p.get(AS.content.value) ?? "",
      published: p.get(AS.published.value) ?? "",
      updated: deleted ? null : p.get(AS.updated.value) ?? null,
      editLamport: deleted || editLamport === undefined ? null : Number(editLamport),
      editOp: deleted ? null : p.get(H.editOp.value) ?? null,
      deleted,
      revision: 0,
      attachments: deleted ? null : p.get(H.attachments.value) ?? null,
      inReplyTo: p.get(AS.inReplyTo.value) ?? null,
      threadRoot: p.get(H.thread.value) ?? null,
    });
  }
  // Revisions restart from the total order: each channel's change feed begins anew.
  messages.sort((a, b) =>
    compare(a.channel, b.channel) || a.lamport - b.lamport || compare(a.author, b.author) ||
    compare(a.id, b.id)
  );
  let channel = "";
  let revision = 0;
  for (const row of messages) {
    if (row.channel !== channel) [channel, revision] = [row.channel, 0];
    row.revision = ++revision;
  }
  await insertAll(q, messageIndex, messages);

  const operations: OpRow[] = [];
  for (const [subject, { graph, props: p }] of await subjectsOfType(q, H.Operation.value)) {
    const document = p.get(H.document.value) ?? "{}";
    const doc = JSON.parse(document) as OpDocument | RemoteOpDocument | RedactedOp;
    operations.push({
      position: Number(subject.slice(subject.lastIndexOf("/") + 1)),
      // Fediverse replies (kind "Remote") are named after their activity, signed ones after their proof.
      id: isRemoteOp(doc) ? await remoteOpId(doc.activityId) : isRedacted(doc) ? doc.opId : await opIdOf(doc),
      channel: graph,
      origin: p.get(H.origin.value) ?? "",
      seq: Number(p.get(H.seq.value) ?? 0),
      lamport: Number(p.get(H.lamport.value) ?? 0),
      kind: doc.type,
      target: isRemoteOp(doc) ? doc.object : isRedacted(doc) ? doc.target : targetOf(doc),
      actor: isRemoteOp(doc) ? doc.actor : isRedacted(doc) ? doc.actor : actorOf(doc),
      document,
      // A moderation's capability (server/messages/oplog.ts): what a rebuilt pin is checked against.
      authority: p.get(H.capability.value) ?? null,
    });
  }
  // Positions are kept: delivery cursors stored elsewhere keep their meaning.
  operations.sort((a, b) => a.position! - b.position!);
  await insertAll(q, opLog, operations);
  await rebuildAuditLog(q);
  await rebuildDmIndex(q);
  await rebuildConversation(sqlOverQueryable(q));
  await rebuildMentions(q);
  return { messages: messages.length, operations: operations.length };
}
