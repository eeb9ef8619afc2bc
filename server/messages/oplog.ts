/**
 * The replicated operation log and the message state it folds into.
 *
 * Every change to a message is an operation: a document its author (or a
 * moderator) signed, plus an envelope saying where it was made (origin,
 * that origin's sequence number) and its Lamport time. Operations from this
 * instance and from bridged peers are applied by the same code, which folds
 * them into message state as a CRDT:
 *
 * - messages are ordered by (Lamport time, author DID, id);
 * - an edit wins over another by (Lamport time, operation id): last writer wins;
 * - a deletion is a tombstone and wins over every edit;
 * - an operation already in the log changes nothing;
 * - an edit or deletion that arrives before its message waits in the log and
 *   is folded in when the message arrives.
 *
 * Whoever made it and wherever it came from, an operation changes state
 * only with the authority a local one needs: an edit only by the message's
 * author, a deletion by its author or with a moderator's capability
 * (`authority`), a pin or unpin only with one. The capability's chain is
 * verified before the operation is submitted (server/messages, server/
 * conversation for local ones, server/replication/admission.ts for a peer's);
 * here it must be there, name the signer and the action. An operation
 * refused here changes nothing.
 *
 * `applyBatch` runs inside one write transaction over plain SQL (it runs in
 * the writer worker, see opWorker.ts) and writes a whole batch with one
 * multi-row insert per table.
 */
import { dateTime, integer, iri, literal, type Quad, quad } from "../../db/terms.ts";
import { quadRow } from "../../db/quadRow.ts";
import type { SqlTransaction } from "../../db/sql.ts";
import { sha256Hex } from "../shared/ids.ts";
import type { MessageView } from "../shared/model.ts";
import type {
  SignedDelete,
  SignedMessage,
  SignedPin,
  SignedReact,
  SignedUnreact,
  SignedUpdate,
} from "../documents/signed.ts";
import { AS, H, RDF, RDF_JSON } from "../rdf/vocab.ts";
import { appendEntry, type AuditDraft } from "../audit/chain.ts";
import { ConversationFold, isConversationOp } from "../conversation/fold.ts";
import { indexMentions } from "../attention/mentionIndex.ts";
import { authorityCovers, type Capability, moderationAction } from "./authority.ts";

export type { Capability } from "./authority.ts";

export type OpDocument =
  | SignedMessage
  | SignedUpdate
  | SignedDelete
  | SignedReact
  | SignedUnreact
  | SignedPin;
export type OpKind = OpDocument["type"];

export interface IndexRow {
  id: string;
  channel: string;
  lamport: number;
  author: string;
  content: string;
  published: string;
  updated: string | null;
  /** Lamport time and operation id of the edit that won (last writer wins). */
  editLamport: number | null;
  editOp: string | null;
  deleted: boolean;
  revision: number;
  /** The signed attachment descriptors as JSON (server/files), null when none. */
  attachments?: string | null;
  /** The message replied to, and the thread root (conversation, issue 5). */
  inReplyTo?: string | null;
  threadRoot?: string | null;
}

export interface Envelope {
  origin: string;
  seq: number;
  lamport: number;
}

/** One operation to apply: plain data, so it can cross to the writer worker. */
export interface OpSubmission {
  /** A signed operation, or (from a peer's Sync) the redacted trace of one whose message was deleted. */
  doc: OpDocument | RedactedOp;
  opId: string;
  /** The local channel the operation applies to. */
  channel: string;
  /** Null for an operation made here: the writer numbers it. */
  envelope: Envelope | null;
  /** Refuse a new operation whose signed time is further than this from the clock. */
  maxSkewMs?: number;
  /**
   * The capability invocation that delivered it (bridges): its proof may be
   * used once, so it is remembered, in the same transaction, until it expires.
   */
  invocation?: { proofValue: string; expires: number };
  /** An audit log entry to append if the operation takes effect (a moderator's deletion, server/audit). */
  audit?: AuditDraft;
  /**
   * For a moderation (a deletion of someone else's message, a pin or unpin):
   * the capability, already verified by the caller up to the root of the
   * community the operation was made in, that gave its signer the action.
   */
  authority?: Capability | null;
}

/**
 * What a channel can hold. Lamport times and sequence numbers stay far
 * below 2^53, so arithmetic on them is exact whatever a peer sent, and an
 * operation may not jump further ahead of the channel's clock (or of the
 * highest number its origin has here) than legitimate traffic ever does:
 * one operation cannot use up the range.
 */
export const MAX_LAMPORT = 2 ** 50;
export const MAX_SEQ = 2 ** 50;
export const MAX_LAMPORT_STEP = 2 ** 24;
export const MAX_SEQ_STEP = 2 ** 24;

export type Outcome =
  /** The operation changed a message. */
  | { status: "applied"; message: MessageView; opId: string }
  /** The operation was already in the log. */
  | { status: "duplicate"; message: MessageView | null; opId: string }
  /** Logged without a visible change: a losing edit, or waiting for its message. */
  | { status: "logged"; message: MessageView | null; opId: string };

/** A refusal, as data (it crosses a thread). */
export interface Refusal {
  refused: { status: number; code: string; message: string };
}

export interface Change {
  kind: "created" | "updated" | "deleted";
  message: MessageView;
}

export interface BatchResult {
  outcomes: Array<Outcome | Refusal>;
  changes: Change[];
}

/**
 * What is kept of a post or an edit once its message is deleted: who, when,
 * where, and the operation's id, but no text and no signature over it (so
 * it cannot be shown, and it is never sent to peers again).
 */
export interface RedactedOp {
  "@context": string;
  type: "Message" | "Update";
  redacted: true;
  opId: string;
  target: string;
  channel: string;
  actor: string;
  published: string;
}

export function redact(doc: SignedMessage | SignedUpdate, opId: string): RedactedOp {
  return {
    "@context": doc["@context"],
    type: doc.type === "Message" ? "Message" : "Update",
    redacted: true,
    opId,
    target: targetOf(doc),
    channel: doc.channel,
    actor: actorOf(doc),
    published: doc.published,
  };
}

export function isRedacted(doc: unknown): doc is RedactedOp {
  return (doc as RedactedOp)?.redacted === true;
}

/**
 * The id a peer's redacted trace is logged under. Its `opId` cannot be
 * checked (the signature is gone), so it never names the entry: the id is
 * derived from the place it fills, (channel signed for, origin, sequence
 * number), and can never be a signed operation's.
 */
export async function placeholderId(
  channel: string,
  envelope: { origin: string; seq: number },
): Promise<string> {
  return `urn:harmony:placeholder:${
    (await sha256Hex(`placeholder\n${channel}\n${envelope.origin}\n${envelope.seq}`)).slice(0, 40)
  }`;
}

export function targetOf(doc: OpDocument | RedactedOp): string {
  if (isRedacted(doc)) return doc.target;
  return doc.type === "Message" ? doc.id : doc.object;
}

export function actorOf(doc: OpDocument | RedactedOp): string {
  if (isRedacted(doc)) return doc.actor;
  return doc.type === "Message" ? doc.attributedTo : doc.actor;
}

/**
 * Operations are named after their signature: Ed25519 signatures are
 * deterministic and cover the whole document, so a retry is the same
 * operation and any change makes another (once the signature is verified).
 */
export async function opIdOf(doc: OpDocument): Promise<string> {
  return `urn:harmony:op:${(await sha256Hex(doc.proof.proofValue)).slice(0, 40)}`;
}

/**
 * The quad subject of a log entry: the channel, then this instance's log
 * position, zero-padded so that entries written one after another sort one
 * after another (cheap appends to the subject index).
 */
export function logEntryIri(channel: string, position: number): string {
  return `${channel}/log/${String(position).padStart(12, "0")}`;
}

/**
 * The next position in this instance's log. Positions are never reused,
 * even after the newest entries were deleted with their channel: delivery
 * cursors stand on them. AUTOINCREMENT keeps the largest one ever used in
 * sqlite_sequence.
 */
export async function nextLogPosition(sql: SqlTransaction): Promise<number> {
  const [last] = await sql.all(
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'op_log'), 0), coalesce(max(position), 0)) v FROM op_log",
  );
  return Number(last?.v ?? 0) + 1;
}

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
    attachments: row.attachments ? JSON.parse(row.attachments) : null,
    inReplyTo: row.inReplyTo ?? null,
    thread: row.threadRoot ?? null,
  };
}

export function indexRowFrom(r: Record<string, unknown>): IndexRow {
  return {
    id: String(r.id),
    channel: String(r.channel),
    lamport: Number(r.lamport),
    author: String(r.author),
    content: String(r.content),
    published: String(r.published),
    updated: r.updated === null ? null : String(r.updated),
    editLamport: r.edit_lamport === null ? null : Number(r.edit_lamport),
    editOp: r.edit_op === null ? null : String(r.edit_op),
    deleted: Boolean(r.deleted),
    revision: Number(r.revision),
    attachments: r.attachments == null ? null : String(r.attachments),
    inReplyTo: r.in_reply_to == null ? null : String(r.in_reply_to),
    threadRoot: r.thread_root == null ? null : String(r.thread_root),
  };
}

class Refused extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** (lamport, opId) beats the edit that currently wins. */
function wins(lamport: number, opId: string, row: IndexRow): boolean {
  if (row.editLamport === null || row.editOp === null) return true;
  return lamport > row.editLamport || (lamport === row.editLamport && opId > row.editOp);
}

const placeholders = (n: number, width: number) =>
  Array.from({ length: n }, () => `(${Array(width).fill("?").join(",")})`).join(",");

/** Rows per multi-row INSERT: bound values stay far below SQLite's limit. */
const rowsPerInsert = 400;

interface Clock {
  lamport: number;
  revision: number;
  seq: number;
}

interface OpRowInsert {
  position: number;
  id: string;
  channel: string;
  origin: string;
  seq: number;
  lamport: number;
  kind: string;
  target: string;
  actor: string;
  document: string;
  authority: string | null;
}

/** Applies a batch in the open transaction `sql`; refusals are per operation. */
export async function applyBatch(
  sql: SqlTransaction,
  self: string,
  batch: OpSubmission[],
  now = Date.now(),
): Promise<BatchResult> {
  const outcomes: Array<Outcome | Refusal> = [];
  const quads: Quad[] = [];
  const staleQuads: Array<[string, string]> = [];
  const opRows: OpRowInsert[] = [];
  const newRows = new Map<string, IndexRow>();
  const changedRows = new Map<string, IndexRow>();
  const changes = new Map<string, Change["kind"]>();

  const inList = (n: number) => Array(n).fill("?").join(",");
  const opIds = [...new Set(batch.map((b) => b.opId))];
  const known = new Set<string>();
  for (let i = 0; i < opIds.length; i += 500) {
    const chunk = opIds.slice(i, i + 500);
    for (const r of await sql.all(`SELECT id FROM op_log WHERE id IN (${inList(chunk.length)})`, chunk)) {
      known.add(String(r.id));
    }
  }
  const targets = [
    ...new Set(batch.flatMap((b) => {
      // A thread reply also touches its root (its reply count shows there).
      const root = !isRedacted(b.doc) && b.doc.type === "Message" ? b.doc.thread : undefined;
      return root ? [targetOf(b.doc), root] : [targetOf(b.doc)];
    })),
  ];
  const rows = new Map<string, IndexRow>();
  for (let i = 0; i < targets.length; i += 500) {
    const chunk = targets.slice(i, i + 500);
    for (
      const r of await sql.all(`SELECT * FROM message_index WHERE id IN (${inList(chunk.length)})`, chunk)
    ) {
      rows.set(String(r.id), indexRowFrom(r));
    }
  }
  const clocks = new Map<string, Clock>();
  const clockOf = async (channel: string): Promise<Clock> => {
    let clock = clocks.get(channel);
    if (!clock) {
      // One aggregate per query: each is answered from the end of an index. Values out of
      // range (stored before they were refused) are left out, so the arithmetic below stays exact.
      const [l] = await sql.all("SELECT max(lamport) v FROM op_log WHERE channel = ? AND lamport <= ?", [
        channel,
        MAX_LAMPORT,
      ]);
      const [r] = await sql.all("SELECT max(revision) v FROM message_index WHERE channel = ?", [channel]);
      clock = {
        lamport: Number(l?.v ?? 0),
        revision: Number(r?.v ?? 0),
        seq: await originSeq(channel, self),
      };
      clocks.set(channel, clock);
    }
    return clock;
  };
  /** The highest sequence number (in range) of `origin`'s operations in `channel`, this batch's included. */
  const originSeqs = new Map<string, number>();
  const originSeq = async (channel: string, origin: string): Promise<number> => {
    const key = `${channel} ${origin}`;
    let top = originSeqs.get(key);
    if (top === undefined) {
      const [row] = await sql.all(
        "SELECT max(seq) v FROM op_log WHERE channel = ? AND origin = ? AND seq <= ?",
        [channel, origin, MAX_SEQ],
      );
      top = Number(row?.v ?? 0);
      originSeqs.set(key, top);
    }
    return top;
  };
  /** A peer's envelope: from elsewhere, and within what the channel can hold. */
  const checkEnvelope = async (channel: string, envelope: Envelope) => {
    if (envelope.origin === self) {
      throw new Refused(403, "wrong_origin", "an operation made here cannot arrive from a peer");
    }
    const clock = await clockOf(channel);
    const { lamport, seq } = envelope;
    if (
      !Number.isSafeInteger(lamport) || lamport < 1 ||
      lamport > Math.min(MAX_LAMPORT, clock.lamport + MAX_LAMPORT_STEP)
    ) {
      throw new Refused(
        422,
        "envelope_out_of_range",
        `the Lamport time ${lamport} is out of range (the channel's clock is at ${clock.lamport})`,
      );
    }
    const top = await originSeq(channel, envelope.origin);
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > Math.min(MAX_SEQ, top + MAX_SEQ_STEP)) {
      throw new Refused(
        422,
        "envelope_out_of_range",
        `the sequence number ${seq} is out of range (${envelope.origin} is at ${top} here)`,
      );
    }
  };
  /** What holds an origin's sequence number in a channel: nothing, a signed operation, or a placeholder. */
  const slotOf = async (channel: string, envelope: Envelope) => {
    const key = `${channel} ${envelope.origin} ${envelope.seq}`;
    if (slots.has(key)) return { taken: true, placeholder: null };
    const [row] = await sql.all(
      "SELECT position, id, kind FROM op_log WHERE channel = ? AND origin = ? AND seq = ?",
      [
        channel,
        envelope.origin,
        envelope.seq,
      ],
    );
    if (!row) return { taken: false, placeholder: null };
    const isPlaceholder = String(row.id).startsWith("urn:harmony:placeholder:");
    return {
      taken: true,
      placeholder: isPlaceholder ? { position: Number(row.position), id: String(row.id) } : null,
    };
  };
  // Invocation proofs already used, here or earlier in this batch, are replays.
  const proofs = batch.flatMap((b) => (b.invocation ? [b.invocation.proofValue] : []));
  const usedProofs = new Set<string>();
  for (let i = 0; i < proofs.length; i += 500) {
    const chunk = proofs.slice(i, i + 500);
    for (
      const r of await sql.all(
        `SELECT proof_value FROM seen_invocations WHERE proof_value IN (${inList(chunk.length)})`,
        chunk,
      )
    ) {
      usedProofs.add(String(r.proof_value));
    }
  }
  const newProofs: Array<[string, number]> = [];
  let nextPosition = await nextLogPosition(sql);
  const slots = new Set<string>();
  const conversation = new ConversationFold(sql);
  /** Messages whose only change is their revision (a reaction, a pin, a thread reply): re-rendered live. */
  const touched = new Map<string, IndexRow>();
  const touch = (row: IndexRow | undefined, clock: Clock) => {
    if (!row || row.deleted) return;
    row.revision = ++clock.revision;
    if (!changes.has(row.id)) changes.set(row.id, "updated");
    if (!newRows.has(row.id) && !changedRows.has(row.id)) touched.set(row.id, row);
  };
  /** Operations logged before their message arrived, by target. */
  const waiting = new Map<
    string,
    Array<{ opId: string; doc: OpDocument; lamport: number; channel: string; authorized: boolean }>
  >();

  /** Folds an edit or deletion into its message; `authorized`: it carries a moderator's capability. */
  const fold = (
    row: IndexRow,
    doc: OpDocument,
    lamport: number,
    opId: string,
    clock: Clock,
    authorized: boolean,
  ): boolean => {
    if (row.deleted) return false;
    const isNew = newRows.has(row.id);
    if (doc.type === "Update") {
      if (doc.actor !== row.author || !wins(lamport, opId, row)) return false;
      Object.assign(row, {
        content: doc.content,
        updated: doc.published,
        editLamport: lamport,
        editOp: opId,
      });
      changes.set(row.id, isNew ? "created" : "updated");
    } else if (doc.type === "Delete") {
      if (doc.actor !== row.author && !authorized) return false;
      Object.assign(row, { content: "", deleted: true, attachments: null });
      quads.push(
        quad(iri(row.id), H.deleted, dateTime(doc.published), row.channel),
        quad(iri(row.id), H.deletedBy, iri(doc.actor), row.channel),
      );
      changes.set(row.id, "deleted");
    } else {
      return false;
    }
    if (!isNew) {
      staleQuads.push([row.channel, row.id]);
      changedRows.set(row.id, row);
    }
    row.revision = ++clock.revision;
    return true;
  };

  /** Appends an operation to the log: its quads and its op_log row. */
  const logOp = (
    channel: string,
    opId: string,
    doc: OpDocument | RedactedOp,
    envelope: Envelope,
    authority: Capability | null = null,
  ) => {
    const position = nextPosition++;
    const document = JSON.stringify(doc);
    const subject = iri(logEntryIri(channel, position));
    quads.push(
      quad(subject, RDF.type, H.Operation, channel),
      quad(subject, H.origin, iri(envelope.origin), channel),
      quad(subject, H.seq, integer(envelope.seq), channel),
      quad(subject, H.lamport, integer(envelope.lamport), channel),
      quad(subject, H.document, literal(document, RDF_JSON), channel),
    );
    const authorityJson = authority ? JSON.stringify(authority) : null;
    if (authorityJson) quads.push(quad(subject, H.capability, literal(authorityJson, RDF_JSON), channel));
    opRows.push({
      position,
      id: opId,
      channel,
      origin: envelope.origin,
      seq: envelope.seq,
      lamport: envelope.lamport,
      kind: doc.type,
      target: targetOf(doc),
      actor: actorOf(doc),
      document,
      authority: authorityJson,
    });
    known.add(opId);
    slots.add(`${channel} ${envelope.origin} ${envelope.seq}`);
    const key = `${channel} ${envelope.origin}`;
    if (envelope.seq <= MAX_SEQ) originSeqs.set(key, Math.max(originSeqs.get(key) ?? 0, envelope.seq));
  };

  /** Takes a peer's placeholder out of the log: the signed operation for its place has arrived. */
  const evict = async (channel: string, placeholder: { position: number; id: string }) => {
    await sql.run("DELETE FROM op_log WHERE position = ?", [placeholder.position]);
    await sql.run("DELETE FROM quads WHERE graph = ? AND subject = ?", [
      channel,
      logEntryIri(channel, placeholder.position),
    ]);
    known.delete(placeholder.id);
  };

  for (const item of batch) {
    const { doc, opId, channel } = item;
    const local = item.envelope === null;
    const target = targetOf(doc);
    try {
      if (item.invocation) {
        if (usedProofs.has(item.invocation.proofValue)) {
          throw new Refused(
            401,
            "replayed_invocation",
            "this invocation was already used; each delivery must be signed anew",
          );
        }
        usedProofs.add(item.invocation.proofValue);
        newProofs.push([item.invocation.proofValue, item.invocation.expires]);
      }
      if (known.has(opId)) {
        const row = rows.get(target);
        outcomes.push({ status: "duplicate", message: row ? toView(row) : null, opId });
        continue;
      }
      if (isRedacted(doc)) {
        // A deleted message's post or edit, as a peer keeps it: it only fills its place in the
        // log (so version vectors move on), is never folded into anything, and is named after
        // that place, not after the operation it claims to have been.
        if (local || (doc.type !== "Message" && doc.type !== "Update")) {
          throw new Refused(422, "malformed_operation", "only a peer's post or edit may arrive redacted");
        }
        const envelope = item.envelope!;
        if (opId !== await placeholderId(doc.channel, envelope) || doc.opId !== opId) {
          throw new Refused(422, "malformed_operation", "a redacted operation is named after its place");
        }
        await checkEnvelope(channel, envelope);
        if ((await slotOf(channel, envelope)).taken) {
          // That place is filled already (by the operation itself, or its trace): nothing to add.
          outcomes.push({ status: "duplicate", message: null, opId });
          continue;
        }
        const clock = await clockOf(channel);
        clock.lamport = Math.max(clock.lamport, envelope.lamport);
        logOp(channel, opId, doc, envelope);
        outcomes.push({ status: "logged", message: null, opId });
        continue;
      }
      if (item.maxSkewMs !== undefined && Math.abs(Date.parse(doc.published) - now) > item.maxSkewMs) {
        throw new Refused(
          422,
          "clock_skew",
          `the signed time is more than ${
            Math.round(item.maxSkewMs / 60_000)
          } minutes away from the server's clock; check your clock`,
        );
      }
      const clock = await clockOf(channel);
      let placeholder: { position: number; id: string } | null = null;
      if (!local) {
        await checkEnvelope(channel, item.envelope!);
        const slot = await slotOf(channel, item.envelope!);
        if (slot.taken && !slot.placeholder) {
          const { origin, seq } = item.envelope!;
          throw new Refused(
            409,
            "sequence_taken",
            `${origin} already sent another operation numbered ${seq}`,
          );
        }
        // A peer's trace holds this place: the signed operation replaces it once it is accepted.
        placeholder = slot.placeholder;
      }
      const lamport = local ? Math.min(clock.lamport + 1, MAX_LAMPORT) : item.envelope!.lamport;
      const current = rows.get(target);
      // Authority, whoever made the operation and wherever it came from.
      const authority = item.authority ?? null;
      const needs = moderationAction(doc, current?.author ?? null);
      if (doc.type !== "Message" && current && current.channel !== channel) {
        throw new Refused(404, "not_found", "there is no such message in this channel");
      }
      if (doc.type === "Update" && current && current.author !== doc.actor) {
        throw new Refused(403, "not_author", "only the author can edit a message");
      }
      const authorized = authority !== null && doc.type !== "Message" &&
        authorityCovers(authority, doc.actor, doc.channel, doc.type === "Delete" ? "delete-any" : "pin");
      if (needs && (current || needs === "pin") && !authorized) {
        throw new Refused(
          403,
          "not_authorized",
          needs === "pin"
            ? "pinning needs a capability for it"
            : "only the author, or a member allowed to delete anyone's messages, can delete a message",
        );
      }
      let outcome: Outcome;
      if (isConversationOp(doc)) {
        // Reactions and pins: folded into their own state, whether or not the message is here yet.
        if (local && !current) {
          throw new Refused(404, "not_found", "there is no such message in this channel");
        }
        if (local && current!.deleted) throw new Refused(410, "message_deleted", "the message was deleted");
        let changed: boolean;
        try {
          changed = await conversation.apply(doc, opId, channel, lamport, local);
        } catch (error) {
          const e = error as { status?: number; code?: string; message: string };
          if (e.status && e.code) throw new Refused(e.status, e.code, e.message);
          throw error;
        }
        if (changed) touch(current, clock);
        outcome = changed && current
          ? { status: "applied", message: toView(current), opId }
          : { status: "logged", message: current ? toView(current) : null, opId };
      } else if (doc.type === "Message") {
        if (current) {
          throw current.deleted
            ? new Refused(410, "message_deleted", "the message with this id was deleted")
            : new Refused(409, "id_taken", "another message already has this id");
        }
        const row: IndexRow = {
          id: doc.id,
          channel,
          lamport,
          author: doc.attributedTo,
          content: doc.content,
          published: doc.published,
          updated: null,
          editLamport: null,
          editOp: null,
          deleted: false,
          revision: ++clock.revision,
          attachments: doc.attachment?.length ? JSON.stringify(doc.attachment) : null,
          inReplyTo: doc.inReplyTo ?? null,
          threadRoot: doc.thread ?? null,
        };
        rows.set(doc.id, row);
        newRows.set(doc.id, row);
        changes.set(doc.id, "created");
        if (doc.thread) touch(rows.get(doc.thread), clock);
        // Edits and deletions of this channel that came first now find their message (their
        // signatures were checked when they arrived; redacted traces are never folded).
        const early = (waiting.get(doc.id) ?? []).filter((w) => w.channel === channel);
        if (!local) {
          // By target alone (its index): whatever else names this id is sorted out here.
          let strays = false;
          for (
            const r of await sql.all(
              "SELECT id, channel, kind, lamport, document, authority FROM op_log WHERE target = ?",
              [
                doc.id,
              ],
            )
          ) {
            if (r.channel !== channel) {
              // A reaction or pin that named this id through another channel's bridge before the
              // message came: it does not belong to this message.
              if (isConversationOp({ type: String(r.kind) })) strays = true;
              continue;
            }
            if (r.kind !== "Update" && r.kind !== "Delete") continue;
            const waiter = JSON.parse(String(r.document));
            if (isRedacted(waiter)) continue;
            early.push({
              opId: String(r.id),
              lamport: Number(r.lamport),
              doc: waiter,
              channel,
              authorized: r.authority != null &&
                authorityCovers(JSON.parse(String(r.authority)), waiter.actor, waiter.channel, "delete-any"),
            });
          }
          if (strays) {
            await sql.run("DELETE FROM reactions WHERE message = ? AND channel != ?", [doc.id, channel]);
            await sql.run("DELETE FROM pins WHERE message = ? AND channel != ?", [doc.id, channel]);
          }
        }
        for (const waiter of early.sort((a, b) => a.lamport - b.lamport)) {
          fold(row, waiter.doc, waiter.lamport, waiter.opId, clock, waiter.authorized);
        }
        waiting.delete(doc.id);
        outcome = { status: "applied", message: toView(row), opId };
      } else if (!current) {
        if (local) throw new Refused(404, "not_found", "there is no such message");
        const list = waiting.get(target) ?? [];
        list.push({ opId, doc, lamport, channel, authorized });
        waiting.set(target, list);
        outcome = { status: "logged", message: null, opId };
      } else {
        if (doc.type === "Update" && local && current.deleted) {
          throw new Refused(410, "deleted", "the message was deleted");
        }
        if (doc.type === "Update" && local && current.updated !== null) {
          if (Date.parse(current.updated) >= Date.parse(doc.published)) {
            throw new Refused(409, "stale_edit", "a newer edit of this message is already stored");
          }
        }
        const changed = fold(current, doc, lamport, opId, clock, authorized);
        outcome = { status: changed ? "applied" : "logged", message: toView(current), opId };
      }
      // The operation joins the log.
      clock.lamport = Math.max(clock.lamport, lamport);
      const envelope = item.envelope ?? { origin: self, seq: ++clock.seq, lamport };
      if (envelope.origin === self) clock.seq = Math.max(clock.seq, envelope.seq);
      if (placeholder) await evict(channel, placeholder);
      logOp(channel, opId, doc, envelope, needs && authorized ? authority : null);
      outcomes.push(outcome);
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      outcomes.push({ refused: { status: error.status, code: error.code, message: error.message } });
    }
  }

  // ---- redact the text of deleted messages from their posts and edits
  const deletedNow = [...changes].filter(([, kind]) => kind === "deleted").map(([id]) => id);
  for (const op of opRows) {
    if ((op.kind === "Message" || op.kind === "Update") && rows.get(op.target)?.deleted) {
      if (isRedacted(JSON.parse(op.document))) continue;
      op.document = JSON.stringify(redact(JSON.parse(op.document), op.id));
      const entry = quads.find((q) =>
        q.subject.value === logEntryIri(op.channel, op.position) && q.predicate.value === H.document.value
      );
      if (entry) {
        quads[quads.indexOf(entry)] = quad(
          entry.subject,
          H.document,
          literal(op.document, RDF_JSON),
          entry.graph,
        );
      }
    }
  }
  for (const target of deletedNow) {
    const earlier = await sql.all(
      "SELECT position, id, channel, document FROM op_log WHERE target = ? AND kind IN ('Message', 'Update')",
      [target],
    );
    for (const r of earlier) {
      const doc = JSON.parse(String(r.document));
      if (isRedacted(doc)) continue;
      const document = JSON.stringify(redact(doc, String(r.id)));
      const subject = logEntryIri(String(r.channel), Number(r.position));
      await sql.run("UPDATE op_log SET document = ? WHERE position = ?", [document, r.position]);
      await sql.run("DELETE FROM quads WHERE graph = ? AND subject = ? AND predicate = ?", [
        r.channel,
        subject,
        H.document.value,
      ]);
      quads.push(quad(iri(subject), H.document, literal(document, RDF_JSON), String(r.channel)));
    }
  }

  // ---- write everything the batch produced
  for (let i = 0; i < newProofs.length; i += rowsPerInsert) {
    const chunk = newProofs.slice(i, i + rowsPerInsert);
    await sql.run(
      `INSERT INTO seen_invocations (proof_value, expires) VALUES ${placeholders(chunk.length, 2)}`,
      chunk.flat(),
    );
  }
  if (newProofs.length && now % 64 === 0) {
    // Now and then, forget proofs past their freshness: they can never be accepted again.
    await sql.run("DELETE FROM seen_invocations WHERE expires < ?", [now]);
  }
  const editPredicates = [AS.content, AS.updated, H.editLamport, H.editOp, H.attachments].map((p) => p.value);
  for (const [graph, subject] of staleQuads) {
    await sql.run(
      `DELETE FROM quads WHERE graph = ? AND subject = ? AND predicate IN (${inList(editPredicates.length)})`,
      [graph, subject, ...editPredicates],
    );
  }
  for (const row of [...newRows.values(), ...changedRows.values()]) {
    quads.push(...messageQuads(row, newRows.has(row.id)));
  }
  for (let i = 0; i < quads.length; i += rowsPerInsert) {
    const chunk = quads.slice(i, i + rowsPerInsert).map(quadRow);
    await sql.run(
      `INSERT INTO quads (graph, subject, predicate, object, object_kind, datatype, language) VALUES ${
        placeholders(chunk.length, 7)
      } ON CONFLICT DO NOTHING`,
      chunk.flatMap((r) => [r.graph, r.subject, r.predicate, r.object, r.objectKind, r.datatype, r.language]),
    );
  }
  const inserted = [...newRows.values()];
  for (let i = 0; i < inserted.length; i += rowsPerInsert) {
    const chunk = inserted.slice(i, i + rowsPerInsert);
    await sql.run(
      `INSERT INTO message_index (id, channel, lamport, author, content, published, updated, edit_lamport, edit_op,
         deleted, revision, attachments, in_reply_to, thread_root) VALUES ${placeholders(chunk.length, 14)}`,
      chunk.flatMap((r) => [
        r.id,
        r.channel,
        r.lamport,
        r.author,
        r.content,
        r.published,
        r.updated,
        r.editLamport,
        r.editOp,
        r.deleted ? 1 : 0,
        r.revision,
        r.attachments ?? null,
        r.inReplyTo ?? null,
        r.threadRoot ?? null,
      ]),
    );
  }
  await conversation.write();
  for (const r of touched.values()) {
    if (changedRows.has(r.id)) continue;
    await sql.run("UPDATE message_index SET revision = ? WHERE id = ?", [r.revision, r.id]);
  }
  for (const r of changedRows.values()) {
    await sql.run(
      `UPDATE message_index SET content = ?, updated = ?, edit_lamport = ?, edit_op = ?, deleted = ?, revision = ?,
         attachments = ? WHERE id = ?`,
      [
        r.content,
        r.updated,
        r.editLamport,
        r.editOp,
        r.deleted ? 1 : 0,
        r.revision,
        r.attachments ?? null,
        r.id,
      ],
    );
  }
  for (let i = 0; i < opRows.length; i += rowsPerInsert) {
    const chunk = opRows.slice(i, i + rowsPerInsert);
    await sql.run(
      `INSERT INTO op_log (position, id, channel, origin, seq, lamport, kind, target, actor, document, authority)
         VALUES ${placeholders(chunk.length, 11)}`,
      chunk.flatMap((r) => [
        r.position,
        r.id,
        r.channel,
        r.origin,
        r.seq,
        r.lamport,
        r.kind,
        r.target,
        r.actor,
        r.document,
        r.authority,
      ]),
    );
  }
  for (const [i, item] of batch.entries()) {
    const outcome = outcomes[i];
    if (item.audit && "status" in outcome && outcome.status === "applied") {
      await appendEntry(sql, self, item.audit, new Date(now));
    }
  }
  // Mentions (server/attention): derived rows and quads of the messages this batch changed.
  await indexMentions(sql, batch, [...changes].map(([id, kind]) => ({ kind, row: rows.get(id)! })));
  return {
    outcomes,
    // In revision order: a live stream skips anything older than what it last sent.
    changes: [...changes].map(([id, kind]) => ({ kind, message: toView(rows.get(id)!) }))
      .sort((a, b) => a.message.revision - b.message.revision),
  };
}

/** The quads of a message's state (all of them for a new message, the edit ones otherwise). */
function messageQuads(row: IndexRow, whole: boolean): Quad[] {
  const s = iri(row.id);
  const g = row.channel;
  const out: Quad[] = [];
  if (whole) {
    out.push(
      quad(s, RDF.type, H.Message, g),
      quad(s, AS.attributedTo, iri(row.author), g),
      quad(s, AS.published, dateTime(row.published), g),
      quad(s, H.lamport, integer(row.lamport), g),
    );
    if (row.inReplyTo) out.push(quad(s, AS.inReplyTo, iri(row.inReplyTo), g));
    if (row.threadRoot) out.push(quad(s, H.thread, iri(row.threadRoot), g));
  }
  if (!row.deleted) {
    out.push(quad(s, AS.content, literal(row.content), g));
    if (row.attachments) out.push(quad(s, H.attachments, literal(row.attachments, RDF_JSON), g));
    if (row.updated !== null) {
      out.push(
        quad(s, AS.updated, dateTime(row.updated), g),
        quad(s, H.editLamport, integer(row.editLamport!), g),
        quad(s, H.editOp, iri(row.editOp!), g),
      );
    }
  }
  return out;
}
