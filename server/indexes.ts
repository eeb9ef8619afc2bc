/**
 * Derived tables are caches of the quads. This rebuilds them, so they can
 * always be thrown away (after an import, or to repair a database).
 */
import { asc, inArray, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { messageIndex, quads } from "../db/schema.ts";
import { AS, H, RDF } from "./vocab.ts";

type Row = typeof messageIndex.$inferInsert;

export async function rebuildMessageIndex(q: Queryable): Promise<number> {
  await q.delete(messageIndex);
  const messageSubjects = q.select({ subject: quads.subject }).from(quads)
    .where(
      sql`${quads.predicate} = ${RDF.type.value} and ${quads.object} = ${H.Message.value} and ${quads.objectKind} = 0`,
    );
  const rows = await q.select().from(quads).where(inArray(quads.subject, messageSubjects))
    .orderBy(asc(quads.subject));
  const byId = new Map<string, Map<string, string>>();
  for (const row of rows) {
    let props = byId.get(row.subject);
    if (!props) byId.set(row.subject, props = new Map());
    props.set(row.predicate, row.object);
  }
  const built: Row[] = [];
  for (const [id, p] of byId) {
    const deleted = p.has(H.deleted.value);
    built.push({
      id,
      channel: p.get(H.channel.value) ?? "",
      lamport: Number(p.get(H.lamport.value) ?? 0),
      author: p.get(AS.attributedTo.value) ?? "",
      content: deleted ? "" : p.get(AS.content.value) ?? "",
      published: p.get(AS.published.value) ?? "",
      updated: deleted ? null : p.get(AS.updated.value) ?? null,
      deleted,
      revision: 0,
    });
  }
  // Revisions restart from the total order: a change feed begins anew.
  built.sort((a, b) =>
    a.channel.localeCompare(b.channel) || a.lamport - b.lamport || a.author.localeCompare(b.author) ||
    a.id.localeCompare(b.id)
  );
  let channel = "";
  let revision = 0;
  for (const row of built) {
    if (row.channel !== channel) [channel, revision] = [row.channel, 0];
    row.revision = ++revision;
  }
  for (let i = 0; i < built.length; i += 500) await q.insert(messageIndex).values(built.slice(i, i + 500));
  return built.length;
}
