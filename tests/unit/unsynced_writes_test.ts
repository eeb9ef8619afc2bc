/**
 * Group commit with `synced: false` (db/client.ts): such a commit is not
 * synced to disk before it is acknowledged, yet survives the process being
 * killed; a group that holds any synced write is synced.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../../db/client.ts";

const clientModule = new URL("../../db/client.ts", import.meta.url).href;

async function withDatabase(fn: (url: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-unsynced-" });
  try {
    await fn(`file:${dir}/harmony.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** SQLite's `synchronous` level on the writer's connection while a write runs: 1 NORMAL, 2 FULL. */
const syncLevel = async (sql: { all(sql: string): Promise<Record<string, unknown>[]> }) =>
  Number((await sql.all("PRAGMA synchronous"))[0].synchronous);

Deno.test("unsynced writes: a group commit is synced unless every write in it says synced: false", async () => {
  await withDatabase(async (url) => {
    const database = await openDatabase(url);
    try {
      assert.equal(await database.writeSql(syncLevel), 2, "synced by default");
      assert.equal(await database.writeSql(syncLevel, { synced: false }), 1, "alone, not synced");
      // Two writes asked for in the same turn share one commit: synced, because one of them must be.
      const together = await Promise.all([
        database.writeSql(syncLevel, { synced: false }),
        database.writeSql(syncLevel),
      ]);
      assert.deepEqual(together, [2, 2]);
      const unsyncedPair = await Promise.all([
        database.writeSql(syncLevel, { synced: false }),
        database.writeSql(syncLevel, { synced: false }),
      ]);
      assert.deepEqual(unsyncedPair, [1, 1]);
      assert.equal(await database.writeSql(syncLevel), 2, "and synced again after");
    } finally {
      database.close();
    }
  });
});

Deno.test("unsynced writes: an acknowledged unsynced commit survives kill -9", async () => {
  await withDatabase(async (url) => {
    const setup = await openDatabase(url);
    await setup.client.execute("CREATE TABLE t (k TEXT PRIMARY KEY)");
    setup.close();
    // A process that writes without syncing, and is killed (no shutdown code runs) once acknowledged.
    const script = `
      const { openDatabase } = await import(${JSON.stringify(clientModule)});
      const database = await openDatabase(${JSON.stringify(url)});
      for (let i = 0; i < 20; i++) {
        await database.writeSql((sql) => sql.run("INSERT INTO t (k) VALUES (?)", ["row " + i]), { synced: false });
      }
      Deno.kill(Deno.pid, "SIGKILL");
    `;
    const { code, signal } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-check", script],
      stdout: "null",
      stderr: "inherit",
    }).output();
    assert.equal(signal, "SIGKILL", `the writer was killed (exit code ${code})`);
    const reopened = await openDatabase(url);
    try {
      const { rows } = await reopened.client.execute("SELECT count(*) AS n FROM t");
      assert.equal(Number(rows[0].n), 20);
    } finally {
      reopened.close();
    }
  });
});
