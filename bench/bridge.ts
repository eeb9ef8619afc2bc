/**
 * Bridged inbound: capability-invoked operations verified and stored per
 * second by an instance (a separate process). The load generator plays a
 * peer instance: it serves its channel actor (with its Ed25519 Multikey),
 * gets a capability granted through the real API, pre-signs N invocations
 * (member-signed messages in an invoked Create each) and POSTs them to the
 * channel inbox, `concurrency` at a time.
 *
 * The first invocation is sent alone and timed apart (first contact: the
 * instance loads its ActivityPub layer, fetches the peer's key and verifies
 * the chain for the first time); then `warmup` more go through at full
 * concurrency before the clock starts, as in the ingest benchmark, so the
 * figure is the steady rate of an established bridge.
 */
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../cli/client.ts";
import { operationActivity } from "../federation/bridge/activity.ts";
import { suiteSigner } from "../server/capabilities/signer.ts";
import { invoke } from "../server/capabilities/zcap.ts";
import { generateMnemonic } from "../server/crypto/derive.ts";
import { ed25519Multibase } from "../server/crypto/didkey.ts";
import { signMessage } from "../server/documents/documents.ts";
import { opIdOf } from "../server/messages/oplog.ts";
import { freePort, pool, progress, startServerProcess, summarize } from "./lib.ts";

export interface BridgeBenchOptions {
  /** Operations per measured run. */
  operations: number;
  /** Measured runs, one after another on the same bridge; the figure is their median. */
  runs: number;
  warmup: number;
  concurrency: number;
  authors: number;
}

export interface BridgeRun {
  perSecond: number;
  seconds: number;
  latency: ReturnType<typeof summarize>;
}

export interface BridgeBenchResult extends BridgeBenchOptions {
  /** The median run's figures. */
  perSecond: number;
  seconds: number;
  latency: ReturnType<typeof summarize>;
  measuredRuns: BridgeRun[];
  signSeconds: number;
  firstContactMs: number;
  warmupSeconds: number;
  stored: number;
  failures: number;
}

export async function benchBridgeInbound(options: BridgeBenchOptions): Promise<BridgeBenchResult> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-bench-bridge-" });
  const ownerFile = await identityFileFromMnemonic(generateMnemonic());
  const server = await startServerProcess({
    DATABASE_URL: `file:${dir}/harmony.db`,
    HARMONY_OWNER: ownerFile.did,
    HARMONY_ALLOW_PRIVATE_ADDRESSES: "1",
  });
  // The peer: one channel actor with an Ed25519 key, served on loopback.
  const peerPort = freePort();
  const peerOrigin = `http://127.0.0.1:${peerPort}`;
  const peerActor = `${peerOrigin}/ap/actors/peerchanne`;
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const keyId = `${peerActor}#multikey-2`;
  const actorDocument = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/multikey/v1"],
    id: peerActor,
    type: "Group",
    inbox: `${peerActor}/inbox`,
    assertionMethod: [{
      id: keyId,
      type: "Multikey",
      controller: peerActor,
      publicKeyMultibase: ed25519Multibase(publicKey),
    }],
  };
  const peer = Deno.serve(
    { hostname: "127.0.0.1", port: peerPort, onListen: () => {} },
    (request) =>
      new URL(request.url).pathname === "/ap/actors/peerchanne"
        ? Response.json(actorDocument, { headers: { "content-type": "application/activity+json" } })
        : new Response("not found", { status: 404 }),
  );
  try {
    const owner = new HarmonyClient(server.origin, await signerFromIdentityFile(ownerFile));
    await owner.signIn();
    const channel = await owner.createChannel("bridged", { visibility: "public" });
    const grant = await owner.offerBridge(channel.id, peerActor);
    const inbox = `${server.origin}/ap/actors/${channel.id}/inbox`;
    const signer = suiteSigner(keyId, keys.privateKey);
    const authors = await Promise.all(
      Array.from(
        { length: options.authors },
        async () => await signerFromIdentityFile(await identityFileFromMnemonic(generateMnemonic())),
      ),
    );

    progress(
      `bridge: signing ${
        (1 + options.warmup + options.runs * options.operations).toLocaleString("en")
      } invocations`,
    );
    const signStart = performance.now();
    const bodies: string[] = [];
    const total = 1 + options.warmup + options.runs * options.operations;
    for (let i = 0; i < total; i++) {
      const doc = await signMessage(
        authors[i % authors.length],
        `${peerOrigin}/channels/peerchanne`,
        `bridged message ${i}`,
      );
      const activity = operationActivity(
        await opIdOf(doc),
        peerActor,
        `${server.origin}/ap/actors/${channel.id}`,
        doc,
        {
          origin: peerOrigin,
          seq: i + 1,
          lamport: i + 1,
        },
      );
      bodies.push(JSON.stringify(
        await invoke(activity, {
          capability: grant.capability as never,
          action: "post",
          invocationTarget: inbox,
          signer,
        }),
      ));
    }
    const signSeconds = (performance.now() - signStart) / 1000;

    let failures = 0;
    let lastError = "";
    const deliver = async (body: string): Promise<number> => {
      const t = performance.now();
      const response = await fetch(inbox, {
        method: "POST",
        headers: { "content-type": "application/activity+json" },
        body,
      });
      const text = await response.text();
      if (response.status !== 202 && response.status !== 200) {
        failures++;
        lastError = `${response.status} ${text}`;
      }
      return performance.now() - t;
    };

    progress("bridge: first contact, then warm-up");
    const firstContactMs = await deliver(bodies[0]);
    const warmupStart = performance.now();
    await pool(options.warmup, options.concurrency, async (i) => {
      await deliver(bodies[1 + i]);
    });
    const warmupSeconds = (performance.now() - warmupStart) / 1000;

    const measuredRuns: BridgeRun[] = [];
    for (let run = 0; run < options.runs; run++) {
      const from = 1 + options.warmup + run * options.operations;
      const measured = bodies.slice(from, from + options.operations);
      progress(
        `bridge: run ${run + 1}/${options.runs}: posting ${
          measured.length.toLocaleString("en")
        }, ${options.concurrency} in flight`,
      );
      const latencies: number[] = [];
      const started = performance.now();
      await pool(measured.length, options.concurrency, async (i) => {
        latencies.push(await deliver(measured[i]));
      });
      const seconds = (performance.now() - started) / 1000;
      measuredRuns.push({ perSecond: measured.length / seconds, seconds, latency: summarize(latencies) });
    }
    if (failures) progress(`bridge: ${failures} refused, e.g. ${lastError}`);
    const state = await owner.channelState(channel.id);
    const median = [...measuredRuns].sort((a, b) =>
      a.perSecond - b.perSecond
    )[Math.floor(measuredRuns.length / 2)];
    return {
      ...options,
      ...median,
      measuredRuns,
      signSeconds,
      firstContactMs,
      warmupSeconds,
      stored: state.messages,
      failures,
    };
  } finally {
    await peer.shutdown();
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  console.log(
    await benchBridgeInbound({
      operations: Number(Deno.args[0] ?? 3000),
      runs: Number(Deno.args[3] ?? 1),
      warmup: Number(Deno.args[2] ?? 500),
      concurrency: Number(Deno.args[1] ?? 64),
      authors: 16,
    }),
  );
}
