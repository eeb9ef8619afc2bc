/**
 * `deno task bench`: runs the benchmarks and rewrites BENCHMARKS.md.
 *
 *   deno task bench                  everything (first run builds a 1M-message database, ~1.5 min)
 *   deno task bench --only=ingest    some benchmarks, printed only: ingest, baseline, render, memory,
 *                                    bridge, fanout, capabilities, authority, live, search
 *   deno task bench --quick          small sizes, to check the harness, printed only
 *   deno task bench --report         BENCHMARKS.md again from the last full run's figures (no measuring)
 *
 * BENCH_SERVER_FLAGS adds Deno flags to the server processes, e.g.
 * BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them;
 * BENCH_SHOW_SERVER=1 prints what the ingest server logged.
 */
import { type AuthorityBenchRow, benchAuthority } from "./authority.ts";
import { BEFORE_AUTHORITY, ensureBaseline } from "./baseline.ts";
import { benchBridgeInbound, type BridgeBenchResult } from "./bridge.ts";
import { benchCapabilities, type CapabilityBenchRow } from "./capabilities.ts";
import { benchFanout, type FanoutResult } from "./fanout.ts";
import { benchIngest, type IngestResult } from "./ingest.ts";
import { benchLive, type LiveResult } from "./live.ts";
import { machine, progress, repoRoot } from "./lib.ts";
import { benchMemory, type MemoryResult } from "./memory.ts";
import { ensureRenderDatabase, type RenderDatabase } from "./populate.ts";
import { benchRender, type RenderResult } from "./render.ts";
import { type RunResults, writeReport } from "./report.ts";
import { benchSearch, defaultBuild, ensureSearchDatabase, type SearchBenchResult } from "./search.ts";

const lastRunPath = `${repoRoot}/bench/.cache/last-run.json`;
const args = new Set(Deno.args);
if (args.has("--report")) {
  const results = JSON.parse(await Deno.readTextFile(lastRunPath)) as RunResults;
  await Deno.writeTextFile(`${repoRoot}/BENCHMARKS.md`, writeReport(results).markdown);
  console.log(`BENCHMARKS.md written again from ${lastRunPath} (measured by \`${results.command}\`)`);
  Deno.exit(0);
}
const quick = args.has("--quick");
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const wants = (name: string) => !only || only.includes(name);

const sizes = quick
  ? {
    ingest: { messages: 2_000, warmup: 200, concurrency: 64, members: 8, channels: 4, runs: 1 },
    render: { channels: 10, messagesPerChannel: 1_000, members: 1_000 },
    renderRequests: { requests: 200, warmup: 50, httpRequests: 50 },
    bridge: { operations: 500, runs: 1, warmup: 100, concurrency: 64, authors: 16 },
    fanout: { followers: 50, messages: 2, followConcurrency: 32, timeoutMs: 30_000 },
    search: { messages: 20_000, queries: 20, warmup: 5, httpQueries: 40 },
    live: [{ streams: 100, messages: 20, rate: 10, processes: 2, members: 0, warmup: 5 }],
    seconds: 1,
  }
  : {
    ingest: { messages: 20_000, warmup: 2_000, concurrency: 64, members: 8, channels: 4, runs: 3 },
    render: { channels: 10, messagesPerChannel: 100_000, members: 1_000 },
    renderRequests: { requests: 2_000, warmup: 200, httpRequests: 300 },
    bridge: { operations: 5_000, runs: 3, warmup: 500, concurrency: 64, authors: 16 },
    fanout: { followers: 1_000, messages: 5, followConcurrency: 32, timeoutMs: 60_000 },
    search: { messages: 1_000_000, queries: 200, warmup: 10, httpQueries: 280 },
    live: [
      { streams: 1_000, messages: 220, rate: 10, processes: 4, members: 0, warmup: 20 },
      { streams: 1_000, messages: 220, rate: 10, processes: 4, members: 200, warmup: 20 },
    ],
    seconds: 3,
  };

const started = performance.now();
const host = await machine();
progress(`machine: ${host.cpu}, ${host.cores} cores, ${host.ramGiB} GiB, ${host.os}, Deno ${host.deno}`);

// Posting throughput now and before capability-based authorization, run for run in turn so
// that both see the same machine.
let ingest: IngestResult[] | null = null;
let baseline: RunResults["baseline"] = null;
if (wants("ingest") || wants("baseline")) {
  const { runs, ...options } = sizes.ingest;
  const before = wants("baseline") ? await ensureBaseline(BEFORE_AUTHORITY) : null;
  if (wants("ingest")) ingest = [];
  if (before) baseline = { commit: before.commit, runs: [] };
  for (let run = 1; run <= runs; run++) {
    if (ingest) {
      progress(`ingest: run ${run} of ${runs}`);
      ingest.push(await benchIngest(options));
    }
    if (before && baseline) {
      progress(`ingest at ${before.commit.slice(0, 12)} (baseline): run ${run} of ${runs}`);
      baseline.runs.push(await benchIngest({ ...options, serverRoot: before.root }));
    }
  }
}

let database: RenderDatabase | null = null;
let render: RenderResult | null = null;
if (wants("render") || wants("memory")) database = await ensureRenderDatabase(sizes.render);
if (wants("render")) render = await benchRender(database!, sizes.renderRequests);

let memory: MemoryResult[] | null = null;
if (wants("memory")) {
  memory = [
    await benchMemory({
      name: "fresh instance",
      databaseUrl: null,
      pageViews: 20,
      posts: 20,
      idleSeconds: 45,
    }),
    await benchMemory({
      name: "1M-message database",
      databaseUrl: database!.url,
      origin: database!.origin,
      owner: database!.owner,
      pageViews: 200,
      posts: 0,
      idleSeconds: 45,
    }),
  ];
}

let bridge: BridgeBenchResult | null = null;
if (wants("bridge")) {
  progress("bridge: inbound capability invocations");
  bridge = await benchBridgeInbound(sizes.bridge);
}

let fanout: FanoutResult | null = null;
if (wants("fanout")) fanout = await benchFanout(sizes.fanout);

let capabilities: CapabilityBenchRow[] | null = null;
if (wants("capabilities")) {
  progress("capabilities: invocation verification");
  capabilities = await benchCapabilities(sizes.seconds);
}

let authority: AuthorityBenchRow[] | null = null;
if (wants("authority")) {
  progress("authority: authorization checks");
  authority = await benchAuthority(sizes.seconds);
}

let live: LiveResult[] | null = null;
if (wants("live")) {
  live = [];
  for (const options of sizes.live) live.push(await benchLive(options));
}

let search: SearchBenchResult | null = null;
if (wants("search")) {
  const { messages, ...options } = sizes.search;
  const database = await ensureSearchDatabase({ ...defaultBuild, messages });
  search = await benchSearch(database, options);
}

/** The checked-out commit, marked when the working tree has changes; null outside a git checkout. */
async function currentCommit(): Promise<string | undefined> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args, cwd: repoRoot, stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  const commit = await git("rev-parse", "--short=12", "HEAD").catch(() => null);
  if (!commit) return undefined;
  // BENCHMARKS.md itself is left out: a previous run rewrote it.
  const changes = await git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md")
    .catch(() => null);
  return changes ? `${commit}+changes` : commit;
}

const seconds = (performance.now() - started) / 1000;
const command = `deno task bench${Deno.args.length ? ` ${Deno.args.join(" ")}` : ""}`;
const results: RunResults = {
  host,
  command,
  seconds,
  measuredAt: new Date().toISOString(),
  commit: await currentCommit(),
  ingest,
  baseline,
  database,
  render,
  memory,
  bridge,
  fanout,
  capabilities,
  authority,
  search,
  live,
};
if (quick || only) {
  progress(`partial run done in ${seconds.toFixed(0)} s; BENCHMARKS.md left as it is`);
  console.log(JSON.stringify(results, null, 2));
} else {
  const path = `${repoRoot}/BENCHMARKS.md`;
  // Kept so that a change to the report's text can be rendered again without measuring again.
  await Deno.mkdir(`${repoRoot}/bench/.cache`, { recursive: true });
  await Deno.writeTextFile(lastRunPath, JSON.stringify(results));
  const report = writeReport(results);
  await Deno.writeTextFile(path, report.markdown);
  progress(`wrote ${path} in ${seconds.toFixed(0)} s`);
  console.log(`\n${report.table}`);
}
