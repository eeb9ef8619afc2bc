/** Shared helpers for the benchmarks: machine facts, statistics, server processes, progress. */

export const repoRoot = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

// Child processes (the database build) inherit the start time, so their lines line up.
const startedAt = Number(Deno.env.get("BENCH_STARTED_AT")) || Date.now();
Deno.env.set("BENCH_STARTED_AT", String(startedAt));

/** Prints a progress line with the time since the run began. */
export function progress(line: string): void {
  const t = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(6);
  console.log(`[${t}s] ${line}`);
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  kernel: string;
  deno: string;
  v8: string;
  /** /proc/loadavg when the run began: other work on the machine skews every figure. */
  load: string;
}

export async function machine(): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  const osRelease = await Deno.readTextFile("/etc/os-release").catch(() => "");
  const os = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(osRelease)?.[1] ?? Deno.build.os;
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    ramGiB: Math.round(memKiB / 1024 / 1024 * 10) / 10,
    os,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    load: (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3).join(" "),
  };
}

/** Nearest-rank percentile of an unsorted sample (p in 0..100). */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p / 100 * sorted.length)));
  return sorted[rank - 1];
}

export function summarize(sample: readonly number[]) {
  const mean = sample.reduce((s, x) => s + x, 0) / sample.length;
  return {
    n: sample.length,
    mean,
    p50: percentile(sample, 50),
    p90: percentile(sample, 90),
    p99: percentile(sample, 99),
    max: Math.max(...sample),
  };
}

export const ms = (x: number, digits = 2) => `${x.toFixed(digits)} ms`;

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

export interface MemoryFigures {
  rssMiB: number;
  peakMiB: number;
  /** Anonymous memory (heaps: V8, SQLite caches, Rust). */
  anonMiB: number;
  /** File-backed pages: the deno executable, native libraries, mapped files. */
  fileMiB: number;
}

/** Resident set size, its peak and its parts, in MiB, of a process (Linux /proc). */
export async function memoryOf(pid: number): Promise<MemoryFigures> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const mib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) / 1024;
  return {
    rssMiB: mib("VmRSS"),
    peakMiB: mib("VmHWM"),
    anonMiB: mib("RssAnon"),
    fileMiB: mib("RssFile") + mib("RssShmem"),
  };
}

/** CPU time (user + system) a process has used, in seconds (Linux /proc). */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** How many SQLite connections a process holds on a database file (open file descriptors). */
export async function connectionsTo(pid: number, dbPath: string): Promise<number> {
  let count = 0;
  for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${entry.name}`).catch(() => "");
    if (target === dbPath) count++;
  }
  return count;
}

export interface ServerProcess {
  pid: number;
  origin: string;
  port: number;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * How `deno task start` runs the server (deno.json): its environment
 * assignments and its `deno run` flags, so the benchmarks measure the
 * instance as it is deployed.
 */
export function startTask(): { env: Record<string, string>; flags: string[] } {
  const config = JSON.parse(Deno.readTextFileSync(`${repoRoot}/deno.json`));
  const words = String(config.tasks.start).trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split("=");
    env[name] = value.join("=");
  }
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "server/main.ts") {
    throw new Error(
      `the start task is not "[VAR=value …] deno run [flags] server/main.ts": ${config.tasks.start}`,
    );
  }
  return { env, flags: words.slice(2, -1) };
}

/**
 * Starts the server as `deno task start` does (startTask), as a separate
 * process (its own event loop and V8 heap), and waits until /healthz answers.
 */
export async function startServerProcess(
  env: Record<string, string>,
  /** The checkout whose server/main.ts runs (default: this one). */
  root = repoRoot,
): Promise<ServerProcess> {
  const task = startTask();
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    // BENCH_SERVER_FLAGS adds Deno flags to the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    args: [
      "run",
      ...task.flags,
      ...(Deno.env.get("BENCH_SERVER_FLAGS")?.split(/\s+/).filter(Boolean) ?? []),
      "server/main.ts",
    ],
    cwd: root,
    // The load generators sign in many clients from one address, more than the per-address sign-in limit.
    env: {
      ...task.env,
      PORT: String(port),
      HARMONY_ORIGIN: origin,
      NO_COLOR: "1",
      HARMONY_SIGN_IN_LIMIT: "100000/60",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const deadline = Date.now() + 60_000;
  while (true) {
    if (exited) throw new Error(`the server exited during start-up:\n${text}`);
    try {
      const response = await fetch(`${origin}/healthz`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the server did not start within 60 s:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid,
    origin,
    port,
    output: () => text,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => exited || child.kill("SIGKILL"), 10_000);
      await status;
      clearTimeout(timer);
      await drained;
    },
  };
}

/** Runs `task` for every index with at most `concurrency` in flight. */
export async function pool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
