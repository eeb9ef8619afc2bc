/**
 * The search index at the database level: the triggers follow every kind
 * of write to message_index, an upgraded instance's history is back-filled,
 * and the rebuilds give the same index.
 */
import assert from "node:assert/strict";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { connect, type Database, openDatabase } from "../../db/client.ts";
import { checkSearchIndex, rebuildSearchIndex } from "../../server/search/rebuild.ts";
import { rebuildIndexes } from "../../server/exchange/indexes.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { KEY_SCALE } from "../../server/search/fts.ts";

const migrations = new URL("../../db/migrations/", import.meta.url).pathname;
const columns =
  "id, channel, lamport, author, content, published, updated, edit_lamport, edit_op, deleted, revision";

async function withDatabase(fn: (d: Database) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "harmony-search-" });
  const d = await openDatabase(`file:${dir}/t.db`);
  try {
    await fn(d);
  } finally {
    d.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const matches = async (d: Database, expr: string) =>
  (await d.client.execute({
    sql:
      "SELECT d.message_id AS id FROM message_fts JOIN search_docs d ON d.key = message_fts.rowid WHERE message_fts MATCH ? ORDER BY message_fts.rowid DESC",
    args: [expr],
  })).rows.map((r) => String(r.id));

Deno.test("the triggers follow multi-row inserts, upserts, updates and deletes in the same transaction", async () => {
  await withDatabase(async (d) => {
    await d.writeSql(async (sql) => {
      await sql.run(
        `INSERT INTO message_index (${columns}) VALUES
          ('m1', 'c', 1, 'a', 'apple banana', '2026-01-01T00:00:00.000Z', NULL, NULL, NULL, 0, 1),
          ('m2', 'c', 2, 'a', 'banana cherry', '2026-01-01T00:00:00.000Z', NULL, NULL, NULL, 0, 2),
          ('m3', 'c', 3, 'a', 'never indexed', '2026-01-02T00:00:00.000Z', NULL, NULL, NULL, 1, 3)`,
      );
    });
    assert.deepEqual(await matches(d, `body : "banana"`), ["m2", "m1"]);
    assert.deepEqual(await matches(d, `body : "indexed"`), [], "a row inserted deleted is not indexed");
    const keys = (await d.client.execute("SELECT key FROM search_docs ORDER BY key")).rows.map((r) =>
      Number(r.key)
    );
    assert.equal(keys[0], Date.parse("2026-01-01T00:00:00.000Z") * KEY_SCALE);
    assert.equal(keys[1], keys[0] + 1, "two messages in the same millisecond get consecutive keys");

    // An upsert: the insert trigger for the new row, the update trigger for the existing one.
    await d.writeSql(async (sql) => {
      await sql.run(
        `INSERT INTO message_index (${columns}) VALUES
          ('m1', 'c', 1, 'a', 'apple date', '2026-01-01T00:00:00.000Z', NULL, NULL, NULL, 0, 4),
          ('m4', 'c', 4, 'a', 'elderberry', '2026-01-03T00:00:00.000Z', NULL, NULL, NULL, 0, 5)
         ON CONFLICT (id) DO UPDATE SET content = excluded.content, revision = excluded.revision`,
      );
    });
    assert.deepEqual(await matches(d, `body : "banana"`), ["m2"]);
    assert.deepEqual(await matches(d, `body : "date"`), ["m1"]);
    assert.deepEqual(await matches(d, `body : "elderberry"`), ["m4"]);

    // A failed transaction leaves the index as it was.
    await assert.rejects(d.writeSql(async (sql) => {
      await sql.run("UPDATE message_index SET content = 'fig' WHERE id = 'm2'");
      throw new Error("abort");
    }));
    assert.deepEqual(await matches(d, `body : "fig"`), []);
    assert.deepEqual(await matches(d, `body : "cherry"`), ["m2"]);

    // Updates that do not touch the text leave the index alone; deletion marks and row deletes remove.
    await d.writeSql((sql) => sql.run("UPDATE message_index SET revision = 99 WHERE id = 'm2'"));
    await d.writeSql((sql) => sql.run("UPDATE message_index SET content = '', deleted = 1 WHERE id = 'm1'"));
    await d.writeSql((sql) => sql.run("DELETE FROM message_index WHERE id = 'm4'"));
    assert.deepEqual(await matches(d, `meta : "msg"`), ["m2"]);
    await checkSearchIndex(d.db);

    // More than 1,024 messages in one millisecond still get distinct keys.
    await d.writeSql(async (sql) => {
      for (let i = 0; i < 1100; i += 100) {
        const rows = Array.from(
          { length: 100 },
          (_, j) =>
            `('b${i + j}', 'c', ${
              10 + i + j
            }, 'a', 'burst', '2026-02-01T00:00:00.000Z', NULL, NULL, NULL, 0, 1)`,
        );
        await sql.run(`INSERT INTO message_index (${columns}) VALUES ${rows.join(",")}`);
      }
    });
    assert.equal((await matches(d, `body : "burst"`)).length, 1100);
    await checkSearchIndex(d.db);
  });
});

Deno.test("an upgraded instance's history is back-filled by the migration", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-search-upgrade-" });
  try {
    // The migrations before search.
    const old = `${dir}/migrations`;
    await Deno.mkdir(`${old}/meta`, { recursive: true });
    const journal = JSON.parse(await Deno.readTextFile(`${migrations}meta/_journal.json`));
    const searchAt = journal.entries.findIndex((e: { tag: string }) => e.tag.endsWith("_search"));
    assert.ok(searchAt > 0);
    journal.entries = journal.entries.slice(0, searchAt);
    await Deno.writeTextFile(`${old}/meta/_journal.json`, JSON.stringify(journal));
    for (const e of journal.entries) await Deno.copyFile(`${migrations}${e.tag}.sql`, `${old}/${e.tag}.sql`);
    const url = `file:${dir}/old.db`;
    const client = connect(url);
    await migrate(drizzle(client), { migrationsFolder: old });
    await client.execute(
      `INSERT INTO message_index (id, channel, lamport, author, content, published, updated, edit_lamport, edit_op,
         deleted, revision) VALUES
        ('o1', 'c', 1, 'a', 'history from before search https://x.org', '2025-05-01T10:00:00.000Z', NULL, NULL, NULL, 0, 1),
        ('o2', 'c', 2, 'a', 'more history', '2025-05-01T10:00:00.000Z', NULL, NULL, NULL, 0, 2),
        ('o3', 'c', 3, 'a', '', '2025-05-02T10:00:00.000Z', NULL, NULL, NULL, 1, 3)`,
    );
    client.close();

    const d = await openDatabase(url);
    try {
      assert.deepEqual(await matches(d, `body : "history"`), ["o2", "o1"]);
      assert.deepEqual(await matches(d, `meta : "haslink"`), ["o1"]);
      await checkSearchIndex(d.db);
      // New messages in the same millisecond as back-filled ones do not collide.
      await d.writeSql((sql) =>
        sql.run(
          `INSERT INTO message_index (${columns}) VALUES ('o4', 'c', 4, 'a', 'history again', '2025-05-01T10:00:00.000Z', NULL, NULL, NULL, 0, 4)`,
        )
      );
      assert.deepEqual(await matches(d, `body : "history"`), ["o4", "o2", "o1"]);
    } finally {
      d.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rebuilds: rebuildSearchIndex and rebuildIndexes give the index the triggers keep", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const h = instance.harmony;
  const [general] = await owner.channels();
  const a = await owner.post(general.id, "first words https://example.org");
  const b = await owner.post(general.id, "second words");
  await owner.edit(b, "second words, edited");
  const c = await owner.post(general.id, "third words");
  await owner.delete(c);
  const state = async () =>
    (await h.database.client.execute(
      "SELECT d.message_id, c.meta FROM search_docs d JOIN search_content c ON c.key = d.key ORDER BY d.key",
    )).rows.map((
      r,
    ) => [
      String(r.message_id),
      String(r.meta),
    ]);
  const before = await state();
  assert.deepEqual(before.map(([id]) => id), [a.id, b.id]);

  assert.equal(await h.database.write((tx) => rebuildSearchIndex(tx)), 2);
  assert.deepEqual(await state(), before);
  await checkSearchIndex(h.db);

  await h.database.write((tx) => rebuildIndexes(tx));
  assert.deepEqual(await state(), before);
  await checkSearchIndex(h.db);
  const found = await owner.request<{ results: Array<{ id: string }> }>("GET", "/search?q=edited");
  assert.deepEqual(found.results.map((r) => r.id), [b.id]);
});
