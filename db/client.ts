import { type Client, createClient, type Transaction } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { LocalConnection, withStatementCache } from "./connection.ts";
import * as schema from "./schema.ts";
import { sqlOver, type SqlTransaction } from "./sql.ts";

export type { SqlTransaction };

export type Db = LibSQLDatabase<typeof schema>;
/** Queries inside an open write transaction (the same API as the database). */
export type Tx = Db;
/** Anything queries can run on: the database or an open transaction. */
export type Queryable = Db;

const migrationsFolder = new URL("./migrations", import.meta.url).pathname;

export interface WriteOptions {
  /**
   * false: the commit is acknowledged without waiting for the disk. It
   * survives the process being killed (even with -9); power loss may undo it
   * and the unsynced commits after it, never an earlier synced one (the WAL
   * keeps commits in order, and a synced commit syncs everything before it).
   * Only for writes whose loss repeats or delays work instead of losing it,
   * such as a queue's leases and the removal of its finished jobs. A group holding
   * any synced write is synced. Default true.
   */
  synced?: boolean;
}

export interface Database {
  readonly url: string;
  readonly client: Client;
  readonly db: Db;
  /**
   * Runs `fn` inside a write transaction. Concurrent calls are grouped
   * into one transaction (group commit), each under its own savepoint, so
   * a failing unit rolls back alone and the others still commit. The
   * returned promise settles only after the commit is durable (unless
   * `options.synced` is false).
   */
  write<T>(fn: (tx: Tx) => Promise<T>, options?: WriteOptions): Promise<T>;
  /** Like `write`, with plain SQL. */
  writeSql<T>(fn: (sql: SqlTransaction) => Promise<T>, options?: WriteOptions): Promise<T>;
  close(): void;
}

interface PendingWrite {
  run: (tx: Tx, sql: SqlTransaction) => Promise<unknown>;
  synced: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Largest number of units committed together. */
const maxGroup = 256;

/** The database named by DATABASE_URL does not answer (a libSQL server that is down or unreachable). */
export class DatabaseUnavailable extends Error {
  override name = "DatabaseUnavailable";
}

/** The URL without what may hold a secret (a query string with a token, a password). */
function shownUrl(url: string): string {
  if (!/^[a-z]+:\/\//i.test(url) || !URL.canParse(url)) return url.split("?")[0].replace(/\/\/[^@/]*@/, "//");
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
}

function reasonOf(error: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = error; e instanceof Error && messages.length < 4; e = e.cause) {
    if (!messages.includes(e.message)) messages.push(e.message);
  }
  return messages.join(": ") || String(error);
}

export function isLocalUrl(url: string): boolean {
  return url.startsWith("file:") || url === ":memory:";
}

/** Opens a client; `timeout` is SQLite's busy timeout on every pooled connection. */
export function connect(url: string, authToken = Deno.env.get("DATABASE_AUTH_TOKEN")): Client {
  return createClient({ url, authToken, intMode: "number", timeout: 10_000, concurrency: 2 });
}

export async function openDatabase(url: string): Promise<Database> {
  if (url.startsWith("file:")) {
    const path = url.slice("file:".length);
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (dir) await Deno.mkdir(dir, { recursive: true });
  }
  const pooled = connect(url);
  try {
    await pooled.execute("SELECT 1");
  } catch (error) {
    pooled.close();
    throw new DatabaseUnavailable(`cannot open the database at ${shownUrl(url)}: ${reasonOf(error)}`, {
      cause: error,
    });
  }
  if (isLocalUrl(url)) {
    // WAL lets readers run beside the writer; FULL syncs the WAL on every
    // commit, so an acknowledged write survives a crash or power loss.
    await pooled.execute("PRAGMA journal_mode = WAL");
    await pooled.execute("PRAGMA synchronous = FULL");
  }
  await migrate(drizzle(pooled, { schema }), { migrationsFolder });
  // A local file gets two connections that keep their statements prepared (db/connection.ts): one for
  // statements run on their own, one for the group commit's transactions (so no read sees them half done).
  const path = url.startsWith("file:") ? url.slice("file:".length) : null;
  const statements = path ? new LocalConnection(path, 10_000) : null;
  const writer = path ? new LocalConnection(path, 10_000) : null;
  const client = statements ? withStatementCache(pooled, statements) : pooled;
  const db = drizzle(client, { schema });

  const queue: PendingWrite[] = [];
  let flushing = false;

  async function runGroup(group: PendingWrite[]): Promise<Array<{ ok: boolean; value: unknown }>> {
    const transaction = writer
      ? writer.transaction({ synced: group.some((unit) => unit.synced) })
      : await client.transaction("write");
    try {
      // The query builder over the open transaction: every statement a unit
      // makes runs inside it.
      // (Without the schema: building its relational config costs more than a small write.)
      const tx = drizzle(transaction as unknown as Client) as unknown as Tx;
      const sql = sqlOver(transaction as unknown as Transaction);
      const outcomes: Array<{ ok: boolean; value: unknown }> = [];
      for (const unit of group) {
        if (group.length === 1) {
          outcomes.push({ ok: true, value: await unit.run(tx, sql) });
          continue;
        }
        await transaction.execute("SAVEPOINT unit");
        try {
          const value = await unit.run(tx, sql);
          await transaction.execute("RELEASE unit");
          outcomes.push({ ok: true, value });
        } catch (error) {
          await transaction.execute("ROLLBACK TO unit");
          await transaction.execute("RELEASE unit");
          outcomes.push({ ok: false, value: error });
        }
      }
      await transaction.commit();
      return outcomes;
    } finally {
      transaction.close();
    }
  }

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        const group = queue.splice(0, maxGroup);
        let outcomes: Array<{ ok: boolean; value: unknown }>;
        try {
          outcomes = await runGroup(group);
        } catch (error) {
          // The commit itself failed (or the single unit threw): nothing
          // in this group was written.
          for (const unit of group) unit.reject(error);
          continue;
        }
        group.forEach((unit, i) => {
          const outcome = outcomes[i];
          if (outcome.ok) unit.resolve(outcome.value);
          else unit.reject(outcome.value);
        });
      }
    } finally {
      flushing = false;
    }
  }

  function enqueue<T>(run: (tx: Tx, sql: SqlTransaction) => Promise<T>, options?: WriteOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({
        run,
        synced: options?.synced ?? true,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!flushing) queueMicrotask(() => flushing || flush());
    });
  }

  return {
    url,
    client,
    db,
    write: (fn, options) => enqueue((tx) => fn(tx), options),
    writeSql: (fn, options) => enqueue((_tx, sql) => fn(sql), options),
    close() {
      statements?.close();
      writer?.close();
      pooled.close();
    },
  };
}
