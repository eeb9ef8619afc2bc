/** Writes BENCHMARKS.md from one run's results. */
import { type IngestResult, QUADS_PER_MESSAGE } from "./ingest.ts";
import type { Machine } from "./lib.ts";
import type { MemoryResult } from "./memory.ts";
import type { RenderDatabase } from "./populate.ts";
import type { RenderResult } from "./render.ts";
import type { AuthorityBenchRow } from "./authority.ts";
import type { BridgeBenchResult } from "./bridge.ts";
import type { CapabilityBenchRow } from "./capabilities.ts";
import type { FanoutResult } from "./fanout.ts";
import {
  authorityPart,
  bridgePart,
  capabilitiesPart,
  fanoutPart,
  livePart,
  type Part,
  postingVsBaseline,
  searchPart,
} from "./report_more.ts";
import type { SearchBenchResult } from "./search.ts";
import type { LiveResult } from "./live.ts";

export interface RunResults {
  host: Machine;
  command: string;
  seconds: number;
  /** When the run ended (ISO 8601) and the commit it measured (with "+changes" when the tree was not clean). */
  measuredAt?: string;
  commit?: string;
  ingest: IngestResult[] | null;
  database: RenderDatabase | null;
  render: RenderResult | null;
  memory: MemoryResult[] | null;
  /** Benchmark 1 run against an earlier commit (bench/baseline.ts). */
  baseline: { commit: string; runs: IngestResult[] } | null;
  bridge: BridgeBenchResult | null;
  fanout: FanoutResult | null;
  capabilities: CapabilityBenchRow[] | null;
  authority: AuthorityBenchRow[] | null;
  search: SearchBenchResult | null;
  live: LiveResult[] | null;
}

const n0 = (x: number) => Math.round(x).toLocaleString("en");
const f = (x: number, digits = 2) => x.toFixed(digits);
const mb = (mib: number) => mib * 1.048576;
const verdict = (ok: boolean) => (ok ? "**PASS**" : "**MISS**");

function median<T>(items: T[], key: (t: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)];
}

export function writeReport(r: RunResults): { markdown: string; table: string } {
  const rows: string[] = [
    "| # | Benchmark | Target | Result | Status |",
    "|---|---|---|---|---|",
  ];
  const sections: string[] = [];

  if (r.ingest && r.ingest.length) {
    const m = median(r.ingest, (x) => x.perSecond);
    const stored = r.ingest.every((x) =>
      x.failures === 0 && x.stored.messages === x.stored.expected &&
      x.stored.messageQuads === QUADS_PER_MESSAGE * x.stored.expected && x.stored.lamportsDense
    );
    rows.push(
      `| 1 | Signed messages ingested over HTTP, durable commit (${m.concurrency} in flight) | ≥ 2,000 msg/s | ${
        n0(m.perSecond)
      } msg/s (median of ${r.ingest.length} runs), p50 ${f(m.latency.p50, 0)} ms, p99 ${
        f(m.latency.p99, 0)
      } ms | ${verdict(m.perSecond >= 2000 && stored)} |`,
    );
    sections.push(`## 1. Ingest: signed messages per second through the HTTP API

**What it measures.** The server runs as a separate process, started as \`deno task start\` starts it, with
\`PORT\`, \`HARMONY_ORIGIN\`, \`HARMONY_OWNER\` and \`DATABASE_URL\` pointing at a fresh libSQL file in a
temporary directory), so the load generator and the server do not share an event loop. Its database
runs in WAL mode with \`synchronous = FULL\` and group commit: a \`201\` means the message is durably
committed. The load generator signs in ${m.members} members, creates ${m.channels} channels, and signs
${n0(m.warmup + m.messages)} messages with \`cli/client.ts\` (eddsa-jcs-2022, exactly as the browser
signs) **before the clock starts**, so client-side signing is not in the measured window
(${f(m.presignSeconds, 1)} s of signing, excluded). It then POSTs \`/api/channels/:id/messages\` with
${m.concurrency} requests in flight over keep-alive connections: ${n0(m.warmup)} warm-up messages, then
${n0(m.messages)} measured. Latency is from the start of the request to the end of the response body.
At the end the server is stopped and the database file is read: the stored message count must equal
every message sent, with ${QUADS_PER_MESSAGE} quads each (type, author, published, Lamport time, content), and each channel's Lamport clocks must run 1..n without gaps.

| Run | Messages/s | p50 | p90 | p99 | max | Server CPU per message | Client CPU | Stored / sent | Quads | Lamports dense |
|---|---|---|---|---|---|---|---|---|---|---|
${
      r.ingest.map((x, i) =>
        `| ${i + 1} | ${n0(x.perSecond)} | ${f(x.latency.p50, 0)} ms | ${f(x.latency.p90, 0)} ms | ${
          f(x.latency.p99, 0)
        } ms | ${f(x.latency.max, 0)} ms | ${f(x.serverCpuSeconds / x.messages * 1000)} ms | ${
          f(x.clientCpuSeconds, 1)
        } s | ${n0(x.stored.messages)} / ${n0(x.stored.expected)} | ${n0(x.stored.messageQuads)} | ${
          x.stored.lamportsDense ? "yes" : "NO"
        } |`
      ).join("\n")
    }

Both processes share the machine's ${r.host.cores} cores. The server's CPU time per message (user +
system, from \`/proc/<pid>/stat\` over the measured window) shows where the ceiling is: server and load
generator together need about (server CPU + client CPU) / messages of the two cores per message. The
server process's RSS after the run was
${f(m.serverRssAfterMiB, 0)} MiB.

**How the write path keeps up.** The main thread verifies each message's signature (WebCrypto
Ed25519) and checks the author's capability to post, then hands the operation to the operation
writer (server/messages/opWriter.ts). Under load the writer runs on a worker thread with its own connection
(server/messages/opWorker.ts): it takes every operation waiting, folds the whole group into the log with one
multi-row \`INSERT\` per table and the channel counters read once per channel per group, commits
durably, and only then are the requests answered. Request handling and Ed25519 verification use
one core, the writes the other. The worker's connection keeps its prepared statements
(db/connection.ts): through @libsql/client, which prepares every statement on every call, preparing took
about 90 µs per message, as long as running the statements. About half of the worker's time is the
commit's fsync (3–4 ms on this disk, once per batch of about 20 messages).`);
  }

  if (r.render && r.database) {
    const [anon, member, older] = r.render.scenarios;
    for (const [i, s] of [anon, member, older].entries()) {
      rows.push(
        `| 2${"abc"[i]} | ${s.name} (${
          n0(r.render.totalMessages)
        } messages, 100k per channel) | p99 ≤ 10 ms | p50 ${f(s.latency.p50)} ms, p99 ${
          f(s.latency.p99)
        } ms | ${verdict(s.latency.p99 <= 10)} |`,
      );
    }
    rows.push(
      `| 2d | ${r.render.http.name} | (informational) | p50 ${f(r.render.http.latency.p50)} ms, p99 ${
        f(r.render.http.latency.p99)
      } ms | — |`,
    );
    const d = r.database;
    sections.push(`## 2. Render: a channel page from 1,000,000 messages

**What it measures.** The time the server takes to produce the full HTML of \`GET /channels/:id\`
(the latest 50 messages, sidebar, member list) from channels of ${
      n0(d.options.messagesPerChannel)
    } messages each, ${n0(r.render.totalMessages)} messages in the database (${f(d.bytes / 2 ** 30)} GiB), ${
      n0(d.options.members)
    } members (four in five with a profile). The instance is started
in-process on that file with \`startInstance\` (server/instance.ts); the timed call is the Hono app's
\`fetch\` (\`createApp\` over the instance's \`Harmony\`, the same app its listener serves), measured with
\`performance.now()\` from the \`Request\` to the fully read body, one request at a time, rotating over
the ${d.options.channels} channels: ${n0(r.render.warmup)} warm-up requests, then ${
      n0(r.render.requests)
    } measured per scenario. It includes the session lookup, the permission checks, the keyset query
over \`message_index\`, Markdown rendering and JSX. Socket and HTTP parsing are not in it; row 2d gives
the same page over loopback HTTP, as a client sees it (client and server in one process there).
Every response is checked: status 200 and exactly 50 messages.

The database is generated with SQL (bench/populate.ts) rather than through the API: for each message
the seven quads and the \`message_index\` row that \`postMessage\` writes, channels interleaved in time;
members, profiles and channels as quads in the community and profiles graphs. Proofs have the real
shape and size but placeholder signatures (nothing on the read path verifies them). It is cached in
\`bench/.cache\` under a hash of the migrations and the generator${
      d.builtInSeconds === null
        ? " (this run reused the cache)"
        : `; this run built it in ${f(d.builtInSeconds, 0)} s`
    }.

| Scenario | Page size | mean | p50 | p90 | p99 | max |
|---|---|---|---|---|---|---|
${
      [...r.render.scenarios, r.render.http].map((s) =>
        `| ${s.name} | ${f(s.kib, 0)} KiB | ${f(s.latency.mean)} ms | ${f(s.latency.p50)} ms | ${
          f(s.latency.p90)
        } ms | ${f(s.latency.p99)} ms | ${f(s.latency.max)} ms |`
      ).join("\n")
    }

The signed-in page is about ${
      f(member.latency.p50 / anon.latency.p50, 1)
    }× slower than the signed-out one because it lists all ${n0(d.options.members)} members
(${f(member.kib, 0)} KiB of HTML against ${f(anon.kib, 0)} KiB): the member list, not the message
history, is the largest part of the render (building the sorted member listing from the snapshot and
rendering 1,000 avatars and links on every request). Rendering that list lazily (an htmx fragment, or
only the members online) or caching its HTML per snapshot would bring the member page down to the
signed-out figure. Older pages cost the same at any depth (keyset paging). Of the signed-out page's
time, reading the 51 rows is the largest single part, and it is mostly the driver: through
\`@libsql/client\` the page's query takes about 0.7 ms, of which SQLite's own work is about 0.05 ms;
the rest is turning 51 × 9 values into JavaScript objects across the native boundary (measured while
writing this benchmark).

**Counter query fix.** Posting computes the next Lamport time and revision of the channel. As one
query, \`SELECT max(lamport), max(revision) … WHERE channel = ?\`, SQLite cannot use its min/max
shortcut and reads every row of the channel: ${f(r.render.counters.combinedMs)} ms on a channel of ${
      n0(r.render.counters.channelMessages)
    } messages, per post. As two single-aggregate queries (what server/messages/messages.ts now does) it takes ${
      f(r.render.counters.separateMs, 3)
    } ms.`);
  }

  if (r.memory && r.memory.length) {
    const [fresh, big] = r.memory;
    rows.push(
      `| 3 | Idle RSS of a started instance (${fresh.name}) | ≤ 100 MB | ${f(fresh.idleMiB, 1)} MiB (${
        f(mb(fresh.idleMiB), 1)
      } MB) | ${verdict(mb(fresh.idleMiB) <= 100)} |`,
    );
    if (big) {
      rows.push(
        `| 3b | Idle RSS on the ${big.name} (after ${big.requests} requests) | (informational) | ${
          f(big.idleMiB, 1)
        } MiB (${f(mb(big.idleMiB), 1)} MB) | — |`,
      );
    }
    sections.push(`## 3. Idle memory

**What it measures.** The server runs as its own process, started the way \`deno task start\` starts it
(deno.json: \`deno run --no-code-cache --v8-flags=--expose-gc,--no-memory-pool-share-memory-on-teardown …\`). After it answers \`/healthz\`, the owner
signs in, posts messages and browses (pages, static assets, JSON history); then the instance is left alone
and \`VmRSS\` is read from \`/proc/<pid>/status\` twice: 5 s after the last request, and after
${r.memory[0].idleSeconds} s without requests, once V8's memory reducer has run (it shrinks the heap
after about 30 s without work). The idle figure is the second. \`VmHWM\` is the peak. The target applies to
a fresh instance; the second line is the same instance opened on the 1,000,000-message database after
${big ? big.requests : 0} requests. 1 MiB = 1.048576 MB.

| Instance | Requests | RSS after start-up | RSS 5 s after the last request | Idle RSS | of which anonymous | of which file-backed | Peak RSS | SQLite connections |
|---|---|---|---|---|---|---|---|---|
${
      r.memory.map((x) =>
        `| ${x.name} | ${x.requests} | ${f(x.afterStartMiB, 1)} MiB | ${f(x.quietMiB, 1)} MiB | ${
          f(x.idleMiB, 1)
        } MiB | ${f(x.anonMiB, 1)} MiB | ${f(x.fileMiB, 1)} MiB | ${f(x.peakMiB, 1)} MiB | ${x.connections} |`
      ).join("\n")
    }

Where it goes (measured while changing it): about 55 MiB of the idle figure is file-backed, mostly the pages
of the \`deno\` executable that ran (about 45 MiB) and the libSQL binding (5 MiB); the rest is anonymous:
V8's heap (about 17 MiB after start-up, of which about 6 MiB is the source text of the loaded modules) and the
allocations of Deno's runtime, the libSQL connections and the threads. What was cut, measured on a fresh
instance with \`VmRSS\` after the same requests: the ActivityPub layer is loaded only once something
federates (federation/gate.ts; Fedify and its vocabulary were about 40 MiB); the libSQL client's pool had
opened 20 connections, each with its own page cache and schema, and the instance now holds 3 (see
ARCHITECTURE.md, "Connections to the database"); \`--no-code-cache\` saved about 4 MiB; and the browser
script is served from the committed static/app.js instead of being bundled in the server process at start-up
(server/http/assets.ts), which left the bundler's code and state resident: about 5 MiB (108.9 → 103.5 MiB, one
run each). Measured and not enough on their own: V8's \`--single-threaded-gc\` (about 2.5 MiB, fewer threads) and
calling glibc's \`malloc_trim(0)\` once idle (nothing measurable: of the 31 MB glibc holds, 18.6 MB is in
use, and the free part is mostly not resident); about 10 MiB of the anonymous part is glibc's main arena
filled while the modules load, before any request. Not taken: \`MALLOC_ARENA_MAX=2\` (glibc otherwise gives each of the ~30 threads its own
arena) saved another 3–7 MiB but cost 15–20% of posting throughput (2,193, 1,856 and 2,212 msg/s against
2,740, 2,597 and 2,620 msg/s without it, run back to back with \`deno task bench --only=ingest\`).
The Digital Bazaar libraries for capabilities and credentials (jsonld, jsonld-signatures, the VC and zcap
libraries, and through jsonld's Node document loader, undici and Node's http modules) are no longer loaded
on the main thread: they run in the proof worker (server/proofs/mod.ts), which the flow above starts
(the owner's grants and credentials, the first authorization) and which stops after 20 s without a call;
the server no longer loads the curve and cipher libraries either (only the clients seal DMs and device keys).
With the libraries on the main thread the figure was 103.4 MiB; loaded there only on first use, 98–100 MiB;
in the worker, 92–94 MiB when V8 returned the stopped worker's pages and about 111 MiB in about half the runs
when it did not (V8 parks them in a process-wide pool released by a task an idle event loop may never run,
hence \`--no-memory-pool-share-memory-on-teardown\`). The instance also runs V8's memory-reducing collection
once after 30 s without a request (server/http/idleMemory.ts): five runs each, 92.0–93.8 MiB with it,
91.9–95.5 MiB without. On the large database
the instance sits higher right after serving: loading the community snapshot (1,000 members and their
profiles) passes many short-lived rows through drizzle, and V8 keeps the pages it grew into until the
memory reducer runs.`);
  }

  const parts: Part[] = [];
  if (r.ingest?.length && r.baseline?.runs.length) parts.push(postingVsBaseline(r.ingest, r.baseline));
  if (r.bridge) parts.push(bridgePart(r.bridge));
  if (r.fanout) parts.push(fanoutPart(r.fanout));
  if (r.capabilities?.length) parts.push(capabilitiesPart(r.capabilities));
  if (r.authority?.length) parts.push(authorityPart(r.authority));
  if (r.live?.length) parts.push(livePart(r.live));
  if (r.search) parts.push(searchPart(r.search));
  for (const part of parts) {
    rows.push(...part.rows);
    sections.push(part.section);
  }

  const table = rows.join("\n");
  const h = r.host;
  const markdown = `# Benchmarks

Generated by \`${r.command}\` (\`deno run --allow-all bench/run.ts\`) on ${
    (r.measuredAt ?? new Date().toISOString()).slice(0, 16).replace("T", " ")
  } UTC${r.commit ? ` at commit ${r.commit}` : ""} in ${f(r.seconds, 0)} s. Do not edit by hand:
the file is rewritten on every run. Benchmarks measure; they are not tests and do not fail.

## Machine

| | |
|---|---|
| CPU | ${h.cpu} |
| Cores | ${h.cores} |
| RAM | ${h.ramGiB} GiB |
| OS | ${h.os} (kernel ${h.kernel}) |
| Deno | ${h.deno} (V8 ${h.v8}) |
| Load average at start | ${h.load} (other work on the machine lowers every figure) |
| Command | \`${r.command}\` |

## Results

${table}

${sections.join("\n\n")}
`;
  return { markdown, table };
}
