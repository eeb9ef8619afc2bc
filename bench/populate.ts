/**
 * Builds (once) the large database the render benchmark reads: a community
 * of 1,000 members and 10 public channels of 100,000 messages each, 1,000,000
 * messages in all, written straight into the tables with SQL.
 *
 * Every message has the rows `postMessage` (server/messages/messages.ts) writes: seven
 * quads in the channel's graph (type, channel, attributedTo, content,
 * published, lamport, proof) and one message_index row. Channels, members
 * and profiles are quads in the community and profiles graphs, as
 * server/community/community.ts, channels.ts, members.ts and profiles.ts write them.
 * The proofs have the real shape and size but are not valid signatures:
 * nothing on the read path verifies them, and signing a million messages
 * would dominate the build time.
 *
 * The file is cached under bench/.cache, keyed by a hash of the migrations
 * and of this generator, so a rerun reuses it.
 */
import { createClient } from "@libsql/client";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hex } from "@scure/base";
import { type IdentityFile, identityFileFromMnemonic } from "../cli/client.ts";
import { openDatabase } from "../db/client.ts";
import { XSD_BOOLEAN, XSD_DATETIME, XSD_INTEGER } from "../db/terms.ts";
import { didFromPublicKey } from "../server/crypto/didkey.ts";
import { generateMnemonic } from "../server/crypto/derive.ts";
import { shortId } from "../server/shared/ids.ts";
import { Iris } from "../server/rdf/iris.ts";
import { AS, H, HARMONY_CONTEXT_URL, RDF, RDF_JSON } from "../server/rdf/vocab.ts";
import { progress, repoRoot } from "./lib.ts";

/** Bump when the generated data changes shape. */
const GENERATOR_VERSION = 2;

export const RENDER_ORIGIN = "http://bench.harmony.test";

export interface PopulateOptions {
  channels: number;
  messagesPerChannel: number;
  members: number;
}

export interface RenderDatabase {
  path: string;
  url: string;
  origin: string;
  owner: IdentityFile;
  options: PopulateOptions;
  bytes: number;
  /** Seconds it took to build, or null when it came from the cache. */
  builtInSeconds: number | null;
}

async function schemaHash(options: PopulateOptions): Promise<string> {
  const dir = `${repoRoot}/db/migrations`;
  const parts: string[] = [JSON.stringify({ GENERATOR_VERSION, options, RENDER_ORIGIN })];
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isFile) files.push(`${dir}/${entry.name}`);
  for await (const entry of Deno.readDir(`${dir}/meta`)) {
    if (entry.isFile) files.push(`${dir}/meta/${entry.name}`);
  }
  for (const file of files.sort()) parts.push(file.slice(dir.length), await Deno.readTextFile(file));
  parts.push(await Deno.readTextFile(new URL(import.meta.url).pathname));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\u0000")));
  return hex.encode(new Uint8Array(digest)).slice(0, 16);
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** A random version-4 urn:uuid, in SQL. */
const uuidSql = `'urn:uuid:' || lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
  substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||
  substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))`;

/** Message text of varied length, with the Markdown the renderer handles. */
const contentSql = `CASE i % 10
  WHEN 0 THEN 'Has anyone read the **release notes** for v' || (i % 7) || '.' || (i % 13) ||
    '? The ' || char(96) || 'migrate' || char(96) || ' step changed.'
  WHEN 1 THEN 'Deploy #' || i || ' finished in ' || (i % 300) || ' s, see https://ci.example.org/runs/' || i
  WHEN 2 THEN 'lunch?'
  WHEN 3 THEN 'I think we should keep the _old_ behaviour until the next major version; otherwise ' ||
    'people who rely on the ordering will be surprised by the change.'
  WHEN 4 THEN '> the queue drains in order' || char(10) || 'agreed, ship it'
  WHEN 5 THEN 'Here is the snippet:' || char(10) || '${"```"}' || char(10) || 'const x = await load(' || i ||
    ');' || char(10) || '${"```"}'
  WHEN 6 THEN 'thanks [for the link](https://example.org/docs/' || (i % 97) || ')'
  WHEN 7 THEN '||spoiler|| the build is green again ~~finally~~'
  WHEN 8 THEN 'Message ' || i || ' about nothing in particular, just chatting away in the channel.'
  ELSE 'ok 👍' END`;

/** A proof of the real shape (as JSON.stringify(doc.proof) stores it) with a placeholder signature. */
const proofSql =
  `'{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod",' ||
  '"created":"' || g.published || '","verificationMethod":"' || g.author || '#' || substr(g.author, 9) ||
  '","@context":"${HARMONY_CONTEXT_URL}","proofValue":"z' || replace(hex(randomblob(44)), '0', 'o') || '"}'`;

export async function ensureRenderDatabase(options: PopulateOptions): Promise<RenderDatabase> {
  const cacheDir = `${repoRoot}/bench/.cache`;
  await Deno.mkdir(cacheDir, { recursive: true });
  const key = await schemaHash(options);
  const path = `${cacheDir}/render-${key}.db`;
  const ownerPath = `${cacheDir}/render-${key}.owner.json`;
  const total = options.channels * options.messagesPerChannel;
  try {
    const owner = JSON.parse(await Deno.readTextFile(ownerPath)) as IdentityFile;
    const { size } = await Deno.stat(path);
    progress(`render: reusing cached database ${path} (${(size / 2 ** 30).toFixed(2)} GiB)`);
    return {
      path,
      url: `file:${path}`,
      origin: RENDER_ORIGIN,
      owner,
      options,
      bytes: size,
      builtInSeconds: null,
    };
  } catch { /* not cached yet */ }

  // Older generations of the cache are useless now.
  for await (const entry of Deno.readDir(cacheDir)) {
    if (entry.name.startsWith("render-")) await Deno.remove(`${cacheDir}/${entry.name}`);
  }
  progress(`render: building a database of ${total.toLocaleString("en")} messages (cached afterwards)`);
  const t0 = performance.now();
  const building = `${path}.building`;
  // A child process builds it, so every connection to the file is gone
  // (libSQL releases its file locks only when the process ends) before the
  // benchmark opens it.
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, building, JSON.stringify(options)],
    cwd: repoRoot,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("building the render database failed");
  const wal = await Deno.stat(`${building}-wal`).catch(() => null);
  if (wal && wal.size > 0) throw new Error("the built database still has an unmerged WAL");
  for (const suffix of ["-wal", "-shm"]) await Deno.remove(`${building}${suffix}`).catch(() => {});
  await Deno.rename(building, path);
  await Deno.rename(`${building}.owner.json`, ownerPath);
  const owner = JSON.parse(await Deno.readTextFile(ownerPath)) as IdentityFile;
  const { size } = await Deno.stat(path);
  const builtInSeconds = (performance.now() - t0) / 1000;
  progress(`render: database built in ${builtInSeconds.toFixed(0)} s (${(size / 2 ** 30).toFixed(2)} GiB)`);
  return { path, url: `file:${path}`, origin: RENDER_ORIGIN, owner, options, bytes: size, builtInSeconds };
}

/** Writes the whole database into `building` (runs in a child process). */
async function buildRenderDatabase(building: string, options: PopulateOptions): Promise<void> {
  const total = options.channels * options.messagesPerChannel;
  // The schema exactly as the server creates it: migrations through openDatabase.
  const database = await openDatabase(`file:${building}`);
  database.close();

  const client = createClient({ url: `file:${building}` });
  const run = (sql: string, args: Array<string | number> = []) => client.execute({ sql, args });
  // Bulk-load settings for this build only; the server opens the file with
  // its own (WAL, synchronous=FULL). The journal mode stays WAL: libSQL
  // keeps the migration connection's lock until the process exits.
  await run("PRAGMA synchronous = OFF");
  await run("PRAGMA cache_size = -1048576");
  await run("PRAGMA temp_store = MEMORY");
  await run("PRAGMA wal_autocheckpoint = 100000");
  const iris = new Iris(RENDER_ORIGIN);
  const owner = await identityFileFromMnemonic(generateMnemonic());
  const dids = [owner.did];
  while (dids.length < options.members) {
    dids.push(didFromPublicKey(ed25519.getPublicKey(ed25519.utils.randomSecretKey())));
  }
  const channelIris = Array.from({ length: options.channels }, () => iris.channel(shortId()));
  const community = iris.community;
  const base = Date.parse("2024-01-01T00:00:00Z");
  type Row = [string, string, string, string, number, string];
  const rows: Row[] = [
    [community, community, RDF.type.value, H.Community.value, 0, ""],
    [community, community, AS.name.value, "Bench Community", 1, ""],
    [community, community, H.openJoin.value, "false", 1, XSD_BOOLEAN],
    [community, community, H.owner.value, owner.did, 0, ""],
  ];
  channelIris.forEach((channel, n) => {
    rows.push(
      [community, channel, RDF.type.value, H.Channel.value, 0, ""],
      [community, channel, H.community.value, community, 0, ""],
      [community, channel, AS.name.value, `channel-${n}`, 1, ""],
      [community, channel, AS.summary.value, `Topic of channel ${n}`, 1, ""],
      [community, channel, H.position.value, String(n), 1, XSD_INTEGER],
      [community, channel, H.visibility.value, H.Public.value, 0, ""],
    );
  });
  dids.forEach((did, n) => {
    const role = n === 0 ? H.Owner : n <= 5 ? H.Admin : H.MemberRole;
    const joined = new Date(base + n * 60_000).toISOString();
    rows.push(
      [community, did, RDF.type.value, H.Member.value, 0, ""],
      [community, did, H.memberOf.value, community, 0, ""],
      [community, did, H.role.value, role.value, 0, ""],
      [community, did, H.joined.value, joined, 1, XSD_DATETIME],
    );
    // Four members in five have a profile (no avatar).
    if (n % 5 !== 4) {
      const g = iris.profiles;
      const proof = JSON.stringify({
        type: "DataIntegrityProof",
        cryptosuite: "eddsa-jcs-2022",
        proofPurpose: "assertionMethod",
        created: joined,
        verificationMethod: `${did}#${did.slice(8)}`,
        "@context": HARMONY_CONTEXT_URL,
        proofValue: `z${"3".repeat(87)}`,
      });
      rows.push(
        [g, did, RDF.type.value, H.Profile.value, 0, ""],
        [g, did, AS.name.value, `Member ${n}`, 1, ""],
        [g, did, AS.updated.value, joined, 1, XSD_DATETIME],
        [g, did, H.profileProof.value, proof, 1, RDF_JSON],
      );
    }
  });
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await run(
      `INSERT INTO quads (graph, subject, predicate, object, object_kind, datatype, language) VALUES ${
        chunk.map(() => "(?, ?, ?, ?, ?, ?, '')").join(", ")
      }`,
      chunk.flat(),
    );
  }

  // Build the big indexes once at the end (a sort) instead of row by row.
  const indexes = (await run(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('quads', 'message_index', 'op_log')",
  )).rows.map((r) => ({ name: String(r.name), sql: String(r.sql) }));
  for (const index of indexes) await run(`DROP INDEX ${index.name}`);

  await run("CREATE TEMP TABLE chans (n INTEGER PRIMARY KEY, iri TEXT NOT NULL)");
  await run(
    `INSERT INTO chans VALUES ${channelIris.map((c, n) => `(${n}, ${sqlString(c)})`).join(", ")}`,
  );
  await run("CREATE TEMP TABLE authors (n INTEGER PRIMARY KEY, did TEXT NOT NULL)");
  await run(`INSERT INTO authors VALUES ${dids.map((d, n) => `(${n}, ${sqlString(d)})`).join(", ")}`);
  await run(
    "CREATE TEMP TABLE preds (k INTEGER PRIMARY KEY, predicate TEXT, kind INTEGER, datatype TEXT)",
  );
  // The quads postMessage writes for a new message: five for the message,
  // five for its operation in the channel's log.
  const preds: Array<[string, number, string]> = [
    [RDF.type.value, 0, ""],
    [AS.attributedTo.value, 0, ""],
    [AS.content.value, 1, ""],
    [AS.published.value, 1, XSD_DATETIME],
    [H.lamport.value, 1, XSD_INTEGER],
    [RDF.type.value, 0, ""],
    [H.origin.value, 0, ""],
    [H.seq.value, 1, XSD_INTEGER],
    [H.lamport.value, 1, XSD_INTEGER],
    [H.document.value, 1, RDF_JSON],
  ];
  for (const [k, [p, kind, dt]] of preds.entries()) {
    await run("INSERT INTO preds VALUES (?, ?, ?, ?)", [k + 1, p, kind, dt]);
  }
  await run(
    `CREATE TEMP TABLE gen (seq INTEGER PRIMARY KEY, id TEXT, channel TEXT, lamport INTEGER, author TEXT,
        content TEXT, published TEXT, op TEXT, document TEXT)`,
  );

  // Messages arrive interleaved across channels, as in a live community:
  // message i goes to channel (i-1) % C with Lamport time (i-1) / C + 1.
  const chunk = 100_000;
  for (let start = 1; start <= total; start += chunk) {
    const end = Math.min(total, start + chunk - 1);
    await run("DELETE FROM gen");
    await run(
      `INSERT INTO gen (seq, id, channel, lamport, author, content, published)
         WITH RECURSIVE s(i) AS (SELECT ${start} UNION ALL SELECT i + 1 FROM s WHERE i < ${end})
         SELECT i, ${uuidSql}, c.iri, (i - 1) / ${options.channels} + 1, a.did, ${contentSql},
           strftime('%Y-%m-%dT%H:%M:%fZ', ${base / 1000} + i * 3, 'unixepoch')
         FROM s JOIN chans c ON c.n = (i - 1) % ${options.channels}
           JOIN authors a ON a.n = (i * 2654435761) % ${options.members}`,
      [start, end],
    );
    await run(
      `UPDATE gen AS g SET op = 'urn:harmony:op:' || lower(hex(randomblob(20))),
         document = json_object('@context', ${sqlString(HARMONY_CONTEXT_URL)}, 'type', 'Message', 'id', g.id,
           'channel', g.channel, 'attributedTo', g.author, 'content', g.content, 'published', g.published,
           'proof', json(${proofSql}))`,
    );
    await run(
      `INSERT INTO quads (graph, subject, predicate, object, object_kind, datatype, language)
         SELECT g.channel, CASE WHEN p.k <= 5 THEN g.id ELSE g.channel || '/log/' || printf('%012d', g.seq) END,
           p.predicate,
           CASE p.k WHEN 1 THEN ${sqlString(H.Message.value)} WHEN 2 THEN g.author
             WHEN 3 THEN g.content WHEN 4 THEN g.published WHEN 5 THEN CAST(g.lamport AS TEXT)
             WHEN 6 THEN ${sqlString(H.Operation.value)} WHEN 7 THEN ${sqlString(RENDER_ORIGIN)}
             WHEN 8 THEN CAST(g.lamport AS TEXT) WHEN 9 THEN CAST(g.lamport AS TEXT)
             ELSE g.document END,
           p.kind, p.datatype, ''
         FROM gen g CROSS JOIN preds p`,
    );
    await run(
      `INSERT INTO op_log (id, channel, origin, seq, lamport, kind, target, actor, document)
         SELECT op, channel, ${
        sqlString(RENDER_ORIGIN)
      }, lamport, lamport, 'Message', id, author, document FROM gen`,
    );
    await run(
      `INSERT INTO message_index (id, channel, lamport, author, content, published, updated, deleted, revision)
         SELECT id, channel, lamport, author, content, published, NULL, 0, lamport FROM gen`,
    );
    progress(`render: ${end.toLocaleString("en")} / ${total.toLocaleString("en")} messages written`);
  }
  await run("DROP TABLE gen");
  for (const index of indexes) {
    const t = performance.now();
    await run(index.sql);
    progress(`render: index ${index.name} built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  await run("PRAGMA wal_checkpoint(TRUNCATE)");
  await Deno.writeTextFile(`${building}.owner.json`, JSON.stringify(owner, null, 2) + "\n");
}

if (import.meta.main) {
  const [building, options] = Deno.args;
  await buildRenderDatabase(building, JSON.parse(options));
}
