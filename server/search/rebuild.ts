/**
 * Rebuilding the search index (a derived table, like message_index): the
 * triggers keep it in step with every change, so this is for repairs and
 * for rebuildIndexes (server/exchange/indexes.ts). The expressions are those of the
 * triggers and the back-fill in db/migrations/0007_search_fts.sql.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { KEY_SCALE } from "./fts.ts";

const keyBase = (published: string) =>
  `max(0, min(8700000000000, CAST(round((coalesce(julianday(${published}), julianday('now')) - 2440587.5) * 86400000) AS INTEGER))) * ${KEY_SCALE}`;

/** Empties the index (its triggers then have nothing to remove when message_index rows go). */
export async function clearSearchIndex(q: Queryable): Promise<void> {
  await q.run(sql.raw("INSERT INTO message_fts (message_fts) VALUES ('delete-all')"));
  await q.run(sql.raw("DELETE FROM search_docs"));
}

/** Rebuilds the index from message_index (the text and filter tokens come through the view search_content). */
export async function rebuildSearchIndex(q: Queryable): Promise<number> {
  await clearSearchIndex(q);
  await q.run(sql.raw(
    `INSERT INTO search_docs (key, message_id)
      SELECT b + row_number() OVER (PARTITION BY b ORDER BY lamport, id) - 1, id FROM (
        SELECT ${keyBase("published")} AS b, id, lamport FROM message_index WHERE deleted = 0
      )`,
  ));
  await q.run(sql.raw("INSERT INTO message_fts (message_fts) VALUES ('rebuild')"));
  const [row] = await q.all<{ n: number }>(sql.raw("SELECT count(*) AS n FROM search_docs"));
  return Number(row.n);
}

/** FTS5's own consistency check of the index against the text (throws when they differ). */
export async function checkSearchIndex(q: Queryable): Promise<void> {
  await q.run(sql.raw("INSERT INTO message_fts (message_fts, rank) VALUES ('integrity-check', 1)"));
}
