/**
 * An instance running as its own process (server/main.ts), for tests that
 * watch the process from outside: its memory (/proc/PID/status) or how it
 * survives being killed.
 */
import { freePort } from "../http/support.ts";

const mainModule = new URL("../../server/main.ts", import.meta.url).pathname;

export interface ServerProcess {
  pid: number;
  port: number;
  origin: string;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resident memory now, in bytes. */
  rss(): number;
  /** Forgets the peak so far: the next peak() is measured from now (Linux clear_refs). */
  resetPeak(): void;
  /** The highest resident memory since start or the last resetPeak(), in bytes. */
  peak(): number;
  [Symbol.asyncDispose](): Promise<void>;
}

function statusField(pid: number, field: string): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Starts server/main.ts on a free port over a fresh database; `env` adds to the configuration. */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-process-" });
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", mainModule],
    env: {
      PORT: String(port),
      HARMONY_ORIGIN: origin,
      DATABASE_URL: `file:${dir}/harmony.db`,
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const dispose = async () => {
    if (!exited) child.kill("SIGKILL");
    await status;
    await pumped;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 30_000;
  while (!out.includes("Harmony is listening")) {
    if (exited || Date.now() > deadline) {
      await dispose();
      throw new Error(`the server did not start:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    pid: child.pid,
    port,
    origin,
    output: () => out,
    rss: () => statusField(child.pid, "VmRSS"),
    resetPeak: () => Deno.writeTextFileSync(`/proc/${child.pid}/clear_refs`, "5"),
    peak: () => statusField(child.pid, "VmHWM"),
    [Symbol.asyncDispose]: dispose,
  };
}
