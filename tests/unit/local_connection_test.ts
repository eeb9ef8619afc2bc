/**
 * The writer worker's connection (db/connection.ts): a transaction that
 * throws leaves nothing behind, a committed one is visible to the instance's
 * own client, statements are reused, and values bind as the client binds them.
 */
import assert from "node:assert/strict";
import { LocalConnection } from "../../db/connection.ts";
import { openDatabase } from "../../db/client.ts";

async function withDatabase(fn: (path: string, read: (sql: string) => Promise<unknown[]>) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "harmony-connection-" });
  const database = await openDatabase(`file:${dir}/harmony.db`);
  try {
    await database.client.execute("CREATE TABLE t (k TEXT PRIMARY KEY, flag INTEGER, n INTEGER)");
    await fn(`${dir}/harmony.db`, async (sql) => (await database.client.execute(sql)).rows as unknown[]);
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("local connection: a transaction that throws writes nothing", async () => {
  await withDatabase(async (path, read) => {
    const connection = new LocalConnection(path, 1_000);
    try {
      await assert.rejects(
        connection.write(async (sql) => {
          await sql.run("INSERT INTO t (k, flag, n) VALUES (?, ?, ?)", ["a", true, 1]);
          await sql.run("INSERT INTO t (k, flag, n) VALUES (?, ?, ?)", ["a", false, 2]);
        }),
        /UNIQUE/,
      );
      assert.deepEqual(await read("SELECT * FROM t"), []);
      // The connection is usable again afterwards.
      await connection.write((sql) =>
        sql.run("INSERT INTO t (k, flag, n) VALUES (?, ?, ?)", ["b", false, 3])
      );
      assert.deepEqual((await read("SELECT k FROM t")).map((r) => (r as { k: string }).k), ["b"]);
    } finally {
      connection.close();
    }
  });
});

Deno.test("local connection: commits are visible to other connections; booleans and undefined bind as 1/0 and NULL", async () => {
  await withDatabase(async (path, read) => {
    const connection = new LocalConnection(path, 1_000);
    try {
      for (let i = 0; i < 3; i++) {
        // The same statement text each time: prepared once, run again.
        await connection.write((sql) =>
          sql.run("INSERT INTO t (k, flag, n) VALUES (?, ?, ?)", [
            `k${i}`,
            i % 2 === 0,
            i === 2 ? undefined : i,
          ])
        );
      }
      const rows = await connection.write((sql) => sql.all("SELECT k, flag, n FROM t ORDER BY k"));
      assert.deepEqual(rows.map((r) => [r.k, r.flag, r.n]), [["k0", 1, 0], ["k1", 0, 1], ["k2", 1, null]]);
      assert.equal((await read("SELECT k FROM t")).length, 3);
    } finally {
      connection.close();
    }
  });
});
