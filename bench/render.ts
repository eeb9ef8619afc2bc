/**
 * Benchmark 2: server-side render time of a channel page (the latest 50
 * messages) from channels of 100,000 messages among 1,000,000, and of an
 * older page deep in history.
 *
 * The instance is started in-process on the cached database with
 * startInstance; the timed call is the Hono app's `fetch` (the same app
 * the listener serves, built by createApp over the instance's Harmony),
 * from the Request to the fully read HTML body. HTTP parsing and the
 * socket are not in that figure; a smaller loopback HTTP sample is
 * reported beside it.
 */
import { HarmonyClient, signerFromIdentityFile } from "../cli/client.ts";
import { createApp } from "../server/app.tsx";
import { loadAssets } from "../server/http/assets.ts";
import { loadConfig } from "../server/config.ts";
import { startInstance } from "../server/instance.ts";
import { encodeCursor } from "../server/messages/messages.ts";
import { progress, summarize } from "./lib.ts";
import type { RenderDatabase } from "./populate.ts";

export interface Scenario {
  name: string;
  path: string;
  viewer: "anonymous" | "member";
  latency: ReturnType<typeof summarize>;
  kib: number;
}

export interface RenderResult {
  requests: number;
  warmup: number;
  scenarios: Scenario[];
  http: Scenario;
  counters: { combinedMs: number; separateMs: number; channelMessages: number };
  totalMessages: number;
}

const articles = (html: string) => html.split("<article").length - 1;

export async function benchRender(
  database: RenderDatabase,
  options: { requests: number; warmup: number; httpRequests: number },
): Promise<RenderResult> {
  const config = loadConfig({ PORT: "0", HARMONY_ORIGIN: database.origin, DATABASE_URL: database.url });
  const instance = await startInstance(config, { log: () => {} });
  try {
    const h = instance.harmony;
    const app = createApp(h, await loadAssets());
    const origin = database.origin;
    const client = h.database.client;
    const count = async (sql: string, args: Array<string | number> = []) =>
      Number((await client.execute({ sql, args })).rows[0][0]);

    const snapshot = await h.snapshot();
    const channels = snapshot.channels;
    const totalMessages = await count("SELECT count(*) FROM message_index");
    progress(
      `render: instance on ${database.path}: ${channels.length} channels, ${snapshot.members.size} members, ` +
        `${totalMessages.toLocaleString("en")} messages`,
    );

    // Sign the owner in through the real API (in-process), for the member view.
    const owner = new HarmonyClient(origin, await signerFromIdentityFile(database.owner));
    const challenge = await (await app.fetch(new Request(`${origin}/api/auth/challenge`, { method: "POST" })))
      .json();
    const presentation = await owner.presentation(challenge.challenge, challenge.domain);
    const session = await (await app.fetch(
      new Request(`${origin}/api/auth/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ presentation }),
      }),
    )).json();
    if (!session.token) throw new Error(`sign-in failed: ${JSON.stringify(session)}`);
    const cookie = `harmony_session=${session.token}`;

    // Cursors deep in history: positions between 1% and 99% of each channel.
    const cursors: string[][] = [];
    for (const channel of channels) {
      const max = await count("SELECT max(lamport) FROM message_index WHERE channel = ?", [channel.iri]);
      const list: string[] = [];
      for (let k = 0; k < 50; k++) {
        const lamport = Math.max(2, Math.floor(max * (0.01 + 0.98 * k / 49)));
        const row = (await client.execute({
          sql: "SELECT lamport, author, id FROM message_index WHERE channel = ? AND lamport = ? LIMIT 1",
          args: [channel.iri, lamport],
        })).rows[0];
        list.push(
          encodeCursor({ lamport: Number(row.lamport), author: String(row.author), id: String(row.id) }),
        );
      }
      cursors.push(list);
    }

    const measure = async (
      name: string,
      viewer: "anonymous" | "member",
      pathOf: (i: number) => string,
      expectArticles: number,
    ): Promise<Scenario> => {
      const headers: Record<string, string> = viewer === "member" ? { cookie } : {};
      const sample: number[] = [];
      let bytes = 0;
      for (let i = 0; i < options.warmup + options.requests; i++) {
        const request = new Request(`${origin}${pathOf(i)}`, { headers });
        const start = performance.now();
        const response = await app.fetch(request);
        const html = await response.text();
        const elapsed = performance.now() - start;
        if (response.status !== 200 || articles(html) !== expectArticles) {
          throw new Error(`${name}: ${pathOf(i)} gave ${response.status} with ${articles(html)} messages`);
        }
        if (viewer === "member" && !html.includes('id="composer"')) {
          throw new Error(`${name}: the member view has no composer`);
        }
        if (i >= options.warmup) {
          sample.push(elapsed);
          bytes += html.length;
        }
      }
      const latency = summarize(sample);
      progress(`render: ${name}: p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`);
      return {
        name,
        path: pathOf(0).replace(/\?.*/, "?before=…"),
        viewer,
        latency,
        kib: bytes / sample.length / 1024,
      };
    };

    const page = (i: number) => `/channels/${channels[i % channels.length].id}`;
    const older = (i: number) => {
      const c = i % channels.length;
      const list = cursors[c];
      return `/channels/${channels[c].id}/older?before=${encodeURIComponent(list[(i * 7) % list.length])}`;
    };
    const scenarios = [
      await measure("channel page, signed-out visitor", "anonymous", page, 50),
      await measure("channel page, signed-in member (with member list)", "member", page, 50),
      await measure("older page deep in history (htmx fragment)", "anonymous", older, 50),
    ];

    // The same page over real HTTP on loopback (client-observed, same process).
    const base = `http://127.0.0.1:${instance.port}`;
    const httpSample: number[] = [];
    let httpBytes = 0;
    for (let i = 0; i < options.httpRequests + 50; i++) {
      const start = performance.now();
      const response = await fetch(`${base}${page(i)}`, { headers: { cookie } });
      const html = await response.text();
      if (i >= 50) {
        httpSample.push(performance.now() - start);
        httpBytes += html.length;
      }
    }
    const http: Scenario = {
      name: "channel page over loopback HTTP (client-observed)",
      path: "/channels/:id",
      viewer: "member",
      latency: summarize(httpSample),
      kib: httpBytes / httpSample.length / 1024,
    };
    progress(
      `render: over HTTP: p50 ${http.latency.p50.toFixed(2)} ms, p99 ${http.latency.p99.toFixed(2)} ms`,
    );

    // What nextCounters cost per post before and after it was split in two.
    const channel = channels[0].iri;
    const timeQuery = async (sqls: string[]) => {
      const runs: number[] = [];
      for (let i = 0; i < 20; i++) {
        const start = performance.now();
        for (const sql of sqls) await client.execute({ sql, args: [channel] });
        runs.push(performance.now() - start);
      }
      return summarize(runs).p50;
    };
    const counters = {
      combinedMs: await timeQuery([
        "SELECT max(lamport), max(revision) FROM message_index WHERE channel = ?",
      ]),
      separateMs: await timeQuery([
        "SELECT max(lamport) FROM message_index WHERE channel = ?",
        "SELECT max(revision) FROM message_index WHERE channel = ?",
      ]),
      channelMessages: await count("SELECT count(*) FROM message_index WHERE channel = ?", [channel]),
    };

    return {
      requests: options.requests,
      warmup: options.warmup,
      scenarios,
      http,
      counters,
      totalMessages,
    };
  } finally {
    await instance.close();
  }
}
