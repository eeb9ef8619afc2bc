/**
 * Fedify's key-value store (remote document cache, public keys, activity
 * idempotence, circuit breakers, the spec each server answered to) on the
 * `federation_kv` table. Keys are stored as the JSON text of the key
 * array, so a prefix is a range of that text. Every write goes through the
 * instance's one writer (`writeSql`), and compare-and-swap is a single
 * conditional statement, never a transaction held across an await.
 */
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import type { Database } from "../db/client.ts";

const encode = (key: KvKey) => JSON.stringify(key);

function expiry(options?: KvStoreSetOptions): number | null {
  return options?.ttl ? Date.now() + options.ttl.total("millisecond") : null;
}

export class SqlKvStore implements KvStore {
  constructor(readonly database: Database) {}

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const result = await this.database.client.execute({
      sql: "SELECT value, expires FROM federation_kv WHERE key = ?",
      args: [encode(key)],
    });
    const row = result.rows[0];
    if (!row) return undefined;
    if (row.expires !== null && Number(row.expires) < Date.now()) return undefined;
    return JSON.parse(String(row.value)) as T;
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    await this.database.writeSql((sql) =>
      sql.run(
        `INSERT INTO federation_kv (key, value, expires) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
        [encode(key), JSON.stringify(value), expiry(options)],
      )
    );
  }

  async delete(key: KvKey): Promise<void> {
    await this.database.writeSql((sql) => sql.run("DELETE FROM federation_kv WHERE key = ?", [encode(key)]));
  }

  /** Sets `key` to `next` only if it currently holds `expected` (undefined: absent; next undefined: delete). */
  async cas(key: KvKey, expected: unknown, next: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const k = encode(key);
    const now = Date.now();
    const expires = expiry(options);
    return await this.database.writeSql(async (sql) => {
      if (expected === undefined) {
        await sql.run("DELETE FROM federation_kv WHERE key = ? AND expires IS NOT NULL AND expires < ?", [
          k,
          now,
        ]);
        if (next === undefined) {
          return (await sql.all("SELECT 1 FROM federation_kv WHERE key = ?", [k])).length === 0;
        }
        const inserted = await sql.all(
          "INSERT INTO federation_kv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING key",
          [k, JSON.stringify(next), expires],
        );
        return inserted.length === 1;
      }
      const live = "key = ? AND value = ? AND (expires IS NULL OR expires >= ?)";
      const changed = next === undefined
        ? await sql.all(`DELETE FROM federation_kv WHERE ${live} RETURNING key`, [
          k,
          JSON.stringify(expected),
          now,
        ])
        : await sql.all(`UPDATE federation_kv SET value = ?, expires = ? WHERE ${live} RETURNING key`, [
          JSON.stringify(next),
          expires,
          k,
          JSON.stringify(expected),
          now,
        ]);
      return changed.length === 1;
    });
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const now = Date.now();
    let result;
    if (prefix === undefined) {
      result = await this.database.client.execute("SELECT key, value, expires FROM federation_kv");
    } else {
      // '["a","b"' is followed by ']' (the key itself) or ',' (longer keys); '-' comes right after ','.
      const open = encode(prefix).slice(0, -1);
      result = await this.database.client.execute({
        sql: "SELECT key, value, expires FROM federation_kv WHERE key = ? OR (key >= ? AND key < ?)",
        args: [`${open}]`, `${open},`, `${open}-`],
      });
    }
    for (const row of result.rows) {
      if (row.expires !== null && Number(row.expires) < now) continue;
      yield { key: JSON.parse(String(row.key)) as KvKey, value: JSON.parse(String(row.value)) };
    }
  }

  /** Removes expired entries. */
  async sweep(): Promise<void> {
    await this.database.writeSql((sql) =>
      sql.run("DELETE FROM federation_kv WHERE expires IS NOT NULL AND expires < ?", [Date.now()])
    );
  }
}
