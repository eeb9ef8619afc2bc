/** `harmony credentials` and joining with a credential (`harmony join --credential FILE`). */
import { CliError, stringOption } from "./args.ts";
import type { Command } from "./command.ts";
import { localTime, table } from "./io.ts";

/** Reads a credential file (the JSON from the profile page or `harmony credentials --out`). */
export async function readCredentialFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new CliError(`cannot read the credential file ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not a credential: it is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CliError(`${path} is not a credential`);
  }
  return value as Record<string, unknown>;
}

export const credentialCommands: Command[] = [
  {
    name: "credentials",
    synopsis: "[--out DIR]",
    summary: "list the credentials the community issued you; --out saves each one as a JSON file",
    arity: [0, 0],
    options: ["out"],
    async run({ options, connect, io }) {
      const out = stringOption(options, "out");
      const client = await connect();
      const records = await client.credentials();
      if (out) await Deno.mkdir(out, { recursive: true });
      const rows: string[][] = [];
      for (const r of records) {
        const name = `${r.kind === "membership" ? "membership" : `role-${r.role}`}-${r.id.slice(-12)}.json`;
        if (out) await Deno.writeTextFile(`${out}/${name}`, JSON.stringify(r.credential, null, 2) + "\n");
        rows.push([
          r.kind === "membership" ? "membership" : `role: ${r.role}`,
          r.revoked ? `revoked ${localTime(r.revokedAt)}` : "valid",
          localTime(r.issued),
          out ? name : r.id,
        ]);
      }
      await io.out(table(["CREDENTIAL", "STATE", "ISSUED", out ? "FILE" : "ID"], rows));
    },
  },
];
