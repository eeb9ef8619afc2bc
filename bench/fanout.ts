/**
 * Fan-out: one message to 1,000 fediverse followers, each on its own
 * loopback port (a distinct origin, so nothing collapses into a shared
 * inbox). The instance runs as a separate process; this process runs the
 * followers: 1,000 `MastodonPeer`s (tests/federation/mastodon_peer.ts), each
 * a `Deno.serve` listener serving a Person with an RSA key and NodeInfo
 * "mastodon", whose inbox verifies draft-cavage signatures like Mastodon
 * (Digest checked, key fetched from the sender). Every follower sends a real
 * signed Follow; once all are accepted, messages are posted through the API
 * one at a time, and the clock runs from the POST to the moment the last
 * follower has received (and verified) the channel's Announce.
 *
 *   deno run --allow-all bench/fanout.ts [followers] [messages]
 */
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../cli/client.ts";
import { generateMnemonic } from "../server/crypto/derive.ts";
import { type Delivery, MastodonPeer, rsaKeyPair } from "../tests/federation/mastodon_peer.ts";
import { cpuSecondsOf, memoryOf, percentile, pool, progress, startServerProcess } from "./lib.ts";

export interface FanoutOptions {
  followers: number;
  /** Messages measured, one at a time (after one warm-up message). */
  messages: number;
  /** Follows sent at once while setting up. */
  followConcurrency: number;
  /** How long to wait for one message to reach everyone. */
  timeoutMs: number;
}

export interface FanoutMessage {
  /** From the POST to the last verified Announce (NaN when some never arrived in time). */
  allMs: number;
  /** From the POST to the moment half of the followers had it. */
  halfMs: number;
  /** The POST's own response time (the message is committed). */
  postMs: number;
  delivered: number;
  /** Deliveries refused by a follower's signature check during this message. */
  refused: number;
  serverCpuSeconds: number;
  receiverCpuSeconds: number;
}

export interface FanoutResult extends FanoutOptions {
  accepted: number;
  setupSeconds: number;
  warmup: FanoutMessage;
  measured: FanoutMessage[];
  /** Median over the measured messages of the time until all had it. */
  p50AllMs: number;
  serverRssAfterMiB: number;
}

export async function benchFanout(options: FanoutOptions): Promise<FanoutResult> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-bench-fanout-" });
  const ownerFile = await identityFileFromMnemonic(generateMnemonic());
  const server = await startServerProcess({
    DATABASE_URL: `file:${dir}/harmony.db`,
    HARMONY_OWNER: ownerFile.did,
    HARMONY_ALLOW_PRIVATE_ADDRESSES: "1",
  });
  progress(`fanout: server pid ${server.pid} on ${server.origin}`);
  const peers: MastodonPeer[] = [];
  try {
    const setupStart = performance.now();
    const owner = new HarmonyClient(server.origin, await signerFromIdentityFile(ownerFile));
    await owner.signIn();
    const channel = await owner.createChannel("fanout", { visibility: "public" });
    const group = `${server.origin}/ap/actors/${channel.id}`;

    // One RSA key pair for every follower (generating 1,000 would take minutes); each
    // follower still has its own actor, key id and key cache.
    const keys = await rsaKeyPair();
    // Who has what: for each follower, the time its latest matching delivery arrived.
    let watching: { match: (body: Delivery["body"]) => boolean; arrived: number[]; done: () => void } | null =
      null;
    const accepted = new Set<number>();
    for (let i = 0; i < options.followers; i++) {
      const peer = await MastodonPeer.start({ name: `follower${i}`, keys });
      // Observe verified deliveries as they are recorded (the peer only records verified ones).
      const received = peer.received;
      const push = received.push.bind(received);
      received.push = (...items: Delivery[]) => {
        const now = performance.now();
        for (const item of items) {
          if (item.body?.type === "Accept") accepted.add(i);
          const w = watching;
          if (w && w.match(item.body) && Number.isNaN(w.arrived[i])) {
            w.arrived[i] = now;
            if (w.arrived.every((t) => !Number.isNaN(t))) w.done();
          }
        }
        // Keep memory flat: only the latest few deliveries are kept.
        if (received.length > 4) received.splice(0, received.length - 4);
        return push(...items);
      };
      peers.push(peer);
    }
    progress(`fanout: ${peers.length} followers listening on ports ${peers[0].port}…`);

    await pool(peers.length, options.followConcurrency, async (i) => {
      const peer = peers[i];
      const follow = peer.mint("follows", { type: "Follow", actor: peer.actorId, object: group });
      const reply = await peer.post(`${group}/inbox`, follow);
      if (reply.status !== 202) throw new Error(`follow ${i}: ${reply.status} ${reply.text}`);
    });
    const acceptDeadline = Date.now() + 300_000;
    while (accepted.size < peers.length && Date.now() < acceptDeadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const setupSeconds = (performance.now() - setupStart) / 1000;
    progress(`fanout: ${accepted.size} of ${peers.length} follows accepted (${setupSeconds.toFixed(1)} s)`);
    const refusedBefore = () => peers.reduce((n, p) => n + p.refused.length, 0);

    const send = async (index: number): Promise<FanoutMessage> => {
      const marker = `fan-out ${index} ${crypto.randomUUID()}`;
      const message = await owner.signedMessage(channel.iri, `${marker} to every follower`);
      const arrived = new Array<number>(peers.length).fill(NaN);
      let done = () => {};
      const all = new Promise<void>((resolve) => done = resolve);
      watching = {
        match: (body) => body?.type === "Announce" && String(body.object?.content ?? "").includes(marker),
        arrived,
        done,
      };
      const refused0 = refusedBefore();
      const serverCpu0 = await cpuSecondsOf(server.pid);
      const receiverCpu0 = await cpuSecondsOf(Deno.pid);
      const t0 = performance.now();
      await owner.request("POST", `/channels/${channel.id}/messages`, { message });
      const postMs = performance.now() - t0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([all, new Promise((r) => timer = setTimeout(r, options.timeoutMs))]);
      clearTimeout(timer);
      watching = null;
      const times = arrived.filter((t) => !Number.isNaN(t)).map((t) => t - t0);
      const result: FanoutMessage = {
        allMs: times.length === peers.length ? Math.max(...times) : NaN,
        halfMs: times.length * 2 >= peers.length ? percentile(times, 50) : NaN,
        postMs,
        delivered: times.length,
        refused: refusedBefore() - refused0,
        serverCpuSeconds: (await cpuSecondsOf(server.pid)) - serverCpu0,
        receiverCpuSeconds: (await cpuSecondsOf(Deno.pid)) - receiverCpu0,
      };
      progress(
        `fanout: message ${index}: ${result.delivered}/${peers.length} in ${
          result.allMs.toFixed(0)
        } ms (half by ${result.halfMs.toFixed(0)} ms; POST ${postMs.toFixed(0)} ms; server CPU ${
          result.serverCpuSeconds.toFixed(2)
        } s)`,
      );
      // Let the queue settle (its last deletes) before the next one.
      await new Promise((r) => setTimeout(r, 1_000));
      return result;
    };

    const warmup = await send(0);
    const measured: FanoutMessage[] = [];
    for (let m = 1; m <= options.messages; m++) measured.push(await send(m));
    const serverRssAfterMiB = (await memoryOf(server.pid)).rssMiB;
    const all = measured.map((m) => m.allMs);
    return {
      ...options,
      accepted: accepted.size,
      setupSeconds,
      warmup,
      measured,
      p50AllMs: all.some(Number.isNaN) ? NaN : percentile(all, 50),
      serverRssAfterMiB,
    };
  } finally {
    await Promise.all(peers.map((peer) => peer.stop().catch(() => {})));
    await server.stop();
    if (Deno.env.get("BENCH_SHOW_SERVER")) console.log(server.output());
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const result = await benchFanout({
    followers: Number(Deno.args[0] ?? 1000),
    messages: Number(Deno.args[1] ?? 5),
    followConcurrency: 32,
    timeoutMs: 60_000,
  });
  console.log(JSON.stringify(result, null, 2));
}
