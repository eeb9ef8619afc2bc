/**
 * `deno task export-keys [--out FILE]`: the instance's keys (the community
 * key and its actors' keys) as a JSON file, for `deno task import --keys`
 * on the server the community moves to. Whoever holds this file can sign
 * for the community: keep it secret (written with mode 0600), and delete it
 * once the import is done.
 */
import { openDatabase } from "../../db/client.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { KeysFileError, readInstanceKeys } from "./keys.ts";

const args = [...Deno.args];
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : null;
if (args.length > 0 || (outAt >= 0 && !out)) {
  console.error("usage: deno task export-keys [--out FILE]   (the keys of $DATABASE_URL's instance)");
  Deno.exit(2);
}
try {
  const config = loadConfig();
  const database = await openDatabase(config.databaseUrl);
  try {
    const text = `${JSON.stringify(await readInstanceKeys(database), null, 2)}\n`;
    if (out) {
      await Deno.writeTextFile(out, text, { mode: 0o600, createNew: true });
      console.error(`wrote the instance's keys to ${out}: keep it secret`);
    } else {
      await Deno.stdout.write(new TextEncoder().encode(text));
    }
  } finally {
    database.close();
  }
} catch (error) {
  if (
    error instanceof ConfigError || error instanceof KeysFileError ||
    error instanceof Deno.errors.AlreadyExists
  ) {
    console.error(`export-keys: ${error.message}`);
    Deno.exit(1);
  }
  throw error;
}
