/**
 * One libSQL connection to a local database file, driven directly (the
 * `libsql` binding under @libsql/client), with its prepared statements
 * kept. The writer worker writes through one; on the main thread, the
 * statements run on their own (`client.execute`, which every drizzle read
 * uses) go through another (`withStatementCache`). @libsql/client prepares
 * every statement on every call and builds each row cell by cell; for the
 * worker's batches preparing cost about as much as running, and on a
 * channel page it was a fifth of the time.
 */
// @ts-types="./libsql.d.ts"
import Database from "libsql";
import type { Client, InStatement, ResultSet, Row } from "@libsql/client";
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

/** What a statement returns, worked out once per statement: its columns and how to build its rows. */
interface Shape {
  reader: boolean;
  columns: string[];
  columnTypes: string[];
  /** Builds a row like @libsql/client's: indexes and `length` not enumerable, column names enumerable. */
  row: (values: unknown[]) => Row;
}

function shapeOf(statement: Statement): Shape {
  if (!statement.reader) return { reader: false, columns: [], columnTypes: [], row: () => ({}) as Row };
  const described = statement.columns();
  const columns = described.map((c) => c.name);
  const columnTypes = described.map((c) => c.type ?? "");
  const unique = new Set(columns).size === columns.length;
  // Indexes read through a shared prototype; the named values are the row's own properties.
  const proto: Record<string | number, unknown> = {};
  if (unique) {
    columns.forEach((name, i) =>
      Object.defineProperty(proto, i, {
        get(this: Record<string, unknown>) {
          return this[name];
        },
      })
    );
    Object.defineProperty(proto, "length", { value: columns.length });
  }
  return {
    reader: true,
    columns,
    columnTypes,
    row: (values) => {
      if (!unique) {
        // A repeated name (a join): the client's rule, the first column wins the name.
        const row: Record<string | number, unknown> = {};
        Object.defineProperty(row, "length", { value: values.length });
        values.forEach((value, i) => {
          Object.defineProperty(row, i, { value: fromSql(value) });
          if (!Object.hasOwn(row, columns[i])) row[columns[i]] = fromSql(value);
        });
        return row as unknown as Row;
      }
      const row = Object.create(proto);
      for (let i = 0; i < columns.length; i++) row[columns[i]] = fromSql(values[i]);
      return row;
    },
  };
}

/** Blobs come back as ArrayBuffers, as from the client. */
function fromSql(value: unknown): unknown {
  return value instanceof Uint8Array ? value.slice().buffer : value;
}

function resultSet(
  shape: Shape,
  rows: Row[],
  rowsAffected: number,
  lastInsertRowid: bigint | undefined,
): ResultSet {
  return {
    columns: shape.columns,
    columnTypes: shape.columnTypes,
    rows,
    rowsAffected,
    lastInsertRowid,
    toJSON() {
      return {
        columns: shape.columns,
        rows: rows.map((r) => Array.from(r as ArrayLike<unknown>)),
        rowsAffected,
      };
    },
  };
}

export interface LocalTransaction {
  execute(statement: InStatement): Promise<ResultSet>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): void;
}

export class LocalConnection {
  readonly #db: Connection;
  readonly #statements = new Map<string, Statement>();
  readonly #shapes = new WeakMap<Statement, Shape>();
  #synced = true;

  constructor(path: string, busyTimeoutMs: number) {
    this.#db = new Database(path, { timeout: busyTimeoutMs });
    // Per connection, like the main client's: every commit is synced before it is acknowledged.
    this.#db.exec("PRAGMA synchronous = FULL");
  }

  /**
   * Whether the next commits wait for the disk (FULL) or only reach the
   * operating system (NORMAL: in WAL mode such a commit survives the process
   * being killed; power loss can undo it, together with the unsynced commits
   * after it, but never a synced one). Set between transactions.
   */
  #syncCommits(synced: boolean): void {
    if (synced === this.#synced) return;
    this.#db.exec(`PRAGMA synchronous = ${synced ? "FULL" : "NORMAL"}`);
    this.#synced = synced;
  }

  /** A kept statement; `raw` ones (rows as arrays, for `execute`) are kept apart from the others. */
  #prepare(sql: string, raw = false): Statement {
    const key = raw ? `raw\u0000${sql}` : sql;
    let statement = this.#statements.get(key);
    if (statement) {
      // Most recently used last, so the oldest is dropped first.
      this.#statements.delete(key);
    } else {
      statement = this.#db.prepare(sql);
      if (raw && statement.reader) statement.raw(true);
      if (this.#statements.size >= maxStatements) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
    }
    this.#statements.set(key, statement);
    return statement;
  }

  /** Runs `fn` in a write transaction (BEGIN IMMEDIATE … COMMIT); rolls back if it throws. */
  async write<T>(fn: (sql: SqlTransaction) => Promise<T>): Promise<T> {
    this.#syncCommits(true);
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

  /**
   * Opens a write transaction (BEGIN IMMEDIATE) with the part of
   * @libsql/client's `Transaction` the group commit uses. Statements of other
   * callers must not run on this connection while it is open. With
   * `synced` false its commit is not synced to disk (see `#syncCommits`).
   */
  transaction(options: { synced?: boolean } = {}): LocalTransaction {
    this.#syncCommits(options.synced ?? true);
    this.#db.exec("BEGIN IMMEDIATE");
    const db = this.#db;
    return {
      execute: (statement) => {
        try {
          return Promise.resolve(this.execute(statement));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      commit: () => {
        db.exec("COMMIT");
        return Promise.resolve();
      },
      rollback: () => {
        if (db.inTransaction) db.exec("ROLLBACK");
        return Promise.resolve();
      },
      close: () => {
        if (db.inTransaction) db.exec("ROLLBACK");
      },
    };
  }

  /** One statement (autocommit, or in this connection's open transaction), answered like `Client.execute`. */
  execute(statement: InStatement): ResultSet {
    const { sql, args } = typeof statement === "string" ? { sql: statement, args: [] } : statement;
    if (!Array.isArray(args ?? [])) throw new TypeError("only positional arguments are supported here");
    const values = ((args ?? []) as unknown[]).map(toSql);
    const prepared = this.#prepare(sql, true);
    let shape = this.#shapes.get(prepared);
    if (!shape) this.#shapes.set(prepared, shape = shapeOf(prepared));
    if (shape.reader) {
      const rows = (prepared.all(values) as unknown[][]).map(shape.row);
      return resultSet(shape, rows, 0, undefined);
    }
    const info = prepared.run(values);
    return resultSet(shape, [], info.changes, BigInt(info.lastInsertRowid));
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

/**
 * The client, with `execute` (a statement on its own, outside any
 * transaction) answered by a connection that keeps its prepared statements.
 * Transactions, batches and migrations stay with the client's own pool.
 */
export function withStatementCache(client: Client, connection: LocalConnection): Client {
  return new Proxy(client, {
    get(target, property) {
      if (property === "execute") {
        return (statement: InStatement | string, args?: unknown[]) => {
          try {
            return Promise.resolve(
              connection.execute(
                typeof statement === "string" ? { sql: statement, args: (args ?? []) as never } : statement,
              ),
            );
          } catch (error) {
            return Promise.reject(error);
          }
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
