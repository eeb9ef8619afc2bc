/**
 * Benchmark 3: idle resident memory of a started instance. The server runs
 * as its own process, started as `deno task start` starts it; after
 * start-up and some requests it idles, and VmRSS (and the peak, VmHWM) is
 * read from /proc/<pid>/status 5 s into the quiet spell and again at its end,
 * once V8's memory reducer has run (it shrinks the heap after about 30 s
 * without work).
 */
import {
  HarmonyClient,
  type IdentityFile,
  identityFileFromMnemonic,
  signerFromIdentityFile,
} from "../cli/client.ts";
import { generateMnemonic } from "../server/crypto/derive.ts";
import { connectionsTo, memoryOf, progress, startServerProcess } from "./lib.ts";

export interface MemoryResult {
  name: string;
  requests: number;
  afterStartMiB: number;
  /** 5 s after the last request. */
  quietMiB: number;
  /** At the end of the quiet spell (`idleSeconds`). */
  idleMiB: number;
  idleSeconds: number;
  peakMiB: number;
  anonMiB: number;
  fileMiB: number;
  /** SQLite connections the server holds on its database file. */
  connections: number;
}

async function session(origin: string, owner: IdentityFile): Promise<HarmonyClient> {
  const client = new HarmonyClient(origin, await signerFromIdentityFile(owner));
  await client.signIn();
  return client;
}

async function get(url: string, cookie?: string): Promise<void> {
  const response = await fetch(url, { headers: cookie ? { cookie } : {} });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`GET ${url} gave ${response.status}`);
}

/**
 * `databaseUrl` null: a fresh instance in a temporary directory. Otherwise
 * the instance opens that database (with `origin` as its configured origin).
 */
export async function benchMemory(options: {
  name: string;
  databaseUrl: string | null;
  origin?: string;
  owner?: IdentityFile;
  pageViews: number;
  posts: number;
  idleSeconds: number;
}): Promise<MemoryResult> {
  const dir = options.databaseUrl ? null : await Deno.makeTempDir({ prefix: "harmony-bench-memory-" });
  const owner = options.owner ?? await identityFileFromMnemonic(generateMnemonic());
  const env: Record<string, string> = {
    DATABASE_URL: options.databaseUrl ?? `file:${dir}/harmony.db`,
    HARMONY_OWNER: owner.did,
  };
  if (options.origin) env.HARMONY_ORIGIN = options.origin;
  const server = await startServerProcess(env);
  try {
    const afterStartMiB = (await memoryOf(server.pid)).rssMiB;
    const base = `http://127.0.0.1:${server.port}`;
    let requests = 0;
    const client = await session(base, owner);
    requests += 2;
    const cookie = `harmony_session=${client.token}`;
    const channels = await client.channels();
    requests++;
    for (let i = 0; i < options.posts; i++) {
      await client.post(channels[0].id, `memory check ${i}`);
      requests += 2;
    }
    // The generated 1M-message database (bench/populate.ts) writes the owner as quads but grants it no
    // capability (that takes the community key of a started instance), so owner-only pages are left out.
    const pages = [
      "/",
      "/static/style.css",
      "/identity",
      "/profile",
      ...(options.databaseUrl ? [] : ["/settings"]),
    ];
    for (const path of pages) {
      await get(`${base}${path}`, cookie);
      requests++;
    }
    for (let i = 0; i < options.pageViews; i++) {
      const channel = channels[i % channels.length];
      await get(`${base}/channels/${channel.id}`, i % 2 ? cookie : undefined);
      await client.history(channel.id);
      requests += 3;
    }
    progress(`memory (${options.name}): ${requests} requests done; idling ${options.idleSeconds} s`);
    const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
    await sleep(5);
    const quietMiB = (await memoryOf(server.pid)).rssMiB;
    await sleep(options.idleSeconds - 5);
    const { rssMiB, peakMiB, anonMiB, fileMiB } = await memoryOf(server.pid);
    progress(
      `memory (${options.name}): RSS ${quietMiB.toFixed(1)} MiB after 5 s, ${
        rssMiB.toFixed(1)
      } MiB after ${options.idleSeconds} s (peak ${peakMiB.toFixed(1)} MiB)`,
    );
    const connections = await connectionsTo(server.pid, env.DATABASE_URL.slice("file:".length));
    return {
      name: options.name,
      requests,
      afterStartMiB,
      quietMiB,
      idleMiB: rssMiB,
      idleSeconds: options.idleSeconds,
      peakMiB,
      anonMiB,
      fileMiB,
      connections,
    };
  } finally {
    await server.stop();
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
