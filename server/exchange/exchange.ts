/**
 * Export of the whole community as N-Quads, signed by the community key,
 * and import into an empty instance after checking everything in it.
 */
import { asc, gt } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { parseNQuads, quadToNQuads } from "../../db/nquads.ts";
import { fromRow, quadStore } from "../../db/quadstore.ts";
import { actorKeys, quads } from "../../db/schema.ts";
import type { Quad } from "../../db/terms.ts";
import { communityKey } from "../capabilities/communityKey.ts";
import type { Harmony } from "../harmony.ts";
import { rebuildIndexes } from "./indexes.ts";
import { communityKeyIn, type InstanceKeys, writeInstanceKeys } from "./keys.ts";
import {
  checkStatement,
  exportGraph,
  ExportSignatureError,
  ExportSigner,
  splitSignature,
} from "./signature.ts";
import { ExportRefused, verifyExport } from "./verify.ts";

const PAGE = 5000;

/** Streams every quad, in insertion order, as N-Quads text, closed by the community key's signature. */
export function exportNQuads(h: Harmony): ReadableStream<Uint8Array> {
  let after = 0;
  let signer: ExportSigner | null = null;
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      signer ??= new ExportSigner(h.config.origin, await communityKey(h));
      const rows = await h.db.select().from(quads).where(gt(quads.id, after)).orderBy(asc(quads.id)).limit(
        PAGE,
      );
      if (rows.length === 0) {
        controller.enqueue(encoder.encode(await signer.line()));
        controller.close();
        return;
      }
      after = rows[rows.length - 1].id;
      const bytes = encoder.encode(rows.map((row) => quadToNQuads(fromRow(row))).join(""));
      signer.add(bytes, rows.length);
      controller.enqueue(bytes);
    },
  });
}

export class ImportRefusedError extends Error {
  override name = "ImportRefusedError";
}

export interface ImportOptions {
  /** The origin the importing instance serves (HARMONY_ORIGIN): the export's must be the same. */
  origin: string;
  /** The instance's keys from the server the export came from (`deno task export-keys`). */
  keys?: InstanceKeys | null;
}

/**
 * Loads a signed N-Quads export into an instance with no quads yet. The
 * export's signature must verify against the community key (from `keys`,
 * or already in the database), and every item in it must verify
 * (verify.ts); otherwise ImportRefusedError names what failed and nothing
 * is written. Then, in one transaction, the keys, the quads, and the
 * derived index tables rebuilt from them.
 */
export async function importNQuads(
  database: Database,
  text: string,
  options: ImportOptions,
): Promise<number> {
  const { body, line } = splitSignature(text);
  const parsed: Quad[] = [...parseNQuads(body)];
  if (!line) {
    throw new ImportRefusedError(
      "the export is not signed: export it again from an instance of this version (its last line is the " +
        "community key's signature)",
    );
  }
  const [signature] = [...parseNQuads(line)];
  if (
    parsed.some((q) => q.graph === exportGraph(options.origin)) ||
    signature?.graph !== exportGraph(options.origin)
  ) {
    throw new ImportRefusedError(`the export's signature is not for a community at ${options.origin}`);
  }
  if ((await quadStore.count(database.db)) > 0) {
    throw new ImportRefusedError("the database already holds a community; import only into an empty one");
  }
  const held = await communityKeyIn(await database.db.select().from(actorKeys));
  const given = options.keys ? await communityKeyIn(options.keys.keys) : null;
  if (held && given && held.did !== given.did) {
    throw new ImportRefusedError(`this database already has another community key (${held.did})`);
  }
  const key = held ?? given;
  if (!key) {
    throw new ImportRefusedError(
      "the community key is needed to check the export and to keep the community working: give the keys " +
        "file of the server it came from (deno task export-keys there, then --keys FILE here)",
    );
  }
  try {
    const statement = await checkStatement(body, signature.object.value, {
      community: key.did,
      quads: parsed.length,
    });
    if (statement.origin !== options.origin) {
      throw new ExportSignatureError(
        `the export is of the community at ${statement.origin}, not ${options.origin}`,
      );
    }
    await verifyExport(parsed, { origin: options.origin, community: key.did });
  } catch (error) {
    if (error instanceof ExportSignatureError || error instanceof ExportRefused) {
      throw new ImportRefusedError(error.message);
    }
    throw error;
  }
  return await database.write(async (tx) => {
    if ((await quadStore.count(tx)) > 0) {
      throw new ImportRefusedError("the database already holds a community; import only into an empty one");
    }
    if (options.keys) await writeInstanceKeys(tx, options.keys);
    await quadStore.insert(tx, parsed);
    await rebuildIndexes(tx);
    return parsed.length;
  });
}
