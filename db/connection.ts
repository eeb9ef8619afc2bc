/**
 * One libSQL connection to a local database file, driven directly (the
 * `libsql` binding under @libsql/client) with its prepared statements
 * kept: the writer worker runs the same few statements for every batch,
 * and preparing them anew each time (what the client does) cost about as
 * much as running them.
 */
// @ts-types="./libsql.d.ts"
import Database from "libsql";
import type { SqlTransaction } from "./sql.ts";

type Connection = InstanceType<typeof Database>;
type Statement = ReturnType<Connection["prepare"]>;

/** Statements kept per connection; multi-row INSERTs differ by row count, so this holds a few hundred. */
const maxStatements = 512;

function toSql(value: unknown): unknown {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value === undefined) return null;
  return value;
}

export class LocalConnection {
  readonly #db: Connection;
  readonly #statements = new Map<string, Statement>();

  constructor(path: string, busyTimeoutMs: number) {
    this.#db = new Database(path, { timeout: busyTimeoutMs });
    // Per connection, like the main client's: every commit is synced before it is acknowledged.
    this.#db.exec("PRAGMA synchronous = FULL");
  }

  #prepare(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement) {
      // Most recently used last, so the oldest is dropped first.
      this.#statements.delete(sql);
    } else {
      statement = this.#db.prepare(sql);
      if (this.#statements.size >= maxStatements) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
    }
    this.#statements.set(sql, statement);
    return statement;
  }

  /** Runs `fn` in a write transaction (BEGIN IMMEDIATE … COMMIT); rolls back if it throws. */
  async write<T>(fn: (sql: SqlTransaction) => Promise<T>): Promise<T> {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = await fn({
        all: (sql, args = []) =>
          Promise.resolve(this.#prepare(sql).all(args.map(toSql)) as Record<string, unknown>[]),
        run: (sql, args = []) => {
          this.#prepare(sql).run(args.map(toSql));
          return Promise.resolve();
        },
      });
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}
