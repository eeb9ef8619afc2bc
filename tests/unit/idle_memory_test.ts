/** server/http/idleMemory.ts: one memory-reducing collection per quiet spell, never while requests come. */
import assert from "node:assert/strict";
import { exposedCollect, idleReclaimer } from "../../server/http/idleMemory.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(10);
  }
}

Deno.test("a quiet instance collects once, and again only after new work and a new quiet spell", async () => {
  let collections = 0;
  const idle = idleReclaimer({ quietMs: 50, collect: () => collections++ });
  try {
    await until(() => collections === 1);
    await sleep(250);
    assert.equal(collections, 1, "no work since: no second collection");
    idle.touch();
    await until(() => collections === 2);
    assert.equal(idle.reclaims, 2);
  } finally {
    idle.close();
  }
});

Deno.test("requests arriving more often than the quiet spell keep the collection off", async () => {
  let collections = 0;
  // The spell is long next to the gap between requests, so a slow machine cannot open one.
  const idle = idleReclaimer({ quietMs: 600, collect: () => collections++ });
  try {
    for (let i = 0; i < 8; i++) {
      idle.touch();
      await sleep(25);
    }
    assert.equal(collections, 0);
    await until(() => collections === 1);
  } finally {
    idle.close();
  }
});

Deno.test("without V8's gc function (no --expose-gc) nothing is scheduled; a failing collection is harmless", async () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc === "function", exposedCollect() !== null);
  const none = idleReclaimer({ quietMs: 10, collect: null });
  await sleep(40);
  assert.equal(none.reclaims, 0);
  none.close();
  const failing = idleReclaimer({
    quietMs: 10,
    collect: () => {
      throw new Error("no");
    },
  });
  await sleep(40);
  assert.equal(failing.reclaims, 1);
  failing.close();
});

Deno.test("deno task start exposes gc and shares no memory pool across isolates on worker teardown", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const flags = /--v8-flags=(\S+)/.exec(config.tasks.start)?.[1].split(",") ?? [];
  assert.ok(flags.includes("--expose-gc"));
  assert.ok(flags.includes("--no-memory-pool-share-memory-on-teardown"));
  const probe = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `--v8-flags=${flags.join(",")}`,
      'gc({ type: "major", execution: "sync", flavor: "last-resort" }); console.log(typeof gc);',
    ],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await probe.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), "function");
});
