/**
 * DATABASE_URL may name a libSQL server instead of a file, and the instance
 * works unchanged: here a real sqld over HTTP holds everything (migrations,
 * quads, sessions, the operation log), and a restart finds it all again.
 */
import assert from "node:assert/strict";
import { freePort } from "../helpers/partition.ts";
import { claimedInstance, startTestInstance } from "../helpers/instance.ts";
import { sqldUnavailable, startSqld } from "../helpers/sqld.ts";
import { dependenciesRequired } from "../helpers/requirements.ts";

Deno.test({
  name: "sqld is available where CI provides it (the remote-database test is never skipped there)",
  ignore: !dependenciesRequired,
  fn() {
    assert.ok(!sqldUnavailable, "sqld is unavailable (HARMONY_SKIP_SQLD set, or no binary for this machine)");
  },
});

Deno.test({
  name:
    "an instance runs unchanged on a libSQL server (sqld over HTTP): claim, channels, posts, restart, export",
  ignore: sqldUnavailable,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using sqld = await startSqld();
    const port = freePort();
    const env = {
      DATABASE_URL: sqld.url,
      PORT: String(port),
      HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
      HARMONY_FILES_DIR: `${sqld.dir}/files`,
    };
    const { instance, owner } = await claimedInstance(env);
    let restarted: Awaited<ReturnType<typeof startTestInstance>> | null = null;
    try {
      const ops = await owner.createChannel("ops", { visibility: "members" });
      const general = await owner.channel("general");
      for (const text of ["first on sqld", "second on sqld", 'third, with ünïcode and "quotes"']) {
        await owner.post(general.id, text);
      }
      await owner.post(ops.id, "members only");
      // The rows are in the server's database, seen through its own API.
      const [[quads]] = await sqld.query("SELECT count(*) FROM quads");
      assert.ok(Number(quads) > 20, `quads on sqld: ${quads}`);
      const [[messages]] = await sqld.query("SELECT count(*) FROM message_index");
      assert.equal(Number(messages), 4);

      await instance[Symbol.asyncDispose]();
      restarted = await startTestInstance(env);
      assert.equal(restarted.claimUrl, null, "the owner is still there: no claim link");
      // The owner's session was stored on the server too.
      const history = await owner.history(general.id);
      assert.deepEqual(
        history.messages.map((m) => m.content),
        ["first on sqld", "second on sqld", 'third, with ünïcode and "quotes"'],
      );
      assert.deepEqual((await owner.history(ops.id)).messages.map((m) => m.content), ["members only"]);
      const later = await owner.post(general.id, "after the restart");
      assert.equal(later.lamport, 4);
      const exported = await new Response(await owner.exportNQuads()).text();
      assert.match(exported, /after the restart/);
      assert.match(exported, /members only/);
    } finally {
      await restarted?.[Symbol.asyncDispose]();
      await instance[Symbol.asyncDispose]().catch(() => {});
    }
  },
});

Deno.test("a libSQL server that does not answer stops the start with one clear line, exit 1, and no token shown", async () => {
  const port = freePort(); // nothing listens there
  const filesDir = await Deno.makeTempDir({ prefix: "harmony-files-" });
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../server/main.ts", import.meta.url).pathname],
    env: {
      DATABASE_URL: `http://127.0.0.1:${port}/?authToken=s3cret-token`,
      PORT: "0",
      NO_COLOR: "1",
      HARMONY_FILES_DIR: filesDir,
    },
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(filesDir, { recursive: true }));
  const stderr = new TextDecoder().decode(child.stderr).trim();
  assert.equal(child.code, 1, stderr);
  assert.match(
    stderr,
    new RegExp(`^harmony: cannot open the database at http://127\\.0\\.0\\.1:${port}: .*refused`),
  );
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.doesNotMatch(stderr, /s3cret/);
});
