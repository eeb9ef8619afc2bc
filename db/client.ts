import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import * as schema from "./schema.ts";

export type Db = LibSQLDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Anything queries can run on: the database or an open transaction. */
export type Queryable = Db | Tx;

const migrationsFolder = new URL("./migrations", import.meta.url).pathname;

export interface Database {
  readonly url: string;
  readonly client: Client;
  readonly db: Db;
  /**
   * Runs `fn` inside a write transaction. Concurrent calls are grouped
   * into one transaction (group commit), each under its own savepoint, so
   * a failing unit rolls back alone and the others still commit. The
   * returned promise settles only after the commit is durable.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): void;
}

interface PendingWrite {
  run: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Largest number of units committed together. */
const maxGroup = 256;

export function isLocalUrl(url: string): boolean {
  return url.startsWith("file:") || url === ":memory:";
}

export async function openDatabase(url: string): Promise<Database> {
  if (url.startsWith("file:")) {
    const path = url.slice("file:".length);
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (dir) await Deno.mkdir(dir, { recursive: true });
  }
  const client = createClient({ url, authToken: Deno.env.get("DATABASE_AUTH_TOKEN") });
  if (isLocalUrl(url)) {
    // WAL lets readers run beside the writer; FULL syncs the WAL on every
    // commit, so an acknowledged write survives a crash or power loss.
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = FULL");
    await client.execute("PRAGMA busy_timeout = 5000");
  }
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });

  const queue: PendingWrite[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        const group = queue.splice(0, maxGroup);
        const outcomes: Array<{ ok: boolean; value: unknown }> = [];
        try {
          await db.transaction(async (tx) => {
            for (const unit of group) {
              if (group.length === 1) {
                outcomes.push({ ok: true, value: await unit.run(tx) });
                continue;
              }
              try {
                const value = await tx.transaction((inner) => unit.run(inner));
                outcomes.push({ ok: true, value });
              } catch (error) {
                outcomes.push({ ok: false, value: error });
              }
            }
          });
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

  return {
    url,
    client,
    db,
    write<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({
          run,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        if (!flushing) queueMicrotask(() => flushing || flush());
      });
    },
    close() {
      client.close();
    },
  };
}
