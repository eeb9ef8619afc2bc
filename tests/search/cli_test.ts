/** `harmony search`, run as a real subprocess against a real instance. */
import assert from "node:assert/strict";
import {
  HarmonyClient,
  identityFileFromMnemonic,
  markedText,
  signerFromIdentityFile,
} from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { harmonyProcess as harmony } from "../helpers/cli.ts";

Deno.test("harmony search prints hits with their links, pages with --cursor, and refuses bad queries", async () => {
  await using instance = await startTestInstance();
  const dir = await Deno.makeTempDir({ prefix: "harmony-search-cli-" });
  try {
    const file = await identityFileFromMnemonic(generateMnemonic());
    await Deno.writeTextFile(`${dir}/owner.json`, JSON.stringify(file));
    const owner = new HarmonyClient(instance.origin, await signerFromIdentityFile(file));
    await owner.signIn();
    await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    await owner.setProfile("Grace");
    const [general] = await owner.channels();
    const first = await owner.post(general.id, "the <b>release</b> is out");
    const second = await owner.post(general.id, "release notes are in the docs");
    const as = (...args: string[]) =>
      harmony(["--server", instance.origin, "--identity", `${dir}/owner.json`, "search", ...args]);

    const out = await as("release", "from:grace");
    assert.equal(out.code, 0, out.stderr);
    const uuid = (id: string) => id.replace("urn:uuid:", "");
    assert.match(out.stdout, /#general {2}Grace\n {2}⟦release⟧ notes are in the docs\n/);
    assert.match(out.stdout, /the <b>⟦release⟧<\/b> is out/, "the text as typed, not HTML");
    assert.ok(out.stdout.indexOf(uuid(second.id)) < out.stdout.indexOf(uuid(first.id)), "newest first");
    assert.ok(out.stdout.includes(`${instance.origin}/channels/${general.id}/messages/${uuid(first.id)}`));

    const paged = await as("release", "--limit", "1");
    assert.equal(paged.code, 0, paged.stderr);
    const cursor = /--cursor (\d+)/.exec(paged.stdout)?.[1];
    assert.ok(cursor, paged.stdout);
    const next = await as("release", "--limit", "1", "--cursor", cursor, "--json");
    assert.equal(next.code, 0, next.stderr);
    const page = JSON.parse(next.stdout);
    assert.deepEqual(page.results.map((r: { id: string }) => r.id), [first.id]);
    assert.equal(page.nextCursor, null);

    const bad = await as('"unclosed');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^harmony: .*never closed/);
    assert.equal(markedText("a &lt;b&gt; <mark>c</mark> &amp;"), "a <b> ⟦c⟧ &");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
