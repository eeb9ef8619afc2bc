import assert from "node:assert/strict";
import {
  clientSourceFiles,
  committedBundleText,
  currentCommittedBundle,
  loadAssets,
} from "../../server/http/assets.ts";

Deno.test("the committed browser bundle (static/app.js) is what `deno task bundle` makes from static/client/ now", async () => {
  const committed = await Deno.readTextFile(new URL("../../static/app.js", import.meta.url));
  assert.ok(
    committed === await committedBundleText(),
    "static/app.js is out of date: run `deno task bundle` and commit the result",
  );
});

Deno.test("an instance serves the committed bundle without its header line", async () => {
  const committed = await Deno.readTextFile(new URL("../../static/app.js", import.meta.url));
  const served = (await loadAssets()).get("app.js")!;
  assert.equal(served.body, committed.slice(committed.indexOf("\n") + 1));
  assert.equal(served.type, "text/javascript; charset=utf-8");
});

Deno.test("a bundle made from other inputs is not served (the instance bundles instead)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-bundle-" });
  try {
    const committed = await Deno.readTextFile(new URL("../../static/app.js", import.meta.url));
    const file = new URL(`file://${dir}/app.js`);
    await Deno.writeTextFile(file, committed);
    assert.equal(await currentCommittedBundle(file), committed.slice(committed.indexOf("\n") + 1));
    const stale = committed.replace(/Inputs: [0-9a-f]{64}/, `Inputs: ${"0".repeat(64)}`);
    await Deno.writeTextFile(file, stale);
    assert.equal(await currentCommittedBundle(file), null);
    await Deno.writeTextFile(file, "console.log('no header');");
    assert.equal(await currentCommittedBundle(file), null);
    assert.equal(await currentCommittedBundle(new URL(`file://${dir}/missing.js`)), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the bundle's hash covers the server/ modules the browser script imports, not only static/client/", async () => {
  const files = (await clientSourceFiles()).map((url) => new URL(url).pathname);
  for (
    const expected of [
      "static/client/main.ts",
      "static/client/http.ts",
      "server/documents/documents.ts",
      "server/crypto/derive.ts",
    ]
  ) {
    assert.ok(files.some((f) => f.endsWith(`/${expected}`)), `${expected} is an input of the bundle`);
  }
  assert.ok(!files.some((f) => f.endsWith("/server/instance.ts")), "the server's own entry is not");
});
