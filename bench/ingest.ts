/**
 * Benchmark 1: signed messages ingested per second through the real HTTP
 * API, with durable commits (WAL, synchronous=FULL, group commit).
 *
 * The server runs as a separate process. The load generator signs every
 * message before the clock starts (so client-side Ed25519 signing is not
 * in the measured window), then POSTs them over keep-alive connections
 * with a fixed number of requests in flight.
 */
import { createClient } from "@libsql/client";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../cli/client.ts";
import { generateMnemonic } from "../server/crypto/derive.ts";
import { H, RDF } from "../server/rdf/vocab.ts";
import { cpuSecondsOf, memoryOf, pool, progress, startServerProcess, summarize } from "./lib.ts";

export interface IngestOptions {
  messages: number;
  warmup: number;
  concurrency: number;
  members: number;
  channels: number;
  /** Run the server of another checkout (bench/baseline.ts); default this one. */
  serverRoot?: string;
}

export interface IngestResult extends IngestOptions {
  seconds: number;
  perSecond: number;
  latency: ReturnType<typeof summarize>;
  presignSeconds: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  stored: { messages: number; messageQuads: number; expected: number; lamportsDense: boolean };
  serverRssAfterMiB: number;
  failures: number;
}

/**
 * The quads a new plain message has in its channel's graph (server/messages/oplog.ts, messageQuads): rdf:type,
 * as:attributedTo, as:published, harmony:lamport and as:content.
 */
export const QUADS_PER_MESSAGE = 5;

async function newIdentity(origin: string): Promise<HarmonyClient> {
  const file = await identityFileFromMnemonic(generateMnemonic());
  return new HarmonyClient(origin, await signerFromIdentityFile(file));
}

const words = [
  "deploy",
  "review",
  "the",
  "branch",
  "looks",
  "good",
  "to",
  "me",
  "lunch",
  "at",
  "noon",
  "**really**",
  "`code`",
  "ship",
  "it",
  "tomorrow",
];

function sentence(i: number): string {
  const length = 6 + (i * 7) % 14;
  const out: string[] = [];
  for (let k = 0; k < length; k++) out.push(words[(i * 31 + k * 17) % words.length]);
  return `#${i} ${out.join(" ")}`;
}

export async function benchIngest(options: IngestOptions): Promise<IngestResult> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-bench-ingest-" });
  const dbPath = `${dir}/harmony.db`;
  try {
    const ownerFile = await identityFileFromMnemonic(generateMnemonic());
    const server = await startServerProcess(
      { DATABASE_URL: `file:${dbPath}`, HARMONY_OWNER: ownerFile.did },
      options.serverRoot,
    );
    progress(`ingest: server pid ${server.pid} on ${server.origin}, database ${dbPath}`);
    try {
      const owner = new HarmonyClient(server.origin, await signerFromIdentityFile(ownerFile));
      await owner.signIn();
      await owner.request("PATCH", "/community", { openJoin: true });
      for (let c = 0; c < options.channels; c++) {
        await owner.request("POST", "/channels", { name: `load-${c}`, topic: "benchmark" });
      }
      const channels = (await owner.channels()).filter((c) => c.name.startsWith("load-"));
      const members: HarmonyClient[] = [];
      for (let m = 0; m < options.members; m++) {
        const member = await newIdentity(server.origin);
        await member.signIn();
        await member.request("POST", "/join", {});
        members.push(member);
      }
      progress(`ingest: ${members.length} members joined, ${channels.length} channels`);

      const total = options.warmup + options.messages;
      const signStart = performance.now();
      const bodies: Array<{ url: string; token: string; body: string }> = [];
      for (let i = 0; i < total; i++) {
        const member = members[i % members.length];
        const channel = channels[Math.floor(i / members.length) % channels.length];
        const message = await member.signedMessage(channel.iri, sentence(i));
        bodies.push({
          url: `${server.origin}/api/channels/${channel.id}/messages`,
          token: member.token!,
          body: JSON.stringify({ message }),
        });
      }
      const presignSeconds = (performance.now() - signStart) / 1000;
      progress(`ingest: pre-signed ${total} messages in ${presignSeconds.toFixed(1)} s`);

      let failures = 0;
      const latencies: number[] = [];
      const post = async (i: number, record: boolean) => {
        const { url, token, body } = bodies[i];
        const t0 = performance.now();
        const response = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body,
        });
        const text = await response.text();
        const elapsed = performance.now() - t0;
        if (response.status !== 201) {
          failures++;
          if (failures <= 3) console.error(`ingest: POST failed with ${response.status}: ${text}`);
        }
        if (record) latencies.push(elapsed);
      };

      await pool(options.warmup, options.concurrency, (i) => post(i, false));
      progress(`ingest: warm-up of ${options.warmup} messages done; measuring ${options.messages}`);

      const serverCpu0 = await cpuSecondsOf(server.pid);
      const clientCpu0 = await cpuSecondsOf(Deno.pid);
      const t0 = performance.now();
      await pool(options.messages, options.concurrency, (i) => post(options.warmup + i, true));
      const seconds = (performance.now() - t0) / 1000;
      const serverCpuSeconds = (await cpuSecondsOf(server.pid)) - serverCpu0;
      const clientCpuSeconds = (await cpuSecondsOf(Deno.pid)) - clientCpu0;
      const serverRssAfterMiB = (await memoryOf(server.pid)).rssMiB;
      progress(
        `ingest: ${options.messages} messages in ${seconds.toFixed(2)} s = ${
          (options.messages / seconds).toFixed(0)
        }/s`,
      );
      await server.stop();
      if (Deno.env.get("BENCH_SHOW_SERVER")) console.log(server.output());

      // Count what is durably stored, straight from the database file.
      const client = createClient({ url: `file:${dbPath}` });
      try {
        const count = async (sql: string, args: string[] = []) =>
          Number((await client.execute({ sql, args })).rows[0][0]);
        const messages = await count("SELECT count(*) FROM message_index");
        const messageQuads = await count(
          "SELECT count(*) FROM quads q JOIN message_index m ON q.subject = m.id AND q.graph = m.channel",
        );
        const typed = await count(
          "SELECT count(*) FROM quads WHERE predicate = ? AND object = ?",
          [RDF.type.value, H.Message.value],
        );
        // Lamport clocks 1..n per channel with no gaps or duplicates: the
        // group commit assigned them in order.
        const dense = await count(
          `SELECT count(*) FROM (SELECT channel, count(*) n, count(DISTINCT lamport) d, max(lamport) mx,
             min(lamport) mn FROM message_index GROUP BY channel) WHERE n != d OR mx != n OR mn != 1`,
        );
        return {
          ...options,
          seconds,
          perSecond: options.messages / seconds,
          latency: summarize(latencies),
          presignSeconds,
          serverCpuSeconds,
          clientCpuSeconds,
          stored: {
            messages,
            messageQuads: typed === messages ? messageQuads : -1,
            expected: total,
            lamportsDense: dense === 0,
          },
          serverRssAfterMiB,
          failures,
        };
      } finally {
        client.close();
      }
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
