/**
 * The derived `mentions` table: written by applyBatch (oplog.ts) in the same
 * transaction as the messages it changes (so on the writer worker too: this
 * module imports nothing but SQL helpers), and rebuilt from the
 * `harmony:mentions` quads (server/exchange/indexes.ts).
 */
import { sql as dsql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import type { SqlTransaction } from "../../db/sql.ts";
import { quadRow } from "../../db/quadRow.ts";
import { iri, quad } from "../../db/terms.ts";
import type { IndexRow, OpSubmission } from "../messages/oplog.ts";
import { H } from "../rdf/vocab.ts";

/** The mentions a signed document carries (a redacted or fediverse one carries none). */
function mentionsOf(doc: unknown): string[] {
  const list = (doc as { mentions?: unknown })?.mentions;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
}

/**
 * The hook applyBatch calls before it returns: for each message the batch
 * created, edited or deleted, replace its `harmony:mentions` quads and its
 * rows in `mentions` by those of the operation that now wins (the post, or
 * the winning edit); a deleted message mentions nobody.
 */
export async function indexMentions(
  sql: SqlTransaction,
  batch: OpSubmission[],
  changed: Array<{ kind: string; row: IndexRow }>,
): Promise<void> {
  if (changed.length === 0) return;
  const byOp = new Map(batch.map((b) => [b.opId, b.doc]));
  const posts = new Map<string, unknown>();
  for (const b of batch) if (b.doc.type === "Message" && "id" in b.doc) posts.set(b.doc.id, b.doc);
  for (const { kind, row } of changed) {
    let targets: string[] = [];
    if (kind !== "deleted" && !row.deleted) {
      let doc = row.editOp ? byOp.get(row.editOp) : posts.get(row.id);
      if (doc === undefined) {
        const [r] = row.editOp
          ? await sql.all("SELECT document FROM op_log WHERE id = ?", [row.editOp])
          : await sql.all("SELECT document FROM op_log WHERE target = ? AND kind = 'Message' LIMIT 1", [
            row.id,
          ]);
        doc = r ? JSON.parse(String(r.document)) : null;
      }
      targets = mentionsOf(doc);
    }
    if (kind !== "created") {
      await sql.run("DELETE FROM mentions WHERE message = ?", [row.id]);
      await sql.run("DELETE FROM quads WHERE graph = ? AND subject = ? AND predicate = ?", [
        row.channel,
        row.id,
        H.mentions.value,
      ]);
    }
    for (const target of targets) {
      await sql.run(
        "INSERT INTO mentions (message, target, channel, author, lamport) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [row.id, target, row.channel, row.author, row.lamport],
      );
      const q = quadRow(quad(iri(row.id), H.mentions, iri(target), row.channel));
      await sql.run(
        `INSERT INTO quads (graph, subject, predicate, object, object_kind, datatype, language)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [q.graph, q.subject, q.predicate, q.object, q.objectKind, q.datatype, q.language],
      );
    }
  }
}

/** Rebuilds the `mentions` table from the `harmony:mentions` quads of messages still standing. */
export async function rebuildMentions(q: Queryable): Promise<number> {
  await q.run(dsql`DELETE FROM mentions`);
  await q.run(dsql`INSERT INTO mentions (message, target, channel, author, lamport)
    SELECT m.id, x.object, m.channel, m.author, m.lamport FROM quads x
    JOIN message_index m ON m.id = x.subject AND m.channel = x.graph
    WHERE x.predicate = ${H.mentions.value} AND m.deleted = 0
    ON CONFLICT DO NOTHING`);
  const [row] = await q.all<{ n: number }>(dsql`SELECT count(*) AS n FROM mentions`);
  return Number(row?.n ?? 0);
}
