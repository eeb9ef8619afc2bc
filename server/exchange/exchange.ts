/** Export of the whole community as N-Quads, and import into an empty instance. */
import { asc, gt } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { parseNQuads, quadToNQuads } from "../../db/nquads.ts";
import { fromRow, quadStore } from "../../db/quadstore.ts";
import { quads } from "../../db/schema.ts";
import type { Quad } from "../../db/terms.ts";
import type { Harmony } from "../harmony.ts";
import { rebuildIndexes } from "./indexes.ts";

const PAGE = 5000;

/** Streams every quad, in insertion order, as N-Quads text. */
export function exportNQuads(h: Harmony): ReadableStream<Uint8Array> {
  let after = 0;
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      const rows = await h.db.select().from(quads).where(gt(quads.id, after)).orderBy(asc(quads.id)).limit(
        PAGE,
      );
      if (rows.length === 0) {
        controller.close();
        return;
      }
      after = rows[rows.length - 1].id;
      controller.enqueue(encoder.encode(rows.map((row) => quadToNQuads(fromRow(row))).join("")));
    },
  });
}

export class ImportRefusedError extends Error {
  override name = "ImportRefusedError";
}

/**
 * Loads an N-Quads export into an instance with no quads yet, in one
 * transaction (a bad line leaves nothing behind), then rebuilds the
 * derived index tables from the imported quads.
 */
export async function importNQuads(database: Database, text: string): Promise<number> {
  const parsed: Quad[] = [...parseNQuads(text)];
  return await database.write(async (tx) => {
    if ((await quadStore.count(tx)) > 0) {
      throw new ImportRefusedError("the database already holds a community; import only into an empty one");
    }
    await quadStore.insert(tx, parsed);
    await rebuildIndexes(tx);
    return parsed.length;
  });
}
