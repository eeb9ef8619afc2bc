/** The persistent queue under Fedify: order per key, retries in place, leases, restarts, per-server limits. */
import assert from "node:assert/strict";
import { openDatabase } from "../../db/client.ts";
import { SqlMessageQueue } from "../../federation/queue.ts";

async function withDatabase(run: (url: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "harmony-queue-" });
  try {
    await run(`file:${dir}/queue.db`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const seconds = (n: number) => Temporal.Duration.from({ milliseconds: Math.round(n * 1000) });
const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

Deno.test("queue: jobs of one ordering key run one at a time in order, and a retry keeps its place", async () => {
  await withDatabase(async (url) => {
    const database = await openDatabase(url);
    const queue = new SqlMessageQueue(database, "test", { workers: 4, log: () => {} });
    const ran: string[] = [];
    let failedOnce = false;
    const abort = new AbortController();
    const listening = queue.listen(async (message) => {
      const { id, step } = message as { id: string; step: string };
      if (step === "create" && !failedOnce) {
        failedOnce = true;
        // What Fedify does on a failed delivery: enqueue the same message (same id) again, delayed.
        await queue.enqueue({ id, step }, { delay: seconds(0.2), orderingKey: "note\nhttps://a.example" });
        return;
      }
      ran.push(step);
    }, { signal: abort.signal });
    for (const step of ["create", "update", "delete"]) {
      await queue.enqueue({ id: crypto.randomUUID(), step }, { orderingKey: "note\nhttps://a.example" });
    }
    await until(() => ran.length === 3, "three jobs");
    assert.deepEqual(ran, ["create", "update", "delete"]);
    abort.abort();
    await queue.close();
    await listening;
    assert.equal((await database.client.execute("SELECT count(*) n FROM queue_jobs")).rows[0].n, 0);
    database.close();
  });
});

Deno.test("queue: jobs left by a stopped process run when the next one listens", async () => {
  await withDatabase(async (url) => {
    const first = await openDatabase(url);
    await new SqlMessageQueue(first, "test").enqueue({ id: "a" });
    await new SqlMessageQueue(first, "other").enqueue({ id: "not mine" });
    first.close();
    const second = await openDatabase(url);
    const queue = new SqlMessageQueue(second, "test", { log: () => {} });
    const ran: unknown[] = [];
    const abort = new AbortController();
    const listening = queue.listen((message) => {
      ran.push(message);
    }, { signal: abort.signal });
    await until(() => ran.length === 1, "the persisted job");
    assert.deepEqual(ran, [{ id: "a" }]);
    abort.abort();
    await queue.close();
    await listening;
    second.close();
  });
});

Deno.test("queue: a server's jobs never take more than their share of the workers", async () => {
  await withDatabase(async (url) => {
    const database = await openDatabase(url);
    const queue = new SqlMessageQueue(database, "test", { workers: 4, maxPerGroup: 2, log: () => {} });
    const release: Array<() => void> = [];
    const ran: string[] = [];
    const abort = new AbortController();
    const listening = queue.listen(async (message) => {
      const { server } = message as { server: string };
      if (server === "slow") await new Promise<void>((resolve) => release.push(resolve));
      ran.push(server);
    }, { signal: abort.signal });
    for (let i = 0; i < 6; i++) {
      await queue.enqueue({ id: `slow-${i}`, server: "slow" }, {
        orderingKey: `note-${i}\nhttps://slow.example`,
      });
    }
    for (let i = 0; i < 3; i++) {
      await queue.enqueue({ id: `fast-${i}`, server: "fast" }, {
        orderingKey: `note-${i}\nhttps://fast.example`,
      });
    }
    await until(() => ran.length === 3, "the fast server's jobs");
    assert.deepEqual(ran, ["fast", "fast", "fast"]);
    assert.equal(release.length, 2, "two jobs of the slow server run at once, no more");
    while (ran.length < 9) {
      release.splice(0).forEach((r) => r());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    abort.abort();
    await queue.close();
    await listening;
    database.close();
  });
});
