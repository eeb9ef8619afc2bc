/**
 * `deno task import FILE [--keys KEYS]`: loads a signed N-Quads export into
 * an empty database, after checking it (server/exchange/exchange.ts). KEYS
 * is the keys file `deno task export-keys` wrote on the server the export
 * came from; without it, the database must already hold that community key.
 */
import { openDatabase } from "../../db/client.ts";
import { NQuadsSyntaxError } from "../../db/nquads.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { importNQuads, ImportRefusedError } from "./exchange.ts";
import { KeysFileError, parseInstanceKeys } from "./keys.ts";

const usage = "usage: deno task import FILE.nq [--keys KEYS.json]   " +
  "(imports into $DATABASE_URL, which must be empty; HARMONY_ORIGIN must be the export's origin)";
const args = [...Deno.args];
const keysAt = args.indexOf("--keys");
const keysFile = keysAt >= 0 ? args.splice(keysAt, 2)[1] : null;
const [file, ...rest] = args;
if (!file || rest.length > 0 || (keysAt >= 0 && !keysFile)) {
  console.error(usage);
  Deno.exit(2);
}
try {
  const config = loadConfig();
  const text = await Deno.readTextFile(file);
  const keys = keysFile ? await parseInstanceKeys(await Deno.readTextFile(keysFile)) : null;
  const database = await openDatabase(config.databaseUrl);
  try {
    const count = await importNQuads(database, text, { origin: config.origin, keys });
    console.log(`imported ${count} quads into ${config.databaseUrl}: every signature verified`);
  } finally {
    database.close();
  }
} catch (error) {
  if (
    error instanceof ImportRefusedError || error instanceof NQuadsSyntaxError ||
    error instanceof ConfigError || error instanceof KeysFileError ||
    error instanceof Deno.errors.NotFound
  ) {
    console.error(`import refused: ${error.message}`);
    Deno.exit(1);
  }
  throw error;
}
