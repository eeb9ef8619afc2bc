/**
 * The cache of verified delegation proofs makes a chain cheap after its
 * first verification, and stands only for a signature over the very same
 * bytes by the very same key: every other rule is checked every time.
 */
import assert from "node:assert/strict";
import { DelegationProofCache, delegationProofCache } from "../../server/capabilities/suites.ts";
import { Reasons } from "../../server/capabilities/verify.ts";
import { delegate, rootCapability } from "../../server/capabilities/zcap.ts";
import {
  A_BOT,
  A_CHANNEL,
  A_RELAY,
  at,
  invokeAs,
  newActorKey,
  newDidKey,
  T,
  verifyInvocation,
  world,
} from "./fixtures.ts";

const w = await world();

function counters() {
  return { hits: delegationProofCache.hits, misses: delegationProofCache.misses };
}

Deno.test("a chain's delegation proofs are verified once, then come from the cache", async () => {
  delegationProofCache.clear();
  const invocation = await invokeAs(w.bot, w.z3, { actor: A_BOT });
  assert.equal((await verifyInvocation(invocation, w.options())).verified, true);
  assert.deepEqual(counters(), { hits: 0, misses: 3 });
  // another invocation over the same chain
  const again = await invokeAs(w.bot, w.z3, { actor: A_BOT, created: at(6) });
  assert.equal((await verifyInvocation(again, w.options())).verified, true);
  assert.deepEqual(counters(), { hits: 3, misses: 3 });
  // without the cache, nothing is recorded
  assert.equal((await verifyInvocation(again, w.options({ useDelegationCache: false }))).verified, true);
  assert.deepEqual(counters(), { hits: 3, misses: 3 });
});

Deno.test("a cached delegation is still checked against its parent's controller", async () => {
  delegationProofCache.clear();
  const mallory = await newDidKey();
  const forged = await delegate({
    parent: rootCapability(T, mallory.did),
    controller: A_CHANNEL,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(60),
    signer: mallory.signer,
    now: at(0),
  });
  const invocation = await invokeAs(w.channel, forged);
  for (let i = 0; i < 2; i++) {
    const result = await verifyInvocation(invocation, w.options());
    assert.equal(result.verified ? "" : result.reason, Reasons.chainSignature);
  }
  assert.equal(delegationProofCache.hits, 1); // its signature is genuine (Mallory's), and cached as such
});

Deno.test("a cached chain is still refused once expired, revoked, or invoked by another", async () => {
  const invocation = await invokeAs(w.bot, w.z3, { actor: A_BOT });
  assert.equal((await verifyInvocation(invocation, w.options())).verified, true);
  const late = await invokeAs(w.bot, w.z3, { actor: A_BOT, created: at(41) });
  const expired = await verifyInvocation(late, w.options({ now: at(41) }));
  assert.equal(expired.verified ? "" : expired.reason, Reasons.expired);
  w.revoked.add(w.z1.id);
  const revoked = await verifyInvocation(invocation, w.options());
  w.revoked.delete(w.z1.id);
  assert.equal(revoked.verified ? "" : revoked.reason, Reasons.revoked);
  const stolen = await verifyInvocation(await invokeAs(w.relay, w.z3, { actor: A_RELAY }), w.options());
  assert.equal(stolen.verified ? "" : stolen.reason, Reasons.notController);
});

Deno.test("a delegation changed by a single byte misses the cache", async () => {
  const invocation = await invokeAs(w.channel, w.z1);
  assert.equal((await verifyInvocation(invocation, w.options())).verified, true);
  const changed = structuredClone(w.z1);
  changed.allowedAction = ["post", "edit", "delete", "reacT"];
  const result = await verifyInvocation(
    await invokeAs(w.channel, changed, { action: "post" }),
    w.options(),
  );
  assert.equal(result.verified ? "" : result.reason, Reasons.chainSignature);
});

Deno.test("a delegation whose signing key its controller no longer lists misses the cache", async () => {
  const invocation = await invokeAs(w.relay, w.z2, { actor: A_RELAY });
  assert.equal((await verifyInvocation(invocation, w.options())).verified, true);
  const original = w.actors.get(A_CHANNEL)!;
  const rotated = await newActorKey(A_CHANNEL, "key-1"); // same key id, new key
  w.actors.set(A_CHANNEL, {
    controller: A_CHANNEL,
    keys: [{ id: rotated.id, publicKeyMultibase: rotated.publicKeyMultibase }],
  });
  try {
    const result = await verifyInvocation(invocation, w.options());
    assert.equal(result.verified ? "" : result.reason, Reasons.chainSignature);
    w.actors.set(A_CHANNEL, { controller: A_CHANNEL, keys: [] });
    const gone = await verifyInvocation(invocation, w.options());
    assert.equal(gone.verified ? "" : gone.reason, Reasons.chainSignature);
  } finally {
    w.actors.set(A_CHANNEL, original);
  }
  assert.equal((await verifyInvocation(invocation, w.options())).verified, true);
});

Deno.test("cache entries live a bounded time and the cache a bounded size", async () => {
  const cache = new DelegationProofCache(30, 2);
  const method = {
    id: "did:key:z6Mk#z6Mk",
    type: "Multikey",
    controller: "did:key:z6Mk",
    publicKeyMultibase: "z6Mk",
  };
  const keys = ["a", "b", "c"].map((x) => cache.key({ id: x }, { proofValue: x })!);
  for (const key of keys) cache.set(key, method);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(keys[0]), null); // the oldest went first
  assert.ok(cache.get(keys[2]));
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(cache.get(keys[2]), null);
  assert.notEqual(cache.key({ a: 1, b: 2 }, {}), cache.key({ a: 1, b: 3 }, {}));
  assert.equal(cache.key({ a: 1, b: 2 }, {}), cache.key({ b: 2, a: 1 }, {}));
});
