/** The `harmony` command-line client in tests: as a real subprocess, or in this process with captured output. */
import type { Io } from "../../cli/commands/io.ts";
import { run } from "../../cli/harmony.ts";

const root = new URL("../..", import.meta.url).pathname;
const decoder = new TextDecoder();

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A cli/harmony.ts ARGS` with no HARMONY_* variables but those given. */
export async function harmonyProcess(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const env = Deno.env.toObject();
  delete env.HARMONY_SERVER;
  delete env.HARMONY_IDENTITY;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/harmony.ts", ...args],
    cwd: root,
    clearEnv: true,
    env: { ...env, NO_COLOR: "1", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Runs the CLI's `run(argv)` here, with no environment and nothing on stdin. */
export async function harmonyInProcess(argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    out: (text) => Promise.resolve(void (stdout += text)),
    err: (text) => Promise.resolve(void (stderr += text)),
    stdout: new WritableStream(),
    readInput: () => Promise.resolve(""),
    env: () => undefined,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}
