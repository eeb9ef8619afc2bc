/**
 * Outbound deliveries are persisted (libSQL queue), survive a restart, are
 * retried, and one dead or unresponsive server never holds up the others.
 */
import assert from "node:assert/strict";
import { and, eq, gte, isNull } from "drizzle-orm";
import { queueJobs } from "../../db/schema.ts";
import type { Harmony } from "../../server/harmony.ts";
import { newClient, startTestInstance } from "../helpers/instance.ts";
import { freePort } from "../http/support.ts";
import { MastodonPeer } from "./mastodon_peer.ts";
import { channelNamed, eventually, federatedInstance, groupOf } from "./support.ts";

/** Deliveries that failed at least once and wait for their retry. */
const waitingRetries = (h: Harmony) =>
  h.db.$count(
    queueJobs,
    and(eq(queueJobs.queue, "fedify"), gte(queueJobs.attempts, 1), isNull(queueJobs.lockedUntil)),
  );

Deno.test("a delivery queued for a server that is down survives a restart and arrives once it is back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-federation-restart-" });
  const port = freePort();
  const env = {
    PORT: String(port),
    HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${dir}/harmony.db`,
    HARMONY_ALLOW_PRIVATE_ADDRESSES: "1",
  };
  try {
    await using peer = await MastodonPeer.start({ name: "sleeper" });
    const first = await startTestInstance(env);
    const owner = await newClient(first);
    await owner.request("POST", "/claim", { token: first.claimUrl!.split("/claim/")[1] });
    const general = await channelNamed(first.origin, "general");
    await peer.follow(groupOf(first.origin, general.id));
    await peer.waitFor((b) => b.type === "Accept", "the Accept");

    // The peer goes down; a message is posted; its delivery fails and waits for a retry.
    await peer.stop();
    await owner.post("general", "posted while you were away");
    await eventually(
      async () => (await waitingRetries(first.harmony)) > 0,
      "a failed delivery waiting for its retry",
    );
    await first.close();

    // A new process on the same database; the peer comes back.
    const second = await startTestInstance(env);
    try {
      peer.listen();
      const announce = await peer.waitFor(
        (b) => b.type === "Announce" && b.object?.content?.includes("posted while you were away"),
        "the delivery queued before the restart",
        15_000,
      );
      assert.equal(announce.body.actor, groupOf(second.origin, general.id));
      await eventually(async () => (await waitingRetries(second.harmony)) === 0, "the queue to drain");
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a dead server and one that never answers do not delay delivery to a live one", async () => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await using live = await MastodonPeer.start({ name: "live" });
  await using dead = await MastodonPeer.start({ name: "dead" });
  await using stuck = await MastodonPeer.start({ name: "stuck" });
  const general = await channelNamed(instance.origin, "general");
  const group = groupOf(instance.origin, general.id);
  for (const peer of [dead, stuck, live]) {
    await peer.follow(group);
    await peer.waitFor((b) => b.type === "Accept", "the Accept");
  }
  await dead.stop();
  stuck.mode = "hang";

  // More posts than the queue has workers: each goes to three servers, two of which never take it.
  const started = Date.now();
  for (let i = 0; i < 10; i++) await owner.post("general", `update ${i}`);
  for (let i = 0; i < 10; i++) {
    await live.waitFor(
      (b) => b.type === "Announce" && b.object?.content?.includes(`update ${i}`),
      `update ${i}`,
      5_000,
    );
  }
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 8_000, `the live server got its deliveries after ${elapsed} ms`);
  assert.equal(dead.received.filter((d) => d.body.type === "Announce").length, 0);
  // The dead server's deliveries wait for their retries.
  await eventually(async () => (await waitingRetries(instance.harmony)) > 0, "retries for the dead server");
});
