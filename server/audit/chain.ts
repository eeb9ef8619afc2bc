/**
 * The audit log's hash chain: appending an entry inside an open write
 * transaction, and the entry's hash. Plain SQL and no Harmony object, so
 * the writer worker (server/messages/opWorker.ts) appends the entries of message
 * deletions in the same transaction as the deletion itself.
 *
 * An entry is { seq, action, target, actor, capability, at, prevHash,
 * arguments, evidence }; its hash is the hex SHA-256 of its JCS form
 * (RFC 8785), which includes the previous entry's hash. `evidence` is the
 * signed document behind it: the acting member's signed Action, or the
 * signed Delete or delegation the request carried.
 *
 * Stored twice in one transaction: as quads in the graph {origin}/audit (the
 * source of truth) and as a row of audit_log (paging, the head, replays).
 */
import { quadRow } from "../../db/quadRow.ts";
import type { SqlTransaction } from "../../db/sql.ts";
import { dateTime, integer, iri, literal, type Quad, quad } from "../../db/terms.ts";
import { canonicalize } from "../crypto/jcs.ts";
import { HarmonyError } from "../shared/errors.ts";
import { sha256Hex } from "../shared/ids.ts";
import { RDF, RDF_JSON } from "../rdf/vocab.ts";
import { A } from "./vocab.ts";

/** The "previous hash" of the first entry. */
export const GENESIS = "0".repeat(64);

/** What an action contributes to its entry; the log adds seq, time and the chain. */
export interface AuditDraft {
  action: string;
  target: string;
  actor: string;
  /** The capability invoked (null only where none was, e.g. the community's own automatic actions). */
  capability: string | null;
  arguments?: Record<string, unknown> | null;
  evidence: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  action: string;
  target: string;
  actor: string;
  capability: string | null;
  at: string;
  prevHash: string;
  arguments: Record<string, unknown> | null;
  evidence: Record<string, unknown>;
  hash: string;
}

export const auditGraph = (origin: string) => `${origin}/audit`;
export const entryIri = (origin: string, seq: number) => `${origin}/audit/${String(seq).padStart(12, "0")}`;

/** The part of an entry its hash covers (everything but the hash). */
export function hashedPart(entry: Omit<AuditEntry, "hash"> | AuditEntry): Record<string, unknown> {
  return {
    seq: entry.seq,
    action: entry.action,
    target: entry.target,
    actor: entry.actor,
    capability: entry.capability,
    at: entry.at,
    prevHash: entry.prevHash,
    arguments: entry.arguments,
    evidence: entry.evidence,
  };
}

export function entryHash(entry: Omit<AuditEntry, "hash"> | AuditEntry): Promise<string> {
  return sha256Hex(canonicalize(hashedPart(entry)));
}

/** A signed document is used once: its key is the hash of its proof value. */
export function evidenceKey(evidence: Record<string, unknown>): Promise<string> {
  const proof = evidence.proof as { proofValue?: unknown } | undefined;
  const value = typeof proof?.proofValue === "string" ? proof.proofValue : canonicalize(evidence);
  return sha256Hex(value);
}

export function entryQuads(origin: string, entry: AuditEntry): Quad[] {
  const g = auditGraph(origin);
  const s = iri(entryIri(origin, entry.seq));
  const out = [
    quad(s, RDF.type, A.AuditEntry, g),
    quad(s, A.seq, integer(entry.seq), g),
    quad(s, A.action, literal(entry.action), g),
    quad(s, A.target, iri(entry.target), g),
    quad(s, A.actor, iri(entry.actor), g),
    quad(s, A.published, dateTime(entry.at), g),
    quad(s, A.previousHash, literal(entry.prevHash), g),
    quad(s, A.entryHash, literal(entry.hash), g),
    quad(s, A.evidence, literal(JSON.stringify(entry.evidence), RDF_JSON), g),
  ];
  if (entry.capability) out.push(quad(s, A.capabilityInvoked, iri(entry.capability), g));
  if (entry.arguments) out.push(quad(s, A.arguments, literal(JSON.stringify(entry.arguments), RDF_JSON), g));
  return out;
}

/** An entry read back from its quads (predicate → object value), or null when they are incomplete. */
export function entryFromProperties(props: Map<string, string>): AuditEntry | null {
  const get = (term: { value: string }) => props.get(term.value);
  const seq = Number(get(A.seq));
  const fields = [A.action, A.target, A.actor, A.published, A.previousHash, A.entryHash, A.evidence];
  if (!Number.isSafeInteger(seq) || fields.some((f) => get(f) === undefined)) return null;
  try {
    return {
      seq,
      action: get(A.action)!,
      target: get(A.target)!,
      actor: get(A.actor)!,
      capability: get(A.capabilityInvoked) ?? null,
      at: get(A.published)!,
      prevHash: get(A.previousHash)!,
      arguments: get(A.arguments) === undefined ? null : JSON.parse(get(A.arguments)!),
      evidence: JSON.parse(get(A.evidence)!),
      hash: get(A.entryHash)!,
    };
  } catch {
    return null;
  }
}

export function entryFromRow(r: Record<string, unknown>): AuditEntry {
  return {
    seq: Number(r.seq),
    action: String(r.action),
    target: String(r.target),
    actor: String(r.actor),
    capability: r.capability === null || r.capability === undefined ? null : String(r.capability),
    at: String(r.at),
    prevHash: String(r.prev_hash ?? r.prevHash),
    arguments: r.arguments === null || r.arguments === undefined ? null : JSON.parse(String(r.arguments)),
    evidence: JSON.parse(String(r.evidence)),
    hash: String(r.hash),
  };
}

/**
 * Appends an entry to the chain inside the open transaction `sql`: the
 * next sequence number, the previous entry's hash, the time now. A signed
 * document already in the log is refused (409): each action is signed anew.
 */
export async function appendEntry(
  sql: SqlTransaction,
  origin: string,
  draft: AuditDraft,
  now = new Date(),
): Promise<AuditEntry> {
  const key = await evidenceKey(draft.evidence);
  if ((await sql.all("SELECT 1 FROM audit_log WHERE evidence_key = ?", [key])).length > 0) {
    throw new HarmonyError(409, "replayed_action", "this signed action was already used; sign it anew");
  }
  const [last] = await sql.all("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  const body = {
    seq: last ? Number(last.seq) + 1 : 1,
    action: draft.action,
    target: draft.target,
    actor: draft.actor,
    capability: draft.capability,
    at: now.toISOString(),
    prevHash: last ? String(last.hash) : GENESIS,
    arguments: draft.arguments && Object.keys(draft.arguments).length ? draft.arguments : null,
    evidence: draft.evidence,
  };
  const entry: AuditEntry = { ...body, hash: await entryHash(body) };
  await sql.run(
    `INSERT INTO audit_log (seq, hash, prev_hash, action, target, actor, capability, at, arguments, evidence,
       evidence_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      entry.seq,
      entry.hash,
      entry.prevHash,
      entry.action,
      entry.target,
      entry.actor,
      entry.capability,
      entry.at,
      entry.arguments ? JSON.stringify(entry.arguments) : null,
      JSON.stringify(entry.evidence),
      key,
    ],
  );
  const rows = entryQuads(origin, entry).map(quadRow);
  await sql.run(
    `INSERT INTO quads (graph, subject, predicate, object, object_kind, datatype, language) VALUES ${
      rows.map(() => "(?,?,?,?,?,?,?)").join(",")
    } ON CONFLICT DO NOTHING`,
    rows.flatMap((r) => [r.graph, r.subject, r.predicate, r.object, r.objectKind, r.datatype, r.language]),
  );
  return entry;
}
