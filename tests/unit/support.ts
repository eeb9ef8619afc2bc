/** Shared pieces of the unit tests: a real libSQL file in a temporary directory. */
import { type Database, openDatabase } from "../../db/client.ts";

export interface TempDatabase extends Database {
  dir: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A migrated libSQL database in its own temporary directory, removed on dispose. */
export async function tempDatabase(): Promise<TempDatabase> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-unit-" });
  const database = await openDatabase(`file:${dir}/test.db`);
  return Object.assign(database, {
    dir,
    async [Symbol.asyncDispose]() {
      database.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  });
}
