/**
 * Capability invocation verification throughput (server/capabilities):
 * invocations over a 1-link chain (root → remote channel actor) and a
 * 3-link chain (→ relay → bot), each verified cold (every delegation proof
 * canonicalized and checked) and with the cache of verified delegation
 * proofs. Every invocation is a distinct signed activity, as on the wire.
 *
 *   deno run --allow-all bench/capabilities.ts [--seconds=3]
 */
import { didFromPublicKey, ed25519Multibase, verificationMethodOf } from "../server/crypto/didkey.ts";
import type { HttpsController } from "../server/capabilities/loader.ts";
import { type SuiteSigner, suiteSigner } from "../server/capabilities/signer.ts";
import { delegationProofCache } from "../server/capabilities/suites.ts";
import { verifyInvocation, type VerifyInvocationOptions } from "../server/capabilities/verify.ts";
import { delegate, type DelegatedZcap, invoke, rootCapabilityId } from "../server/capabilities/zcap.ts";

export interface CapabilityBenchRow {
  name: string;
  chain: number;
  cached: boolean;
  /** Median and best verifications per second over 500 ms windows. */
  median: number;
  best: number;
  /** Milliseconds per verification at the median. */
  ms: number;
}

const target = "https://b.example/channels/general/inbox";

async function keyPair(
  id?: (publicKey: Uint8Array) => string,
): Promise<{ id: string; multibase: string; signer: SuiteSigner }> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const keyId = id ? id(publicKey) : verificationMethodOf(didFromPublicKey(publicKey));
  return { id: keyId, multibase: ed25519Multibase(publicKey), signer: suiteSigner(keyId, pair.privateKey) };
}

async function setting() {
  const community = await keyPair();
  const communityDid = community.id.split("#")[0];
  const actors = new Map<string, HttpsController>();
  const actor = async (url: string) => {
    const key = await keyPair(() => `${url}#key-1`);
    actors.set(url, { controller: url, keys: [{ id: key.id, publicKeyMultibase: key.multibase }] });
    return key;
  };
  const channel = await actor("https://a.example/channels/lobby");
  const relay = await actor("https://a.example/actors/relay");
  const bot = await actor("https://a.example/actors/bot");
  const now = new Date();
  const inHours = (h: number) => new Date(now.getTime() + h * 3_600_000);
  const z1 = await delegate({
    parent: rootCapabilityId(target),
    controller: "https://a.example/channels/lobby",
    invocationTarget: target,
    allowedAction: ["post", "edit", "delete", "react"],
    expires: inHours(3),
    signer: community.signer,
  });
  const z2 = await delegate({
    parent: z1,
    controller: "https://a.example/actors/relay",
    invocationTarget: target,
    allowedAction: ["post", "react"],
    expires: inHours(2),
    signer: channel.signer,
  });
  const z3 = await delegate({
    parent: z2,
    controller: "https://a.example/actors/bot",
    invocationTarget: target,
    allowedAction: ["post"],
    expires: inHours(1),
    signer: relay.signer,
  });
  const options: VerifyInvocationOptions = {
    expectedTarget: target,
    expectedAction: "post",
    rootControllerOf: (t) => t === target ? communityDid : null,
    isRevoked: () => false,
    resolveHttpsController: (url) => actors.get(url.split("#")[0]) ?? null,
    freshnessSeconds: 3600,
  };
  return { channel, bot, z1, z3, options };
}

async function invocations(
  key: { signer: SuiteSigner },
  actor: string,
  capability: DelegatedZcap,
  count: number,
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      await invoke({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/harmony/v1"],
        id: `${actor}/activities/${crypto.randomUUID()}`,
        type: "Create",
        actor,
        to: target,
        object: { id: `${actor}/notes/${i}`, type: "Note", content: `message ${i}`, attributedTo: actor },
      }, { capability, action: "post", invocationTarget: target, signer: key.signer }),
    );
  }
  return out;
}

async function rate(
  docs: unknown[],
  options: VerifyInvocationOptions,
  seconds: number,
): Promise<{ median: number; best: number }> {
  let i = 0;
  const once = async () => {
    const result = await verifyInvocation(docs[i++ % docs.length], options);
    if (!result.verified) {
      throw new Error(`benchmark invocation refused: ${result.reason} (${result.detail})`);
    }
  };
  for (let w = 0; w < 50; w++) await once(); // warm up (JIT, contexts, cache)
  const rates: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < 500) {
      await once();
      n++;
    }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { median: rates[Math.floor(rates.length / 2)], best: rates[rates.length - 1] };
}

export async function benchCapabilities(seconds = 3): Promise<CapabilityBenchRow[]> {
  const s = await setting();
  const oneLink = await invocations(s.channel, "https://a.example/channels/lobby", s.z1, 500);
  const threeLinks = await invocations(s.bot, "https://a.example/actors/bot", s.z3, 500);
  const rows: CapabilityBenchRow[] = [];
  for (const [chain, docs] of [[1, oneLink], [3, threeLinks]] as const) {
    for (const cached of [false, true]) {
      delegationProofCache.clear();
      const { median, best } = await rate(docs, { ...s.options, useDelegationCache: cached }, seconds);
      rows.push({
        name: `${chain}-link chain, ${cached ? "delegation proofs cached" : "cold (no cache)"}`,
        chain,
        cached,
        median,
        best,
        ms: 1000 / median,
      });
    }
  }
  return rows;
}

if (import.meta.main) {
  const seconds = Number(Deno.args.find((a) => a.startsWith("--seconds="))?.slice(10) ?? 3);
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3).join(" ");
  console.log(`capability invocation verification (eddsa-jcs-2022 invocation, eddsa-rdfc-2022 delegations)`);
  console.log(`Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, load ${load}`);
  for (const row of await benchCapabilities(seconds)) {
    console.log(
      `${row.name.padEnd(42)} ${row.median.toFixed(0).padStart(6)} verifications/s median` +
        ` (${row.ms.toFixed(2)} ms), best ${row.best.toFixed(0)}/s`,
    );
  }
}
