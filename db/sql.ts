/** Plain SQL over an open libSQL transaction (no query builder): for hot paths and the writer worker. */
import type { Transaction } from "@libsql/client";

export interface SqlTransaction {
  all(sql: string, args?: unknown[]): Promise<Record<string, unknown>[]>;
  run(sql: string, args?: unknown[]): Promise<void>;
}

export function sqlOver(tx: Transaction): SqlTransaction {
  return {
    async all(sql, args = []) {
      const result = await tx.execute({ sql, args: args as never[] });
      return result.rows as unknown as Record<string, unknown>[];
    },
    async run(sql, args = []) {
      await tx.execute({ sql, args: args as never[] });
    },
  };
}
