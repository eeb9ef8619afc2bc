/** `deno task import FILE`: loads an N-Quads export into an empty database. */
import { openDatabase } from "../../db/client.ts";
import { NQuadsSyntaxError } from "../../db/nquads.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { importNQuads, ImportRefusedError } from "./exchange.ts";

const [file] = Deno.args;
if (!file) {
  console.error("usage: deno task import FILE.nq   (imports into $DATABASE_URL, which must be empty)");
  Deno.exit(2);
}
try {
  const config = loadConfig();
  const text = await Deno.readTextFile(file);
  const database = await openDatabase(config.databaseUrl);
  try {
    const count = await importNQuads(database, text);
    console.log(`imported ${count} quads into ${config.databaseUrl}`);
  } finally {
    database.close();
  }
} catch (error) {
  if (
    error instanceof ImportRefusedError || error instanceof NQuadsSyntaxError ||
    error instanceof ConfigError ||
    error instanceof Deno.errors.NotFound
  ) {
    console.error(`import: ${error.message}`);
    Deno.exit(1);
  }
  throw error;
}
