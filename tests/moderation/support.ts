/** Shared helpers of the moderation and audit tests. */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { ApiError, type HarmonyClient } from "../../cli/client.ts";
import type { Harmony } from "../../server/harmony.ts";

/** Awaits a refusal with this status (and reason), as an ApiError. */
export async function refused(
  promise: Promise<unknown>,
  status: number,
  pattern?: RegExp,
): Promise<ApiError> {
  let caught: ApiError | null = null;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, status, `${error.code}: ${error.message}`);
    if (pattern) assert.match(error.message, pattern);
    caught = error;
    return true;
  });
  return caught!;
}

/** Counts rows of a table (or of quads in a graph). */
export async function count(h: Harmony, table: string, where = "1 = 1"): Promise<number> {
  const [row] = await h.db.all<{ n: number }>(sql.raw(`SELECT count(*) AS n FROM ${table} WHERE ${where}`));
  return Number(row.n);
}

/** Everything a refusal must leave untouched: quads, the audit log, messages, operations. */
export async function snapshotCounts(h: Harmony) {
  return {
    quads: await count(h, "quads"),
    audit: await count(h, "audit_log"),
    messages: await count(h, "message_index"),
    ops: await count(h, "op_log"),
  };
}

export async function members(client: HarmonyClient): Promise<string[]> {
  return (await client.members()).map((m) => m.did);
}
