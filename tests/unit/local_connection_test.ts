/**
 * The writer worker's connection (db/connection.ts): a transaction that
 * throws leaves nothing behind, a committed one is visible to the instance's
 * own client, statements are reused, and values bind as the client binds them.
 */
import assert from "node:assert/strict";
import { LocalConnection } from "../../db/connection.ts";
import { connect, openDatabase } from "../../db/client.ts";

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

Deno.test("local connection: execute answers a statement as @libsql/client does (rows by index and by name)", async () => {
  await withDatabase(async (path) => {
    const client = connect(`file:${path}`);
    const connection = new LocalConnection(path, 1_000);
    try {
      await client.execute({
        sql: "INSERT INTO t (k, flag, n) VALUES (?, ?, ?), (?, ?, ?)",
        args: ["x", 1, 7, "y", 0, null],
      });
      const queries = [
        { sql: "SELECT k, flag, n FROM t ORDER BY k", args: [] },
        { sql: "SELECT a.k, b.k, a.n FROM t a JOIN t b ON a.k != b.k ORDER BY a.k", args: [] },
        { sql: "SELECT x'00ff' AS blob, ? AS text, 2.5 AS real", args: ["hello"] },
        { sql: "SELECT k FROM t WHERE k = ?", args: ["nobody"] },
      ];
      for (const query of queries) {
        const expected = await client.execute(query);
        const actual = connection.execute(query);
        assert.deepEqual(actual.columns, expected.columns, query.sql);
        assert.equal(actual.rows.length, expected.rows.length, query.sql);
        actual.rows.forEach((row, i) => {
          const want = expected.rows[i];
          assert.deepEqual(
            Array.from(row as ArrayLike<unknown>),
            Array.from(want as ArrayLike<unknown>),
            query.sql,
          );
          assert.deepEqual({ ...row }, { ...want }, query.sql);
          assert.deepEqual(Object.keys(row), Object.keys(want), query.sql);
        });
      }
      const write = connection.execute({ sql: "UPDATE t SET n = ? WHERE k = ?", args: [8, "x"] });
      assert.equal(write.rowsAffected, 1);
      assert.deepEqual(write.rows, []);
    } finally {
      connection.close();
      client.close();
    }
  });
});

Deno.test("withStatementCache: the database client reads through kept statements and sees every commit at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-connection-" });
  const database = await openDatabase(`file:${dir}/harmony.db`);
  try {
    await database.writeSql((sql) => sql.run("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)"));
    for (let i = 0; i < 3; i++) {
      await database.writeSql((sql) => sql.run("INSERT INTO t (k, n) VALUES (?, ?)", [`k${i}`, i]));
      const { rows } = await database.client.execute("SELECT count(*) AS c FROM t");
      assert.equal(rows[0].c, i + 1);
      // A statement run earlier must not hold an old read snapshot for the ones after it.
      const { rows: listed } = await database.client.execute(`SELECT k FROM t WHERE n <= ${i}`);
      assert.equal(listed.length, i + 1);
    }
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true });
  }
});
