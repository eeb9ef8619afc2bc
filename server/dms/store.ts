/**
 * Where direct messages live (docs/dms.md). The source of truth is quads,
 * as for every entity: each conversation is a named graph
 * `urn:harmony:dm:<conversation>` holding, per message, its sender,
 * recipient, time and the signed ciphertext envelope (an rdf:JSON literal),
 * so a community export and import carry DMs like the rest, still
 * encrypted. `dm_index` is derived in the same transaction (paging,
 * conversation lists, unread counts) and rebuilt by `rebuildDmIndex`.
 * The remote actor of a participant from another Harmony instance is kept
 * in the graph `urn:harmony:dm-peers`. Nothing here ever sees plaintext.
 */
import { and, asc, desc, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { dmIndex, dmReads, quads } from "../../db/schema.ts";
import { quadStore } from "../../db/quadstore.ts";
import { dateTime, iri, literal, quad } from "../../db/terms.ts";
import { conflict } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { AS, HARMONY_NS, RDF, RDF_JSON } from "../rdf/vocab.ts";
import { conversationId, type EncryptedMessage, peerOf } from "./crypto.ts";
import { dmHub } from "./hub.ts";

export const DM = {
  EncryptedMessage: iri(`${HARMONY_NS}EncryptedMessage`),
  recipient: iri(`${HARMONY_NS}recipient`),
  dmEnvelope: iri(`${HARMONY_NS}dmEnvelope`),
  peerActor: iri(`${HARMONY_NS}peerActor`),
};

export const PEERS_GRAPH = "urn:harmony:dm-peers";
export const graphOf = (conversation: string) => `urn:harmony:dm:${conversation}`;

export interface DmRecord {
  position: number;
  conversation: string;
  envelope: EncryptedMessage;
}

export interface ConversationSummary {
  conversation: string;
  /** The other participant's DID. */
  peer: string;
  /** Their actor on another Harmony instance, if they are not a member here. */
  peerActor: string | null;
  lastPosition: number;
  lastPublished: string;
  messages: number;
  unread: number;
}

/**
 * Stores an envelope (already checked) and wakes both participants' live
 * streams. A message id seen before is refused (409): ids are signed, so a
 * replay can only repeat one.
 */
export async function storeDm(
  h: Harmony,
  envelope: EncryptedMessage,
  peer?: { did: string; actor: string },
): Promise<DmRecord> {
  const conversation = conversationId(envelope.attributedTo, envelope.recipient);
  const graph = graphOf(conversation);
  const position = await h.database.write(async (tx) => {
    const [seen] = await tx.select({ position: dmIndex.position }).from(dmIndex).where(
      eq(dmIndex.id, envelope.id),
    );
    if (seen) throw conflict("duplicate_message", "a direct message with this id was already received");
    const s = iri(envelope.id);
    await quadStore.insert(tx, [
      quad(s, RDF.type, DM.EncryptedMessage, graph),
      quad(s, AS.attributedTo, iri(envelope.attributedTo), graph),
      quad(s, DM.recipient, iri(envelope.recipient), graph),
      quad(s, AS.published, dateTime(envelope.published), graph),
      quad(s, DM.dmEnvelope, literal(JSON.stringify(envelope), RDF_JSON), graph),
    ]);
    if (peer) await quadStore.set(tx, PEERS_GRAPH, iri(peer.did), DM.peerActor, iri(peer.actor));
    const [row] = await tx.insert(dmIndex).values({
      id: envelope.id,
      conversation,
      sender: envelope.attributedTo,
      recipient: envelope.recipient,
      published: envelope.published,
      envelope: JSON.stringify(envelope),
    }).returning({ position: dmIndex.position });
    return row.position;
  });
  const record = { position, conversation, envelope };
  dmHub(h).publish(record);
  return record;
}

export async function isKnownDm(h: Harmony, id: string): Promise<boolean> {
  const [row] = await h.db.select({ position: dmIndex.position }).from(dmIndex).where(eq(dmIndex.id, id));
  return Boolean(row);
}

/** The remote actor recorded for a DID (a DM peer on another Harmony instance). */
export async function peerActorOf(h: Harmony, did: string): Promise<string | null> {
  const [found] = await quadStore.match(h.db, {
    graph: PEERS_GRAPH,
    subject: iri(did),
    predicate: DM.peerActor,
  });
  return found?.object.value ?? null;
}

async function readPositions(h: Harmony, me: string): Promise<Map<string, number>> {
  const rows = await h.db.select().from(dmReads).where(eq(dmReads.did, me));
  return new Map(rows.map((r) => [r.conversation, r.position]));
}

/** The conversations `me` takes part in, the most recent first. */
export async function listConversations(h: Harmony, me: string): Promise<ConversationSummary[]> {
  const rows = await h.db.select({
    conversation: dmIndex.conversation,
    peer: sql<
      string
    >`max(case when ${dmIndex.sender} = ${me} then ${dmIndex.recipient} else ${dmIndex.sender} end)`,
    lastPosition: sql<number>`max(${dmIndex.position})`,
    lastPublished: sql<string>`max(${dmIndex.published})`,
    messages: sql<number>`count(*)`,
  }).from(dmIndex).where(or(eq(dmIndex.sender, me), eq(dmIndex.recipient, me)))
    .groupBy(dmIndex.conversation).orderBy(desc(sql`max(${dmIndex.position})`));
  const reads = await readPositions(h, me);
  const out: ConversationSummary[] = [];
  for (const row of rows) {
    const peer = row.peer;
    const read = reads.get(row.conversation) ?? 0;
    const unread = await h.db.$count(
      dmIndex,
      and(eq(dmIndex.conversation, row.conversation), eq(dmIndex.recipient, me), gt(dmIndex.position, read)),
    );
    out.push({
      conversation: row.conversation,
      peer,
      peerActor: await peerActorOf(h, peer),
      lastPosition: Number(row.lastPosition),
      lastPublished: row.lastPublished,
      messages: Number(row.messages),
      unread,
    });
  }
  return out;
}

/** Unread DMs of `me` across conversations. */
export async function unreadTotal(h: Harmony, me: string): Promise<number> {
  return (await listConversations(h, me)).reduce((sum, c) => sum + c.unread, 0);
}

export interface HistoryPage {
  conversation: string;
  /** Oldest first. */
  messages: DmRecord[];
  /** Pass as `before` for the page of older messages; null at the beginning. */
  before: number | null;
}

/** A conversation's messages, newest page first, keyset-paged by position. */
export async function conversationHistory(
  h: Harmony,
  me: string,
  peer: string,
  options: { before?: number; after?: number; limit?: number } = {},
): Promise<HistoryPage> {
  const conversation = conversationId(me, peer);
  const limit = options.limit ?? 50;
  const where = [eq(dmIndex.conversation, conversation)];
  if (options.before !== undefined) where.push(lt(dmIndex.position, options.before));
  if (options.after !== undefined) where.push(gt(dmIndex.position, options.after));
  const rows = options.after !== undefined
    ? await h.db.select().from(dmIndex).where(and(...where)).orderBy(asc(dmIndex.position)).limit(limit)
    : (await h.db.select().from(dmIndex).where(and(...where)).orderBy(desc(dmIndex.position)).limit(
      limit + 1,
    ))
      .reverse();
  const more = options.after === undefined && rows.length > limit;
  const page = more ? rows.slice(1) : rows;
  return {
    conversation,
    messages: page.map((r) => ({ position: r.position, conversation, envelope: JSON.parse(r.envelope) })),
    before: more ? page[0].position : null,
  };
}

/** Marks a conversation read up to `position` (never backwards). */
export async function markRead(h: Harmony, me: string, peer: string, position: number): Promise<void> {
  const conversation = conversationId(me, peer);
  await h.database.write(async (tx) => {
    await tx.insert(dmReads).values({ conversation, did: me, position }).onConflictDoUpdate({
      target: [dmReads.conversation, dmReads.did],
      set: { position: sql`max(${dmReads.position}, excluded.position)` },
    });
  });
}

/** Rebuilds `dm_index` from the DM quads (after an import, or to repair a database). */
export async function rebuildDmIndex(q: Queryable): Promise<number> {
  await q.delete(dmIndex);
  const subjects = q.select({ subject: quads.subject }).from(quads).where(
    and(
      eq(quads.predicate, RDF.type.value),
      eq(quads.object, DM.EncryptedMessage.value),
      eq(quads.objectKind, 0),
    ),
  );
  const rows = await q.select().from(quads).where(
    and(inArray(quads.subject, subjects), eq(quads.predicate, DM.dmEnvelope.value)),
  ).orderBy(asc(quads.id));
  const envelopes = rows.map((r) => JSON.parse(r.object) as EncryptedMessage)
    .sort((a, b) => (a.published < b.published ? -1 : a.published > b.published ? 1 : 0));
  for (const envelope of envelopes) {
    await q.insert(dmIndex).values({
      id: envelope.id,
      conversation: conversationId(envelope.attributedTo, envelope.recipient),
      sender: envelope.attributedTo,
      recipient: envelope.recipient,
      published: envelope.published,
      envelope: JSON.stringify(envelope),
    }).onConflictDoNothing();
  }
  return envelopes.length;
}

export { peerOf };
