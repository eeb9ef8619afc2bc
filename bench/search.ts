/**
 * Benchmark: full-text search (server/search/) over 1,000,000 messages.
 * Target: p99 at most 50 ms.
 *
 * The database (built once, cached under bench/.cache, keyed by the
 * migrations, this file and the options) is a real instance: the community
 * is created and claimed, and its channels created, through the API (eight
 * public channels, two members-only); 1,000 member profiles are written as
 * quads; then the messages are inserted into message_index in multi-row
 * INSERTs, so the search triggers index them exactly as they index a live
 * instance's writes. Only message_index rows are written (no quads or
 * operation log): search reads nothing else. The text comes from a
 * vocabulary of 30,000 words with a Zipf distribution (exponent 1), so a
 * few words are in most messages and most words in a few; one message in
 * twenty has a link, one in fifty an attachment.
 *
 * Timed: `search(h, actor, query)`, the function behind GET /api/search,
 * per kind of query, for a signed-out visitor (so the members-only
 * channels are excluded in every query) unless the kind says "member";
 * then a mix of all kinds over the API (the Hono app's fetch, in-process,
 * JSON included). Also reported: the time to index the messages while
 * inserting them (the triggers), the time of a full rebuild (the back-fill
 * an upgraded instance runs), and the size of the index.
 *
 *   deno run -A bench/search.ts [--messages 1000000] [--queries 200]
 */
import { hex } from "@scure/base";
import { drizzle } from "drizzle-orm/libsql";
import { type IdentityFile, identityFileFromMnemonic, signerFromIdentityFile } from "../cli/client.ts";
import { HarmonyClient } from "../cli/client.ts";
import type { Client } from "@libsql/client";
import { connect, type Db } from "../db/client.ts";
import { XSD_DATETIME } from "../db/terms.ts";
import { createApp } from "../server/app.tsx";
import { loadAssets } from "../server/http/assets.ts";
import { loadConfig } from "../server/config.ts";
import { generateMnemonic } from "../server/crypto/derive.ts";
import { startInstance } from "../server/instance.ts";
import type { Actor } from "../server/shared/model.ts";
import { rebuildSearchIndex } from "../server/search/rebuild.ts";
import { search } from "../server/search/search.ts";
import { AS, H, HARMONY_CONTEXT_URL, RDF, RDF_JSON } from "../server/rdf/vocab.ts";
import { type Machine, machine, progress, repoRoot, summarize } from "./lib.ts";

const GENERATOR_VERSION = 1;
export const SEARCH_ORIGIN = "http://search.bench.harmony.test";
const START = Date.parse("2024-01-01T00:00:00Z");
/** Messages are 30 s apart: a million span about a year. */
const STEP_MS = 30_000;

export interface SearchBuildOptions {
  messages: number;
  publicChannels: number;
  membersOnlyChannels: number;
  members: number;
  vocabulary: number;
}

export const defaultBuild: SearchBuildOptions = {
  messages: 1_000_000,
  publicChannels: 8,
  membersOnlyChannels: 2,
  members: 1_000,
  vocabulary: 30_000,
};

export interface SearchDatabase {
  path: string;
  url: string;
  owner: IdentityFile;
  options: SearchBuildOptions;
  /** Seconds to insert the messages with the triggers indexing them, and of a full rebuild. */
  build: { insertSeconds: number; rebuildSeconds: number; cached: boolean };
  size: { fileMiB: number; indexMiB: number; searchDocsMiB: number; messageIndexMiB: number };
}

// ---- text

/** A small seeded generator (mulberry32): the same text on every build. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = (
  "the to and a of i is it you that in for this on be we have with not but so just can do it's are " +
  "what if was at my me about like think all one as from will there get no yes yeah ok they out up " +
  "know your more would now how some when time good then here an by or thanks did people also work " +
  "see make going which need use because new should could still really build release deploy server " +
  "test fix issue bug channel message update version change right want way any well back after first " +
  "code docs link merge branch review tomorrow today week please sure maybe lunch meeting"
).split(" ");
const ONSETS = [
  "b",
  "c",
  "d",
  "f",
  "g",
  "h",
  "k",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "t",
  "v",
  "w",
  "z",
  "br",
  "st",
  "tr",
];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"];
const CODAS = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st"];

/** The vocabulary by rank: common English first, then made-up words of two or three syllables. */
export function vocabulary(size: number): string[] {
  const words = [...new Set(COMMON)];
  const seen = new Set(words);
  const next = random(7);
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  while (words.length < size) {
    const syllables = 2 + Math.floor(next() * 2);
    let w = "";
    for (let s = 0; s < syllables; s++) {
      w += pick(ONSETS) + pick(VOWELS) + (s === syllables - 1 ? pick(CODAS) : "");
    }
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words;
}

/** Draws ranks with probability proportional to 1/rank. */
function zipf(size: number, next: () => number): () => number {
  const cumulative = new Float64Array(size);
  let sum = 0;
  for (let r = 0; r < size; r++) cumulative[r] = sum += 1 / (r + 1);
  return () => {
    const x = next() * sum;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

// ---- the database

async function cacheKey(options: SearchBuildOptions): Promise<string> {
  const dir = `${repoRoot}/db/migrations`;
  const parts = [JSON.stringify({ GENERATOR_VERSION, options, SEARCH_ORIGIN })];
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile) files.push(`${dir}/${e.name}`);
  for (const file of files.sort()) parts.push(await Deno.readTextFile(file));
  // The generator: this file up to the benchmark itself.
  const source = await Deno.readTextFile(new URL(import.meta.url).pathname);
  parts.push(source.slice(0, source.indexOf("// ---- the benchmark")));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\u0000")));
  return hex.encode(new Uint8Array(digest)).slice(0, 16);
}

async function sizes(url: string): Promise<SearchDatabase["size"]> {
  const client = connect(url);
  try {
    const rows = (await client.execute("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name")).rows;
    const sum = (test: (name: string) => boolean) =>
      rows.filter((r) => test(String(r.name))).reduce((s, r) => s + Number(r.bytes), 0) / 2 ** 20;
    return {
      fileMiB: sum(() => true),
      indexMiB: sum((n) => n.startsWith("message_fts")),
      searchDocsMiB: sum((n) => n === "search_docs" || n.startsWith("sqlite_autoindex_search_docs")),
      messageIndexMiB: sum((n) =>
        n === "message_index" || n.startsWith("message_index_") || n === "sqlite_autoindex_message_index_1"
      ),
    };
  } finally {
    client.close();
  }
}

export async function ensureSearchDatabase(
  options: SearchBuildOptions = defaultBuild,
): Promise<SearchDatabase> {
  const cacheDir = `${repoRoot}/bench/.cache`;
  await Deno.mkdir(cacheDir, { recursive: true });
  const key = await cacheKey(options);
  const path = `${cacheDir}/search-${key}.db`;
  const metaPath = `${cacheDir}/search-${key}.json`;
  const url = `file:${path}`;
  try {
    const meta = JSON.parse(await Deno.readTextFile(metaPath));
    await Deno.stat(path);
    progress(`search: reusing cached database ${path}`);
    return { path, url, options, owner: meta.owner, build: { ...meta.build, cached: true }, size: meta.size };
  } catch { /* not built yet */ }
  for await (const e of Deno.readDir(cacheDir)) {
    if (e.name.startsWith("search-")) await Deno.remove(`${cacheDir}/${e.name}`);
  }
  progress(
    `search: building a database of ${options.messages.toLocaleString("en")} messages (cached afterwards)`,
  );
  const building = `${path}.building`;
  // A child process builds it, so every libSQL lock is released before the benchmark opens it.
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--build", building, JSON.stringify(options)],
    cwd: repoRoot,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("building the search database failed");
  for (const suffix of ["-wal", "-shm"]) await Deno.remove(`${building}${suffix}`).catch(() => {});
  await Deno.rename(building, path);
  const built = JSON.parse(await Deno.readTextFile(`${building}.json`));
  await Deno.remove(`${building}.json`);
  const size = await sizes(url);
  await Deno.writeTextFile(metaPath, JSON.stringify({ ...built, size }, null, 2));
  return { path, url, options, owner: built.owner, build: { ...built.build, cached: false }, size };
}

/** Runs in the child process: the instance, its channels and members, then the messages. */
async function buildSearchDatabase(building: string, options: SearchBuildOptions): Promise<void> {
  const url = `file:${building}`;
  const owner = await identityFileFromMnemonic(generateMnemonic());
  {
    const config = loadConfig({ PORT: "0", HARMONY_ORIGIN: SEARCH_ORIGIN, DATABASE_URL: url });
    const instance = await startInstance(config, { log: () => {} });
    try {
      const app = createApp(instance.harmony, await loadAssets());
      const call = async (method: string, path: string, body?: unknown, token?: string) => {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (token) headers.authorization = `Bearer ${token}`;
        const response = await app.fetch(
          new Request(`${SEARCH_ORIGIN}/api${path}`, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
          }),
        );
        const json = await response.json();
        if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
        return json;
      };
      const client = new HarmonyClient(SEARCH_ORIGIN, await signerFromIdentityFile(owner));
      const challenge = await call("POST", "/auth/challenge");
      const session = await call("POST", "/auth/session", {
        presentation: await client.presentation(challenge.challenge, challenge.domain),
      });
      await call("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] }, session.token);
      const total = options.publicChannels + options.membersOnlyChannels;
      for (let n = 1; n < total; n++) {
        const visibility = n >= options.publicChannels ? "members" : "public";
        await call("POST", "/channels", { name: `channel-${n}`, visibility }, session.token);
      }
      // Profiles (as server/community/profiles.ts writes them), so from: finds members by name.
      const g = instance.harmony.iris.profiles;
      const dids = Array.from(
        { length: options.members },
        (_, n) => `did:key:z6MkBench${String(n).padStart(6, "0")}`,
      );
      const when = new Date(START).toISOString();
      const proof = JSON.stringify({
        type: "DataIntegrityProof",
        cryptosuite: "eddsa-jcs-2022",
        proofPurpose: "assertionMethod",
        created: when,
        verificationMethod: "did:key:z#z",
        "@context": HARMONY_CONTEXT_URL,
        proofValue: `z${"3".repeat(87)}`,
      });
      await instance.harmony.database.writeSql(async (sql) => {
        const rows: Array<[string, string, string, string, number, string]> = [];
        dids.forEach((did, n) => {
          rows.push(
            [g, did, RDF.type.value, H.Profile.value, 0, ""],
            [g, did, AS.name.value, `Member ${n}`, 1, ""],
            [g, did, AS.updated.value, when, 1, XSD_DATETIME],
            [g, did, H.profileProof.value, proof, 1, RDF_JSON],
          );
        });
        for (let i = 0; i < rows.length; i += 400) {
          const chunk = rows.slice(i, i + 400);
          await sql.run(
            `INSERT INTO quads (graph, subject, predicate, object, object_kind, datatype, language) VALUES ${
              chunk.map(() => "(?, ?, ?, ?, ?, ?, '')").join(", ")
            }`,
            chunk.flat(),
          );
        }
      });
      await Deno.writeTextFile(`${building}.dids.json`, JSON.stringify(dids));
    } finally {
      await instance.close();
    }
  }

  // The messages, straight into message_index: the triggers index them.
  const client = connect(url);
  await client.execute("PRAGMA synchronous = OFF");
  await client.execute("PRAGMA cache_size = -1048576");
  const channels = (await client.execute(
    "SELECT subject FROM quads WHERE predicate = ? AND object = ? ORDER BY id",
    [RDF.type.value, H.Channel.value],
  )).rows.map((r) => String(r.subject));
  const dids: string[] = JSON.parse(await Deno.readTextFile(`${building}.dids.json`));
  await Deno.remove(`${building}.dids.json`);
  const words = vocabulary(options.vocabulary);
  const next = random(42);
  const rank = zipf(words.length, next);
  const authorRank = zipf(dids.length, next);
  const chunk = 500;
  const t0 = performance.now();
  for (let start = 0; start < options.messages; start += chunk) {
    const rows: Array<string | number | null> = [];
    const n = Math.min(chunk, options.messages - start);
    for (let k = 0; k < n; k++) {
      const i = start + k;
      // 2 to 30 words, most of them short.
      const length = 2 + Math.floor(-Math.log(1 - next()) * 9) % 29;
      const text: string[] = [];
      for (let w = 0; w < length; w++) text.push(words[rank()]);
      if (i % 20 === 7) text.push(`https://example.org/${words[rank()]}/${i}`);
      const id = `urn:uuid:${crypto.randomUUID()}`;
      const channel = channels[i % channels.length];
      rows.push(
        id,
        channel,
        Math.floor(i / channels.length) + 1,
        dids[authorRank()],
        text.join(" "),
        new Date(START + i * STEP_MS).toISOString(),
        Math.floor(i / channels.length) + 1,
        i % 50 === 3 ? '[{"name":"notes.pdf","type":"application/pdf"}]' : null,
      );
    }
    await client.execute({
      sql:
        `INSERT INTO message_index (id, channel, lamport, author, content, published, deleted, revision, attachments)
        VALUES ${Array(n).fill("(?, ?, ?, ?, ?, ?, 0, ?, ?)").join(", ")}`,
      args: rows,
    });
    if ((start + chunk) % 100_000 === 0) {
      progress(`search: ${(start + chunk).toLocaleString("en")} messages inserted and indexed`);
    }
  }
  const insertSeconds = (performance.now() - t0) / 1000;
  progress(`search: inserted and indexed in ${insertSeconds.toFixed(1)} s`);
  const t1 = performance.now();
  const transaction = await client.transaction("write");
  await rebuildSearchIndex(drizzle(transaction as unknown as Client) as unknown as Db);
  await transaction.commit();
  const rebuildSeconds = (performance.now() - t1) / 1000;
  progress(`search: full rebuild (the upgrade back-fill) in ${rebuildSeconds.toFixed(1)} s`);
  await client.execute("INSERT INTO message_fts (message_fts) VALUES ('optimize')");
  await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  client.close();
  await Deno.writeTextFile(
    `${building}.json`,
    JSON.stringify({ owner, build: { insertSeconds, rebuildSeconds } }),
  );
}

// ---- the benchmark

export interface KindResult {
  kind: string;
  /** Built to be slow (reported apart: not in `overall` nor the HTTP mix). */
  adversarial: boolean;
  example: string;
  /** Mean hits per query (a page is at most 20). */
  hits: number;
  latency: ReturnType<typeof summarize>;
}

export interface SearchBenchResult {
  machine: Machine;
  messages: number;
  database: SearchDatabase;
  kinds: KindResult[];
  /** Every kind but the adversarial ones. */
  overall: ReturnType<typeof summarize>;
  http: ReturnType<typeof summarize>;
  plan: string[];
}

export async function benchSearch(
  database: SearchDatabase,
  options: { queries: number; warmup: number; httpQueries: number },
): Promise<SearchBenchResult> {
  const machineInfo = machine();
  const config = loadConfig({ PORT: "0", HARMONY_ORIGIN: SEARCH_ORIGIN, DATABASE_URL: database.url });
  const instance = await startInstance(config, { log: () => {} });
  try {
    const h = instance.harmony;
    const app = createApp(h, await loadAssets());
    const client = h.database.client;
    const messages = Number((await client.execute("SELECT count(*) FROM message_index")).rows[0][0]);
    const snapshot = await h.snapshot();
    const channels = snapshot.channels;
    progress(`search: instance with ${channels.length} channels, ${messages.toLocaleString("en")} messages`);

    const visitor: Actor = { did: null, via: "none" };
    const member: Actor = { did: database.owner.did, via: "bearer" };
    const words = vocabulary(database.options.vocabulary);
    const next = random(1234);
    const pick = (from: number, to: number) => words[from + Math.floor(next() * (to - from))];
    const publicChannels = channels.filter((c) => c.visibility === "public");
    const topLong = words.slice(0, 60).filter((w) => w.length >= 4 && /^[a-z]+$/.test(w));
    // Adjacent word pairs that occur: from real messages.
    const samples = (await client.execute(
      "SELECT content FROM message_index WHERE rowid % 997 = 0 AND content LIKE '% % %' LIMIT 400",
    )).rows.map((r) => String(r.content).split(" ").filter((w) => !w.includes("/")));
    const phrase = () => {
      const s = samples[Math.floor(next() * samples.length)];
      const at = Math.floor(next() * (s.length - 1));
      return `"${s[at]} ${s[at + 1]}"`;
    };
    const month = () => {
      const m = 1 + Math.floor(next() * 10);
      return `after:2024-${String(m).padStart(2, "0")}-01 before:2024-${String(m + 1).padStart(2, "0")}-01`;
    };
    const member_ = () => `"Member ${Math.floor(next() * database.options.members)}"`;
    /** `adversarial`: built to be slow; reported apart from the mix. */
    const kinds: Array<{ kind: string; actor: Actor; query: () => string; adversarial?: boolean }> = [
      { kind: "rare word", actor: visitor, query: () => `${pick(5_000, 30_000)} ` },
      { kind: "common word", actor: visitor, query: () => `${pick(0, 10)} ` },
      { kind: "mid-frequency word", actor: visitor, query: () => `${pick(100, 1_000)} ` },
      { kind: "two words", actor: visitor, query: () => `${pick(0, 50)} ${pick(50, 500)} ` },
      { kind: "phrase", actor: visitor, query: phrase },
      { kind: "prefix (last word, 3 letters)", actor: visitor, query: () => pick(0, 300).slice(0, 3) },
      { kind: "prefix (last word, 5 letters)", actor: visitor, query: () => pick(100, 3_000).slice(0, 5) },
      { kind: "from: + common word", actor: visitor, query: () => `from:${member_()} ${pick(0, 20)} ` },
      {
        kind: "in: + word",
        actor: visitor,
        query: () =>
          `in:#${publicChannels[Math.floor(next() * publicChannels.length)].name} ${pick(0, 500)} `,
      },
      { kind: "before/after month + common word", actor: visitor, query: () => `${month()} ${pick(0, 20)} ` },
      {
        kind: "has:link",
        actor: visitor,
        query: () => (next() < 0.5 ? "has:link" : `has:link ${pick(0, 100)} `),
      },
      { kind: "has:file + word", actor: visitor, query: () => `has:file ${pick(0, 50)} ` },
      { kind: "member view (no exclusion), word", actor: member, query: () => `${pick(0, 1_000)} ` },
      {
        kind: "two rare words (no hit)",
        actor: visitor,
        query: () => `${pick(5_000, 30_000)} ${pick(5_000, 30_000)} `,
      },
      {
        kind: "prefix of a top word (4 letters)",
        actor: visitor,
        query: () => topLong[Math.floor(next() * topLong.length)].slice(0, 4),
      },
      {
        kind: "worst case: phrase of 4 common words, no hit",
        actor: visitor,
        query: () => `"${pick(0, 12)} ${pick(0, 12)} ${pick(0, 12)} ${pick(0, 12)}"`,
        adversarial: true,
      },
      {
        kind: "worst case: before: early + the commonest words",
        actor: visitor,
        query: () => `before:2024-01-${String(10 + Math.floor(next() * 20)).padStart(2, "0")} ${pick(0, 3)}`,
        adversarial: true,
      },
    ];

    const plan = (await client.execute({
      sql:
        `EXPLAIN QUERY PLAN SELECT message_fts.rowid FROM message_fts CROSS JOIN search_docs d ON d.key = message_fts.rowid
        CROSS JOIN message_index m ON m.id = d.message_id
        WHERE message_fts MATCH ? AND message_fts.rowid >= 0 AND message_fts.rowid < 9e15 AND m.deleted = 0
        ORDER BY message_fts.rowid DESC LIMIT 21`,
      args: [`body : "the"`],
    })).rows.map((r) => String(r.detail));

    // A first pass over every kind: the index's pages into the cache, as on a server that has been up a while.
    for (let i = 0; i < options.warmup * 5; i++) {
      for (const { actor, query } of kinds) await search(h, actor, query());
    }
    const results: KindResult[] = [];
    const all: number[] = [];
    for (const { kind, actor, query, adversarial } of kinds) {
      const sample: number[] = [];
      let hits = 0;
      let example = "";
      for (let i = 0; i < options.warmup + options.queries; i++) {
        const q = query();
        const t = performance.now();
        const result = await search(h, actor, q);
        const elapsed = performance.now() - t;
        if (i >= options.warmup) {
          sample.push(elapsed);
          hits += result.hits.length;
          example ||= q.trim();
        }
      }
      if (!adversarial) all.push(...sample);
      const latency = summarize(sample);
      results.push({ kind, example, hits: hits / sample.length, latency, adversarial: adversarial === true });
      progress(
        `search: ${kind.padEnd(34)} p50 ${latency.p50.toFixed(2).padStart(6)} ms  p99 ${
          latency.p99.toFixed(2).padStart(6)
        } ms  (${(hits / sample.length).toFixed(1)} hits)`,
      );
    }

    // Over the API: a mix of every kind, the JSON response read in full.
    const httpSample: number[] = [];
    const mix = kinds.filter((k) => !k.adversarial);
    for (let i = 0; i < options.httpQueries + options.warmup; i++) {
      const { query } = mix[i % mix.length];
      const t = performance.now();
      const response = await app.fetch(
        new Request(`${SEARCH_ORIGIN}/api/search?q=${encodeURIComponent(query())}`),
      );
      await response.text();
      const elapsed = performance.now() - t;
      if (response.status !== 200) throw new Error(`GET /api/search gave ${response.status}`);
      if (i >= options.warmup) httpSample.push(elapsed);
    }
    const http = summarize(httpSample);
    progress(`search: over the API (mix): p50 ${http.p50.toFixed(2)} ms, p99 ${http.p99.toFixed(2)} ms`);
    return {
      machine: await machineInfo,
      messages,
      database,
      kinds: results,
      overall: summarize(all),
      http,
      plan,
    };
  } finally {
    await instance.close();
  }
}

function flag(name: string, fallback: number): number {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Number(Deno.args[at + 1]) : fallback;
}

if (import.meta.main) {
  if (Deno.args[0] === "--build") {
    await buildSearchDatabase(Deno.args[1], JSON.parse(Deno.args[2]));
  } else {
    const database = await ensureSearchDatabase({ ...defaultBuild, messages: flag("messages", 1_000_000) });
    const result = await benchSearch(database, {
      queries: flag("queries", 200),
      warmup: flag("warmup", 10),
      httpQueries: flag("http", 280),
    });
    const f = (x: number) => x.toFixed(2);
    console.log(`\nSearch over ${result.messages.toLocaleString("en")} messages (target: p99 <= 50 ms)`);
    console.log(
      `index: built while inserting in ${f(database.build.insertSeconds)} s, full rebuild ${
        f(database.build.rebuildSeconds)
      } s; FTS5 ${f(database.size.indexMiB)} MiB + search_docs ${f(database.size.searchDocsMiB)} MiB ` +
        `(message_index ${f(database.size.messageIndexMiB)} MiB, file ${f(database.size.fileMiB)} MiB)`,
    );
    console.log("| kind | example | hits | p50 ms | p99 ms |\n|---|---|---|---|---|");
    for (
      const k of result.kinds.filter((k) => !k.adversarial).concat(result.kinds.filter((k) => k.adversarial))
    ) {
      console.log(
        `| ${k.kind} | \`${k.example}\` | ${k.hits.toFixed(1)} | ${f(k.latency.p50)} | ${f(k.latency.p99)} |`,
      );
    }
    console.log(`| **all but the worst cases** | | | ${f(result.overall.p50)} | ${f(result.overall.p99)} |`);
    console.log(`| **GET /api/search (same mix)** | | | ${f(result.http.p50)} | ${f(result.http.p99)} |`);
    console.log(`plan: ${result.plan.join(" / ")}`);
    console.log(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, load ${result.machine.load}`);
  }
}
