/**
 * Benchmark: time from post to arrival on 1,000 open live streams.
 *
 * The instance runs as a separate process (startServerProcess). The streams
 * are the pages' own live streams (`GET /channels/{id}/live`, the viewer-
 * neutral HTML events), opened over loopback HTTP by several client
 * processes (`--processes`, default 4) with plain fetch, as visitors on a
 * public channel (`--members` of them sign in as members instead, so their
 * streams also count for presence). Once every stream has said "ready",
 * the main process posts signed messages through the JSON API at a steady
 * rate. Latency for each (message, stream) pair is the arrival time of the
 * event on that stream minus the time the POST started (one clock: all
 * processes run on this machine and read performance.timeOrigin + now()).
 *
 *   deno run -A bench/live.ts [--streams 1000] [--messages 200] [--rate 10] [--processes 4] [--members 0]
 */
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../cli/client.ts";
import { generateMnemonic } from "../server/crypto/derive.ts";
import { cpuSecondsOf, memoryOf, progress, repoRoot, startServerProcess } from "./lib.ts";

export interface LiveOptions {
  streams: number;
  messages: number;
  /** Messages posted per second. */
  rate: number;
  processes: number;
  /** How many of the streams belong to signed-in members (the rest are visitors). */
  members: number;
  /** The first messages, posted like the others but left out of the figures (JIT, caches, connections). */
  warmup: number;
}

export interface LiveResult extends LiveOptions {
  /** Over every (message, stream) pair that arrived. */
  latency: ReturnType<typeof summarize>;
  /** Pairs that never arrived. */
  missing: number;
  /** Presence, typing and activity events the streams received. */
  otherEvents: number;
  /** POST round trips (start to response). */
  post: ReturnType<typeof summarize>;
  serverRssIdleMiB: number;
  serverRssStreamsMiB: number;
  serverRssAfterMiB: number;
  serverPeakMiB: number;
  serverCpuSeconds: number;
  seconds: number;
}

const now = () => performance.timeOrigin + performance.now();

/** Percentiles of a large sample (lib.ts summarize spreads its argument: too many for 200,000 pairs). */
function summarize(sample: number[]) {
  const sorted = Float64Array.from(sample).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    n: sorted.length,
    mean: sum / sorted.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: sorted[sorted.length - 1],
  };
}

// ---- the client process: opens streams, reports arrival times

async function listen(
  url: string,
  count: number,
  expected: number,
  deadlineMs: number,
  headers: string[],
): Promise<void> {
  const arrivals: number[][] = Array.from({ length: expected }, () => []);
  let ready = 0;
  let received = 0;
  /** Events other than messages (presence, typing, activity), for the report. */
  let other = 0;
  const total = count * expected;
  let resolveAll = () => {};
  const all = new Promise<void>((r) => resolveAll = r);
  const open = async (index: number) => {
    const auth = headers[index % Math.max(1, headers.length)];
    const response = await fetch(url, {
      headers: { accept: "text/event-stream", ...(auth ? { authorization: auth } : {}) },
    });
    if (!response.ok) throw new Error(`stream ${index}: ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    let isReady = false;
    try {
      for await (const chunk of response.body!) {
        const at = now();
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!isReady && block.includes("event: ready")) {
            isReady = true;
            if (++ready === count) console.log(JSON.stringify({ ready: true }));
            continue;
          }
          if (!block.startsWith("event: change")) {
            other++;
            continue;
          }
          const match = /bench-(\d+)-/.exec(block);
          if (!match) continue;
          arrivals[Number(match[1])].push(at);
          if (++received === total) resolveAll();
        }
      }
    } catch { /* aborted */ }
  };
  for (let i = 0; i < count; i++) {
    void open(i).catch((error) => console.error(String(error)));
    // Open gently: a burst of 1,000 connects is not what is measured.
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  // Wait for every message, or until the main process says the run is over (a line on stdin),
  // or a deadline; then report first and exit (closing 1,000 streams is not measured).
  const stdin = Deno.stdin.readable.getReader();
  await Promise.race([all, stdin.read(), new Promise((r) => setTimeout(r, deadlineMs))]);
  console.log(JSON.stringify({ arrivals, other }));
  Deno.exit(0);
}

// ---- the main process

async function newMember(origin: string, owner: HarmonyClient): Promise<HarmonyClient> {
  const file = await identityFileFromMnemonic(generateMnemonic());
  const member = new HarmonyClient(origin, await signerFromIdentityFile(file));
  await member.signIn();
  const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
  await member.request("POST", "/join", { invite: invite.code });
  return member;
}

interface Worker {
  child: Deno.ChildProcess;
  lines: AsyncIterator<string>;
  writer: WritableStreamDefaultWriter<Uint8Array>;
}

async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (
    const chunk of stream.pipeThrough(
      new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>,
    )
  ) {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
    }
  }
}

export async function benchLive(options: Partial<LiveOptions> = {}): Promise<LiveResult> {
  const o: LiveOptions = {
    streams: 1000,
    messages: 200,
    rate: 10,
    processes: 4,
    members: 0,
    warmup: 0,
    ...options,
  };
  const dir = await Deno.makeTempDir({ prefix: "harmony-bench-live-" });
  const ownerFile = await identityFileFromMnemonic(generateMnemonic());
  const server = await startServerProcess({
    DATABASE_URL: `file:${dir}/harmony.db`,
    HARMONY_OWNER: ownerFile.did,
  });
  progress(`live: server pid ${server.pid} on ${server.origin}`);
  const workers: Worker[] = [];
  try {
    const owner = new HarmonyClient(server.origin, await signerFromIdentityFile(ownerFile));
    await owner.signIn();
    const [channel] = await owner.channels();
    const poster = await newMember(server.origin, owner);
    const memberTokens: string[] = [];
    for (let i = 0; i < o.members; i++) {
      memberTokens.push(`Bearer ${(await newMember(server.origin, owner)).token}`);
    }
    const serverRssIdleMiB = (await memoryOf(server.pid)).rssMiB;

    // Sign every message before the clock starts.
    const signed = [];
    for (let i = 0; i < o.messages; i++) {
      signed.push(await poster.signedMessage(channel.iri, `bench-${i}- a message for every open page`));
    }

    const url = `${server.origin}/channels/${channel.id}/live`;
    const per = Math.ceil(o.streams / o.processes);
    for (let p = 0; p < o.processes; p++) {
      const count = Math.min(per, o.streams - p * per);
      if (count <= 0) break;
      const headers = memberTokens.filter((_, i) => i % o.processes === p);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "bench/live.ts",
          "--listen",
          url,
          String(count),
          String(o.messages),
          String(Math.ceil(o.messages / o.rate) * 1000 + 60_000),
          ...headers,
        ],
        cwd: repoRoot,
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      workers.push({
        child,
        lines: linesOf(child.stdout)[Symbol.asyncIterator](),
        writer: child.stdin.getWriter(),
      });
    }
    for (const w of workers) {
      const line = await w.lines.next();
      if (line.done || !JSON.parse(line.value).ready) {
        throw new Error("a client process failed to open its streams");
      }
    }
    const serverRssStreamsMiB = (await memoryOf(server.pid)).rssMiB;
    progress(`live: ${o.streams} streams open (server RSS ${serverRssStreamsMiB.toFixed(0)} MiB); posting`);

    const cpu0 = await cpuSecondsOf(server.pid);
    const started: number[] = [];
    const postTimes: number[] = [];
    const t0 = now();
    const interval = 1000 / o.rate;
    const posts: Promise<void>[] = [];
    for (let i = 0; i < o.messages; i++) {
      const due = t0 + i * interval;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      started[i] = now();
      posts.push(
        fetch(`${server.origin}/api/channels/${channel.id}/messages`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${poster.token}` },
          body: JSON.stringify({ message: signed[i] }),
        }).then(async (r) => {
          await r.body?.cancel();
          if (r.status !== 201) throw new Error(`post ${i}: ${r.status}`);
          postTimes[i] = now() - started[i];
        }),
      );
    }
    await Promise.all(posts);
    // Give the last events time to arrive, then collect.
    let otherEvents = 0;
    const collected = workers.map(async (w) => {
      const timer = setTimeout(() => w.writer.write(new Uint8Array([10])).catch(() => {}), 10_000);
      while (true) {
        const line = await w.lines.next();
        if (line.done) throw new Error("a client process ended without results");
        const data = JSON.parse(line.value);
        if (data.arrivals) {
          clearTimeout(timer);
          otherEvents += data.other;
          return data.arrivals as number[][];
        }
      }
    });
    const results = await Promise.all(collected);
    const seconds = (now() - t0) / 1000;
    const serverCpuSeconds = (await cpuSecondsOf(server.pid)) - cpu0;
    const memory = await memoryOf(server.pid);
    const latencies: number[] = [];
    let arrived = 0;
    for (const arrivals of results) {
      for (let i = 0; i < o.messages; i++) {
        arrived += arrivals[i].length;
        if (i >= o.warmup) { for (const at of arrivals[i]) latencies.push(at - started[i]); }
      }
    }
    // Pairs that never arrived (warm-up messages included).
    const missing = o.streams * o.messages - arrived;
    return {
      ...o,
      latency: summarize(latencies),
      missing,
      otherEvents,
      post: summarize(postTimes.slice(o.warmup)),
      serverRssIdleMiB,
      serverRssStreamsMiB,
      serverRssAfterMiB: memory.rssMiB,
      serverPeakMiB: memory.peakMiB,
      serverCpuSeconds,
      seconds,
    };
  } finally {
    for (const w of workers) {
      await w.writer.write(new Uint8Array([10])).catch(() => {});
      await w.writer.close().catch(() => {});
      // A client process stuck writing results nobody reads any more is stopped.
      const timer = setTimeout(() => {
        try {
          w.child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 5_000);
      await w.child.status.catch(() => {});
      clearTimeout(timer);
    }
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(Deno.args[i + 1]);
}

if (import.meta.main) {
  if (Deno.args[0] === "--listen") {
    const [, url, count, expected, deadline, ...headers] = Deno.args;
    await listen(url, Number(count), Number(expected), Number(deadline), headers);
  } else {
    const result = await benchLive({
      streams: flag("streams", 1000),
      messages: flag("messages", 200),
      rate: flag("rate", 10),
      processes: flag("processes", 4),
      members: flag("members", 0),
      warmup: flag("warmup", 0),
    });
    const f = (x: number) => x.toFixed(1);
    console.log(
      `live: ${result.streams} streams × ${result.messages} messages at ${result.rate}/s ` +
        `(${result.processes} client processes, ${result.members} signed-in members)\n` +
        `  post → arrival over ${result.latency.n} pairs: p50 ${f(result.latency.p50)} ms, p90 ${
          f(result.latency.p90)
        } ms, p99 ${f(result.latency.p99)} ms, max ${
          f(result.latency.max)
        } ms; missing ${result.missing}; other events ${result.otherEvents}\n` +
        `  POST round trip p50 ${f(result.post.p50)} ms, p99 ${f(result.post.p99)} ms\n` +
        `  server RSS: idle ${f(result.serverRssIdleMiB)} MiB, streams open ${
          f(result.serverRssStreamsMiB)
        } MiB, after ${f(result.serverRssAfterMiB)} MiB (peak ${f(result.serverPeakMiB)} MiB); server CPU ${
          f(result.serverCpuSeconds)
        } s over ${f(result.seconds)} s`,
    );
    console.log(JSON.stringify(result));
  }
}
