/**
 * The dependency rules of ARCHITECTURE.md, checked on the source: the
 * domain never speaks ActivityPub, views never touch the database,
 * federation renders no pages, and markup/ (the text renderer views and
 * federation share) depends on nothing.
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

async function* sources(dir: string): AsyncGenerator<{ path: string; text: string }> {
  for await (const entry of Deno.readDir(new URL(dir, root))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sources(path);
    else if (/\.(ts|tsx)$/.test(entry.name)) {
      yield { path, text: await Deno.readTextFile(new URL(path, root)) };
    }
  }
}

function imports(text: string): string[] {
  return statements(text).map((s) => s.specifier);
}

function statements(text: string): { statement: string; specifier: string }[] {
  return [...text.matchAll(/^\s*((?:import|export)[^;]*?from\s+["']([^"']+)["'])/gm)]
    .map((m) => ({ statement: m[1], specifier: m[2] }));
}

Deno.test("server/'s root holds only the composition: configuration, the Harmony object, the app, the instance", async () => {
  const composition = ["app.tsx", "config.ts", "harmony.ts", "instance.ts", "main.ts"];
  const loose: string[] = [];
  for await (const entry of Deno.readDir(new URL("server", root))) {
    if (entry.isFile && !composition.includes(entry.name)) loose.push(`server/${entry.name}`);
  }
  assert.deepEqual(loose, [], "each capability has its folder in server/ (ARCHITECTURE.md, the map)");
});

Deno.test("domain code in server/ never imports Fedify or federation/ (only the composition root does)", async () => {
  const offenders: string[] = [];
  for await (const { path, text } of sources("server")) {
    if (path === "server/instance.ts") continue;
    for (const specifier of imports(text)) {
      if (specifier.startsWith("@fedify/") || specifier.includes("/federation/")) {
        offenders.push(`${path} imports ${specifier}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("views never touch the database: from the domain they take types only", async () => {
  const offenders: string[] = [];
  for await (const { path, text } of sources("views")) {
    for (const { statement, specifier } of statements(text)) {
      const data = specifier.includes("/db/") || specifier.startsWith("@libsql/") ||
        specifier.startsWith("drizzle-orm");
      const domain = specifier.includes("/server/") && !/^import\s+type\b/.test(statement);
      if (data || domain) offenders.push(`${path}: ${statement}`);
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("federation/ renders no pages: it never imports views/", async () => {
  const offenders: string[] = [];
  let files = 0;
  for await (const { path, text } of sources("federation")) {
    files++;
    for (const specifier of imports(text)) {
      if (/(^|\/)views\//.test(specifier)) offenders.push(`${path} imports ${specifier}`);
    }
  }
  assert.ok(files > 10, `the walk found only ${files} files in federation/`);
  assert.deepEqual(offenders, []);
});

Deno.test("markup/ is a leaf: it imports nothing from outside markup/, so views and federation can share it", async () => {
  const offenders: string[] = [];
  let files = 0;
  for await (const { path, text } of sources("markup")) {
    files++;
    for (const specifier of imports(text)) {
      if (!specifier.startsWith("./")) offenders.push(`${path} imports ${specifier}`);
    }
  }
  assert.ok(files >= 2, `the walk found only ${files} files in markup/`);
  assert.deepEqual(offenders, []);
});

Deno.test("only federation/ speaks ActivityPub: nothing else imports Fedify", async () => {
  const offenders: string[] = [];
  for (const dir of ["server", "db", "views", "markup", "cli", "static"]) {
    for await (const { path, text } of sources(dir)) {
      for (const specifier of imports(text)) {
        if (specifier.startsWith("@fedify/")) offenders.push(`${path} imports ${specifier}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("the server's main thread loads no JSON-LD, VC or curve library until a request needs one", async () => {
  const info = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "server/main.ts"],
    cwd: new URL(".", root).pathname,
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await info.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    redirects: Record<string, string>;
    modules: { specifier: string; dependencies?: { isDynamic?: boolean; code?: { specifier?: string } }[] }[];
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const pending = [...graph.roots];
  while (pending.length) {
    const specifier = graph.redirects[pending[0]] ?? pending[0];
    pending.shift();
    if (loaded.has(specifier)) continue;
    loaded.add(specifier);
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code?.specifier) pending.push(dependency.code.specifier);
    }
  }
  const heavy =
    /jsonld|@digitalbazaar|rdf-canonize|@noble\/curves|@noble\/ciphers|@fedify\/|proofs\/operations\.ts|credentials\/vcStack\.ts/;
  assert.ok(loaded.size > 100, `the walk found only ${loaded.size} modules`);
  assert.deepEqual([...loaded].filter((s) => heavy.test(s)), []);
});
