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

/** A stored entry: its JSON text and when it expires (ms since the epoch), or null when absent. */
type Stored = { value: string; expires: number | null } | null;

/**
 * Entries kept in memory (least recently used first out), and the largest
 * value kept: a fan-out reads two small entries per receiving server, so
 * this covers 5,000 servers in at most a few megabytes.
 */
const CACHE_ENTRIES = 10_000;
const CACHE_VALUE_CHARS = 256;

export class SqlKvStore implements KvStore {
  /** Writes handed to the writer and not committed yet, by key. */
  readonly #writing = new Map<string, number>();
  /**
   * Small entries as last read (absent ones too): every delivery reads a
   * server's circuit-breaker state and signature spec. All writes go through
   * this object (one instance process per database), which drops the entry.
   */
  readonly #cache = new Map<string, Stored>();
  /** Bumped by every write, so a read that raced a write is not cached. */
  #generation = 0;

  constructor(readonly database: Database) {}

  async #write<T>(k: string, fn: Parameters<Database["writeSql"]>[0]): Promise<T> {
    this.#writing.set(k, (this.#writing.get(k) ?? 0) + 1);
    this.#cache.delete(k);
    try {
      return await this.database.writeSql(fn) as T;
    } finally {
      const n = this.#writing.get(k)! - 1;
      if (n > 0) this.#writing.set(k, n);
      else this.#writing.delete(k);
      this.#cache.delete(k);
      this.#generation++;
    }
  }

  async #read(k: string): Promise<Stored> {
    const cached = this.#cache.get(k);
    if (cached !== undefined && !this.#writing.has(k)) {
      this.#cache.delete(k);
      this.#cache.set(k, cached);
      return cached;
    }
    const generation = this.#generation;
    const { rows } = await this.database.client.execute({
      sql: "SELECT value, expires FROM federation_kv WHERE key = ?",
      args: [k],
    });
    const row = rows[0];
    const stored: Stored = row
      ? { value: String(row.value), expires: row.expires === null ? null : Number(row.expires) }
      : null;
    if (
      generation === this.#generation && !this.#writing.has(k) &&
      (stored === null || stored.value.length <= CACHE_VALUE_CHARS)
    ) {
      this.#cache.set(k, stored);
      if (this.#cache.size > CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return stored;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const stored = await this.#read(encode(key));
    if (stored === null || (stored.expires !== null && stored.expires < Date.now())) return undefined;
    return JSON.parse(stored.value) as T;
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    const k = encode(key);
    const json = JSON.stringify(value);
    const expires = expiry(options);
    if (expires === null && !this.#writing.has(k)) {
      // Setting what is already there (Fedify records the signature spec of a server after every
      // delivery to it) writes nothing: no write transaction, no commit.
      const current = await this.#read(k);
      if (current !== null && current.expires === null && current.value === json && !this.#writing.has(k)) {
        return;
      }
    }
    await this.#write(k, (sql) =>
      sql.run(
        `INSERT INTO federation_kv (key, value, expires) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
        [k, json, expires],
      ));
  }

  async delete(key: KvKey): Promise<void> {
    const k = encode(key);
    await this.#write(k, (sql) => sql.run("DELETE FROM federation_kv WHERE key = ?", [k]));
  }

  /** Sets `key` to `next` only if it currently holds `expected` (undefined: absent; next undefined: delete). */
  async cas(key: KvKey, expected: unknown, next: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const k = encode(key);
    const now = Date.now();
    const expires = expiry(options);
    return await this.#write<boolean>(k, async (sql) => {
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
