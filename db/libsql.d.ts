// The part of the `libsql` binding db/connection.ts uses. Its own typings
// reference Node's, which would change the types of node:assert everywhere.
interface Statement {
  readonly reader: boolean;
  run(params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  all(params: unknown[]): unknown[];
  raw(toggle?: boolean): Statement;
  columns(): Array<{ name: string; type: string | null }>;
}

declare class Database {
  constructor(path: string, options?: { timeout?: number });
  readonly inTransaction: boolean;
  prepare(sql: string): Statement;
  exec(sql: string): void;
  close(): void;
}

export default Database;
