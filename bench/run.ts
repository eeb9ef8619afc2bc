/**
 * `deno task bench`: runs the benchmarks and rewrites BENCHMARKS.md.
 *
 *   deno task bench                  everything (first run builds a 1M-message database, ~1.5 min)
 *   deno task bench --only=ingest    some benchmarks (ingest, render, memory), printed only
 *   deno task bench --quick          small sizes, to check the harness, printed only
 *
 * BENCH_SERVER_FLAGS adds Deno flags to the server processes, e.g.
 * BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them;
 * BENCH_SHOW_SERVER=1 prints what the ingest server logged.
 */
import { benchIngest, type IngestResult } from "./ingest.ts";
import { machine, progress, repoRoot } from "./lib.ts";
import { benchMemory, type MemoryResult } from "./memory.ts";
import { ensureRenderDatabase, type RenderDatabase } from "./populate.ts";
import { benchRender, type RenderResult } from "./render.ts";
import { writeReport } from "./report.ts";

const args = new Set(Deno.args);
const quick = args.has("--quick");
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const wants = (name: string) => !only || only.includes(name);

const sizes = quick
  ? {
    ingest: { messages: 2_000, warmup: 200, concurrency: 64, members: 8, channels: 4, runs: 1 },
    render: { channels: 10, messagesPerChannel: 1_000, members: 1_000 },
    renderRequests: { requests: 200, warmup: 50, httpRequests: 50 },
  }
  : {
    ingest: { messages: 20_000, warmup: 2_000, concurrency: 64, members: 8, channels: 4, runs: 3 },
    render: { channels: 10, messagesPerChannel: 100_000, members: 1_000 },
    renderRequests: { requests: 2_000, warmup: 200, httpRequests: 300 },
  };

const started = performance.now();
const host = await machine();
progress(`machine: ${host.cpu}, ${host.cores} cores, ${host.ramGiB} GiB, ${host.os}, Deno ${host.deno}`);

let ingest: IngestResult[] | null = null;
if (wants("ingest")) {
  ingest = [];
  const { runs, ...options } = sizes.ingest;
  for (let run = 1; run <= runs; run++) {
    progress(`ingest: run ${run} of ${runs}`);
    ingest.push(await benchIngest(options));
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
      idleSeconds: 5,
    }),
    await benchMemory({
      name: "1M-message database",
      databaseUrl: database!.url,
      origin: database!.origin,
      owner: database!.owner,
      pageViews: 200,
      posts: 0,
      idleSeconds: 5,
    }),
  ];
}

const seconds = (performance.now() - started) / 1000;
const command = `deno task bench${Deno.args.length ? ` ${Deno.args.join(" ")}` : ""}`;
if (quick || only) {
  progress(`partial run done in ${seconds.toFixed(0)} s; BENCHMARKS.md left as it is`);
  console.log(JSON.stringify({ ingest, render, memory }, null, 2));
} else {
  const path = `${repoRoot}/BENCHMARKS.md`;
  const report = writeReport({ host, command, seconds, ingest, database, render, memory });
  await Deno.writeTextFile(path, report.markdown);
  progress(`wrote ${path} in ${seconds.toFixed(0)} s`);
  console.log(`\n${report.table}`);
}
