/**
 * The audit log as the rest of the server uses it: appending inside a
 * write transaction, the signed action a request carries, reading pages,
 * and checking the whole log (chain, signatures, and that the table agrees
 * with the quads it is derived from).
 */
import { asc, desc, gt, sql } from "drizzle-orm";
import type { Queryable, Tx } from "../../db/client.ts";
import { auditLog } from "../../db/schema.ts";
import { quadStore } from "../../db/quadstore.ts";
import { sqlOver, type SqlTransaction } from "../../db/sql.ts";
import { allowed } from "../authority/authorize.ts";
import { communityKey } from "../capabilities/communityKey.ts";
import { canonicalize } from "../crypto/jcs.ts";
import { signAction } from "../documents/documents.ts";
import { forbidden, invalid, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { checkClock, type SignedAction, verifySigned } from "../documents/signed.ts";
import { RDF } from "../rdf/vocab.ts";
import {
  appendEntry,
  type AuditDraft,
  type AuditEntry,
  auditGraph,
  entryFromProperties,
  entryFromRow,
  evidenceKey,
  hashedPart,
} from "./chain.ts";
import { A } from "./vocab.ts";
import { type Verification, verifyEntries } from "./verify.ts";

export type { AuditDraft, AuditEntry };

/** Plain SQL over the open transaction a query builder `tx` runs on (h.database.write gives one). */
export function sqlOf(tx: Tx): SqlTransaction {
  return sqlOver((tx as unknown as { $client: Parameters<typeof sqlOver>[0] }).$client);
}

/** Appends an entry inside the caller's write transaction (h.database.write / writeCommunity / writeAuthority). */
export function recordAudit(tx: Tx, h: Harmony, draft: AuditDraft): Promise<AuditEntry> {
  return appendEntry(sqlOf(tx), h.config.origin, draft);
}

/** An action's arguments without the community it was signed for. */
export function argumentsOf(doc: SignedAction): Record<string, unknown> {
  const { community: _community, ...rest } = doc.arguments ?? {};
  return rest;
}

/**
 * Checks the signed Action a request carries: its shape and signature, that
 * the signed-in actor signed it, for this community, recently, and (when
 * given) for the expected action, target and arguments.
 */
export async function checkSignedAction(
  h: Harmony,
  actor: Actor,
  value: unknown,
  expect: { action?: string; target?: string; arguments?: Record<string, unknown> } = {},
): Promise<SignedAction> {
  if (!actor.did) throw unauthorized("sign in first");
  if (value === undefined || value === null) {
    throw invalid("missing_action", 'send the action you signed as "action" (a signed Action document)');
  }
  const doc = await verifySigned("Action", value);
  if (doc.actor !== actor.did) throw forbidden("you can only send actions you signed yourself");
  const args = doc.arguments ?? {};
  if (args.community !== h.iris.community) {
    throw invalid("wrong_community", "the action was signed for another community");
  }
  if (args.onBehalfOf !== undefined) {
    throw invalid("malformed_document", '"onBehalfOf" is the community\'s own');
  }
  checkClock(doc.published);
  if (expect.action !== undefined && doc.action !== expect.action) {
    throw invalid("wrong_action", `the signed action is "${doc.action}"; this request is "${expect.action}"`);
  }
  if (expect.target !== undefined && doc.target !== expect.target) {
    throw invalid("wrong_target", "the signed action names another target than this request");
  }
  if (expect.arguments !== undefined && canonicalize(argumentsOf(doc)) !== canonicalize(expect.arguments)) {
    throw invalid("wrong_arguments", "the signed action's arguments differ from this request's");
  }
  return doc;
}

/** A draft entry from a verified signed action. */
export function draftFromAction(doc: SignedAction, capability: string | null): AuditDraft {
  const args = argumentsOf(doc);
  return {
    action: doc.action,
    target: doc.target,
    actor: doc.actor,
    capability,
    arguments: Object.keys(args).length ? args : null,
    evidence: doc as unknown as Record<string, unknown>,
  };
}

/** An action the community itself takes (raid lock), signed by the community key. */
export async function communityAction(
  h: Harmony,
  action: string,
  target: string,
  args: Record<string, unknown> = {},
): Promise<AuditDraft> {
  const key = await communityKey(h);
  const doc = await signAction(key.keySigner, {
    action,
    target,
    community: h.iris.community,
    arguments: args,
  });
  return draftFromAction(doc, null);
}

/**
 * The entry for a role, ownership or capability change: the request must
 * carry the actor's own signed Action for exactly this change (the CLI and
 * the browser sign it with the member's key), so every entry in the log is
 * signed by the key that acted.
 */
export async function auditFor(
  h: Harmony,
  actor: Actor,
  signed: unknown,
  what: { action: string; target: string; capability: string | null; arguments?: Record<string, unknown> },
): Promise<AuditDraft> {
  const value = typeof signed === "string" && signed !== ""
    ? parseJson(signed)
    : signed === ""
    ? undefined
    : signed;
  const doc = await checkSignedAction(h, actor, value, { ...what, arguments: what.arguments ?? {} });
  return draftFromAction(doc, what.capability);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid("malformed_document", "the signed action is not valid JSON");
  }
}

/** Members read the log; so does anyone holding view-audit (a bot, say). */
export async function requireAuditReader(h: Harmony, actor: Actor): Promise<void> {
  if (!actor.did) throw unauthorized("sign in to read the moderation log");
  if ((await h.snapshot()).members.has(actor.did)) return;
  if (await allowed(h, actor.did, "view-audit")) return;
  throw forbidden("only members can read the moderation log");
}

export const MAX_PAGE = 500;

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `after` for the next page; null at the end. */
  next: number | null;
  head: { seq: number; hash: string } | null;
}

/** Entries after `after` (a sequence number), oldest first. */
export async function readEntries(
  q: Queryable,
  options: { after?: number; limit?: number } = {},
): Promise<AuditPage> {
  const limit = Math.min(Math.max(options.limit ?? 100, 1), MAX_PAGE);
  const rows = await q.select().from(auditLog).where(gt(auditLog.seq, options.after ?? 0))
    .orderBy(asc(auditLog.seq)).limit(limit + 1);
  const entries = rows.slice(0, limit).map((r) => entryFromRow({ ...r, prev_hash: r.prevHash }));
  const [last] = await q.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog)
    .orderBy(desc(auditLog.seq)).limit(1);
  return {
    entries,
    next: rows.length > limit ? entries[entries.length - 1].seq : null,
    head: last ?? null,
  };
}

/** Every entry, oldest first (the table), and the entries as their quads say. */
async function allEntries(
  h: Harmony,
): Promise<{ table: AuditEntry[]; quads: Map<number, AuditEntry | null> }> {
  const rows = await h.db.select().from(auditLog).orderBy(asc(auditLog.seq));
  const table = rows.map((r) => entryFromRow({ ...r, prev_hash: r.prevHash }));
  const bySubject = new Map<string, Map<string, string>>();
  for (const q of await quadStore.match(h.db, { graph: auditGraph(h.config.origin) })) {
    let props = bySubject.get(q.subject.value);
    if (!props) bySubject.set(q.subject.value, props = new Map());
    props.set(q.predicate.value, q.object.value);
  }
  const quads = new Map<number, AuditEntry | null>();
  for (const [subject, props] of bySubject) {
    const seq = Number(subject.slice(subject.lastIndexOf("/") + 1));
    quads.set(seq, entryFromProperties(props));
  }
  return { table, quads };
}

/**
 * Checks the whole log here: the chain and every signature (as the CLI
 * does over the API), and that each row of the table says what its quads
 * say, so altering or deleting either is caught at that entry.
 */
export async function verifyLog(h: Harmony): Promise<Verification> {
  const context = { community: h.iris.community };
  const { table, quads } = await allEntries(h);
  const result = await verifyEntries(table, context);
  const seqs = [...new Set([...table.map((e) => e.seq), ...quads.keys()])].sort((a, b) => a - b);
  const rows = new Map(table.map((e) => [e.seq, e]));
  let mismatch: { seq: number; reason: string } | null = null;
  for (const seq of seqs) {
    const row = rows.get(seq);
    const stored = quads.get(seq);
    if (!row) mismatch = { seq, reason: `entry ${seq} is missing from the log table (its quads remain)` };
    else if (!stored) {
      mismatch = { seq, reason: `entry ${seq} has no quads, or they are incomplete (deleted or altered)` };
    } else if (
      canonicalize({ ...hashedPart(row), hash: row.hash }) !==
        canonicalize({ ...hashedPart(stored), hash: stored.hash })
    ) {
      mismatch = {
        seq,
        reason: `entry ${seq} in the log table differs from its quads (one of them was altered)`,
      };
    }
    if (mismatch) break;
  }
  if (!mismatch || (result.failure && result.failure.seq <= mismatch.seq)) return result;
  const head = table.filter((e) => e.seq < mismatch!.seq).at(-1) ?? null;
  return {
    ok: false,
    checked: head ? head.seq : 0,
    head: head ? { seq: head.seq, hash: head.hash } : null,
    failure: mismatch,
  };
}

/**
 * Rebuilds audit_log from the entries' quads (after an import; see
 * server/exchange/indexes.ts). Entries are taken as the quads say: verification
 * then tells whether they still chain.
 */
export async function rebuildAuditLog(q: Queryable): Promise<number> {
  await q.delete(auditLog);
  const rows = await q.all<{ subject: string; predicate: string; object: string }>(sql`
    SELECT subject, predicate, object FROM quads WHERE subject IN (
      SELECT subject FROM quads WHERE predicate = ${RDF.type.value} AND object = ${A.AuditEntry.value}
        AND object_kind = 0
    ) ORDER BY id`);
  const bySubject = new Map<string, Map<string, string>>();
  for (const r of rows) {
    let props = bySubject.get(r.subject);
    if (!props) bySubject.set(r.subject, props = new Map());
    props.set(r.predicate, r.object);
  }
  const entries = [...bySubject.values()].map(entryFromProperties).filter((e): e is AuditEntry => e !== null);
  for (const e of entries) {
    await q.insert(auditLog).values({
      seq: e.seq,
      hash: e.hash,
      prevHash: e.prevHash,
      action: e.action,
      target: e.target,
      actor: e.actor,
      capability: e.capability,
      at: e.at,
      arguments: e.arguments ? JSON.stringify(e.arguments) : null,
      evidence: JSON.stringify(e.evidence),
      evidenceKey: await evidenceKey(e.evidence),
    }).onConflictDoNothing();
  }
  return entries.length;
}
