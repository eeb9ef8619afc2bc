/**
 * Every way an invocation must be refused, each with its status and
 * reason (401: not authenticated; 403: authentic but not authorized).
 */
import assert from "node:assert/strict";
import { Reasons, type VerifyInvocationResult } from "../../server/capabilities/verify.ts";
import { delegate, rootCapability, rootCapabilityId } from "../../server/capabilities/zcap.ts";
import {
  A_BOT,
  A_CHANNEL,
  A_RELAY,
  activity,
  at,
  invokeAs,
  newActorKey,
  newDidKey,
  rawDelegate,
  rawInvoke,
  T,
  T2,
  verifyInvocation,
  world,
} from "./fixtures.ts";

const w = await world();

function assertRefused(result: VerifyInvocationResult, status: 401 | 403, reason: string): void {
  assert.equal(result.verified, false, `expected a refusal (${reason}), got ${JSON.stringify(result)}`);
  if (result.verified) return;
  assert.deepEqual({ status: result.status, reason: result.reason }, { status, reason }, result.detail);
}

Deno.test("accepts a valid invocation (the baseline the refusals below depart from)", async () => {
  const invocation = await invokeAs(w.channel, w.z1);
  const before = structuredClone(invocation);
  const result = await verifyInvocation(invocation, w.options());
  assert.equal(result.verified, true, JSON.stringify(result));
  assert.deepEqual(invocation, before); // the input is left alone
});

// --- target ---

Deno.test("refuses a capability for one channel invoked on another channel's inbox", async () => {
  const invocation = await invokeAs(w.channel, w.z1); // capability and proof for T
  assertRefused(
    await verifyInvocation(invocation, w.options({ expectedTarget: T2 })),
    403,
    Reasons.otherTarget,
  );
});

Deno.test("refuses an invocation that names another channel than its capability's", async () => {
  const invocation = await rawInvoke(w.channel, w.z1, { action: "post", target: T2 });
  assertRefused(
    await verifyInvocation(invocation, w.options({ expectedTarget: T2 })),
    403,
    Reasons.otherTarget,
  );
  assertRefused(await verifyInvocation(invocation, w.options()), 403, Reasons.otherTarget);
});

Deno.test("refuses a capability rooted at another channel's root", async () => {
  const other = await delegate({
    parent: rootCapabilityId(T2),
    controller: A_CHANNEL,
    invocationTarget: T2,
    allowedAction: ["post"],
    expires: at(60),
    signer: w.community.signer,
    now: at(0),
  });
  const invocation = await invokeAs(w.channel, other, { target: T2 });
  assert.equal((await verifyInvocation(invocation, w.options({ expectedTarget: T2 }))).verified, true);
  assertRefused(await verifyInvocation(invocation, w.options()), 403, Reasons.otherTarget);
});

Deno.test("refuses an invocation on a target this instance does not host", async () => {
  const invocation = await invokeAs(w.channel, w.z1);
  assertRefused(
    await verifyInvocation(invocation, w.options({ rootControllerOf: () => null })),
    403,
    Reasons.notHosted,
  );
});

// --- expiry ---

Deno.test("refuses an expired capability", async () => {
  const invocation = await invokeAs(w.channel, w.z1, { created: at(60.5) });
  assertRefused(await verifyInvocation(invocation, w.options({ now: at(61) })), 403, Reasons.expired);
  // exactly at `expires` it is already expired
  const atExpiry = await invokeAs(w.channel, w.z1, { created: at(59.5) });
  assertRefused(await verifyInvocation(atExpiry, w.options({ now: at(60) })), 403, Reasons.expired);
});

Deno.test("refuses an invocation whose invoked capability expired though its parents have not", async () => {
  const invocation = await invokeAs(w.bot, w.z3, { actor: A_BOT, created: at(40.5) }); // z3 expires at 40
  const result = await verifyInvocation(invocation, w.options({ now: at(41) }));
  assertRefused(result, 403, Reasons.expired);
  assert.match((result as { detail: string }).detail, /the invoked capability/);
});

Deno.test("refuses a chain in which a parent has expired", async () => {
  // Only a delegation that outlives its parent can outlive an expired parent.
  const outliving = await rawDelegate(w.relay, w.z2, {
    controller: A_BOT,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(55),
    created: at(2),
  });
  const invocation = await invokeAs(w.bot, outliving, { actor: A_BOT, created: at(51) });
  const result = await verifyInvocation(invocation, w.options({ now: at(51) })); // z2 expired at 50
  assertRefused(result, 403, Reasons.expired);
  assert.match((result as { detail: string }).detail, /a capability in its chain/);
});

// --- revocation ---

Deno.test("refuses a revoked capability", async () => {
  const invocation = await invokeAs(w.channel, w.z1);
  w.revoked.add(w.z1.id);
  try {
    assertRefused(await verifyInvocation(invocation, w.options()), 403, Reasons.revoked);
  } finally {
    w.revoked.delete(w.z1.id);
  }
});

Deno.test("refuses a capability whose parent in the chain is revoked", async () => {
  const invocation = await invokeAs(w.bot, w.z3, { actor: A_BOT });
  assert.equal((await verifyInvocation(invocation, w.options())).verified, true);
  w.revoked.add(w.z2.id);
  try {
    assertRefused(await verifyInvocation(invocation, w.options()), 403, Reasons.revoked);
  } finally {
    w.revoked.delete(w.z2.id);
  }
});

Deno.test("asks isRevoked (sync or async) on every verification, with the whole chain", async () => {
  const invocation = await invokeAs(w.bot, w.z3, { actor: A_BOT });
  const asked: string[][] = [];
  let revoked = false;
  const isRevoked = (ids: string[]) => {
    asked.push(ids);
    return Promise.resolve(revoked);
  };
  assert.equal((await verifyInvocation(invocation, w.options({ isRevoked }))).verified, true);
  revoked = true;
  assertRefused(await verifyInvocation(invocation, w.options({ isRevoked })), 403, Reasons.revoked);
  assert.equal(asked.length, 2);
  assert.deepEqual(asked[0], [rootCapabilityId(T), w.z1.id, w.z2.id, w.z3.id]);
});

// --- actions ---

Deno.test("refuses an action the capability does not allow", async () => {
  const invocation = await rawInvoke(w.bot, w.z3, { action: "delete", target: T });
  assertRefused(
    await verifyInvocation(invocation, w.options({ expectedAction: "delete" })),
    403,
    Reasons.actionNotAllowed("delete"),
  );
});

Deno.test("refuses an invocation for another action than the request performs", async () => {
  const invocation = await invokeAs(w.channel, w.z1, { action: "post" });
  assertRefused(
    await verifyInvocation(invocation, w.options({ expectedAction: "delete" })),
    403,
    Reasons.actionMismatch("post", "delete"),
  );
});

// --- forged links ---

Deno.test("refuses a chain whose delegation proof was tampered with", async () => {
  const forged = structuredClone(w.z1);
  const value = forged.proof.proofValue as string;
  forged.proof.proofValue = value.slice(0, -2) + (value.endsWith("A") ? "BB" : "AA");
  const invocation = await invokeAs(w.channel, forged);
  assertRefused(await verifyInvocation(invocation, w.options()), 401, Reasons.chainSignature);
});

Deno.test("refuses a chain whose delegated capability was altered after signing", async () => {
  const widened = structuredClone(w.z1);
  widened.controller = A_RELAY; // hand z1 to the relay without the community's signature
  const invocation = await invokeAs(w.relay, widened);
  assertRefused(await verifyInvocation(invocation, w.options()), 401, Reasons.chainSignature);
});

Deno.test("refuses a chain whose embedded parent was tampered with", async () => {
  const forged = structuredClone(w.z2);
  const parent = forged.proof.capabilityChain.at(-1) as { controller: string };
  parent.controller = A_RELAY;
  const invocation = await invokeAs(w.relay, forged, { actor: A_RELAY });
  assertRefused(await verifyInvocation(invocation, w.options()), 401, Reasons.chainSignature);
});

Deno.test("refuses a delegation of our root signed by anyone but the root's controller", async () => {
  const stranger = await newDidKey();
  const forged = await delegate({
    parent: rootCapabilityId(T),
    controller: A_CHANNEL,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(60),
    signer: stranger.signer,
    now: at(0),
  });
  assertRefused(
    await verifyInvocation(await invokeAs(w.channel, forged), w.options()),
    401,
    Reasons.chainSignature,
  );
});

Deno.test("refuses a chain from a self-made root with our root's id", async () => {
  const mallory = await newDidKey();
  const fakeRoot = rootCapability(T, mallory.did);
  assert.equal(fakeRoot.id, rootCapabilityId(T));
  const forged = await delegate({
    parent: fakeRoot,
    controller: A_CHANNEL,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(60),
    signer: mallory.signer,
    now: at(0),
  });
  assertRefused(
    await verifyInvocation(await invokeAs(w.channel, forged), w.options()),
    401,
    Reasons.chainSignature,
  );
});

Deno.test("refuses a delegation signed by a key its controller does not list", async () => {
  const impostor = await newActorKey(A_CHANNEL, "key-1"); // same key id, another key
  const forged = await delegate({
    parent: w.z1,
    controller: A_RELAY,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(50),
    signer: impostor.signer,
    now: at(1),
  });
  assertRefused(
    await verifyInvocation(await invokeAs(w.relay, forged), w.options()),
    401,
    Reasons.chainSignature,
  );
});

// --- escalation beyond the parent ---

Deno.test("refuses a delegation that allows more actions than its parent", async () => {
  const wider = await rawDelegate(w.relay, w.z2, {
    controller: A_BOT,
    invocationTarget: T,
    allowedAction: ["post", "delete"], // z2 allows post and react
    expires: at(40),
    created: at(2),
  });
  const post = await invokeAs(w.bot, wider, { actor: A_BOT });
  assertRefused(await verifyInvocation(post, w.options()), 403, Reasons.escalation);
  const del = await invokeAs(w.bot, wider, { actor: A_BOT, action: "delete" });
  assertRefused(
    await verifyInvocation(del, w.options({ expectedAction: "delete" })),
    403,
    Reasons.actionNotAllowed("delete"),
  );
});

Deno.test("refuses a delegation that expires after its parent", async () => {
  const longer = await rawDelegate(w.relay, w.z2, {
    controller: A_BOT,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(55), // z2 expires at 50
    created: at(2),
  });
  assertRefused(
    await verifyInvocation(await invokeAs(w.bot, longer, { actor: A_BOT }), w.options()),
    403,
    Reasons.escalation,
  );
});

Deno.test("refuses a delegation to another target than its parent's", async () => {
  const elsewhere = await rawDelegate(w.relay, w.z2, {
    controller: A_BOT,
    invocationTarget: T2,
    allowedAction: ["post"],
    expires: at(40),
    created: at(2),
  });
  const atT2 = await invokeAs(w.bot, elsewhere, { actor: A_BOT, target: T2 });
  assertRefused(await verifyInvocation(atT2, w.options({ expectedTarget: T2 })), 403, Reasons.otherTarget);
  const claimsT = await rawInvoke(w.bot, elsewhere, { action: "post", target: T });
  assertRefused(await verifyInvocation(claimsT, w.options()), 403, Reasons.otherTarget);
  const subPath = await rawDelegate(w.relay, w.z2, {
    controller: A_BOT,
    invocationTarget: `${T}/thread`,
    allowedAction: ["post"],
    expires: at(40),
    created: at(2),
  });
  const sub = await invokeAs(w.bot, subPath, { actor: A_BOT, target: `${T}/thread` });
  assertRefused(
    await verifyInvocation(sub, w.options({ expectedTarget: `${T}/thread` })),
    403,
    Reasons.otherTarget,
  );
});

// --- invoker ---

Deno.test("refuses an invocation signed by someone other than the capability's controller", async () => {
  const invocation = await invokeAs(w.relay, w.z1, { actor: A_RELAY }); // z1 is the channel's
  assertRefused(await verifyInvocation(invocation, w.options()), 401, Reasons.notController);
});

Deno.test("refuses an invocation of a capability held by a DID, signed by another DID", async () => {
  const holder = await newDidKey();
  const thief = await newDidKey();
  const toDid = await delegate({
    parent: w.z1,
    controller: holder.did,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(30),
    signer: w.channel.signer,
    now: at(1),
  });
  const good = await verifyInvocation(await invokeAs(holder, toDid), w.options());
  assert.equal(good.verified && good.invoker, holder.did);
  assertRefused(
    await verifyInvocation(await invokeAs(thief, toDid), w.options()),
    401,
    Reasons.notController,
  );
});

Deno.test("refuses an invocation signed with a key the invoker's actor does not list", async () => {
  const impostor = await newActorKey(A_CHANNEL, "key-2");
  const invocation = await invokeAs(impostor, w.z1);
  assertRefused(await verifyInvocation(invocation, w.options()), 401, Reasons.unknownKey);
});

Deno.test("refuses a key its resolver attributes to a controller on another origin", async () => {
  const invocation = await invokeAs(w.channel, w.z1);
  const resolveHttpsController = () => ({
    controller: "https://elsewhere.example/actor",
    keys: [{ id: w.channel.id, publicKeyMultibase: w.channel.publicKeyMultibase }],
  });
  assertRefused(
    await verifyInvocation(invocation, w.options({ resolveHttpsController })),
    401,
    Reasons.unknownKey,
  );
});

Deno.test("refuses (as an unknown key) an invocation whose signer cannot be resolved right now", async () => {
  const invocation = await invokeAs(w.channel, w.z1);
  const resolveHttpsController = () => Promise.reject(new Error("peer unreachable"));
  assertRefused(
    await verifyInvocation(invocation, w.options({ resolveHttpsController })),
    401,
    Reasons.unknownKey,
  );
});

// --- freshness ---

Deno.test("refuses a stale invocation (created before the freshness window)", async () => {
  const invocation = await invokeAs(w.channel, w.z1, { created: at(4) });
  assert.equal((await verifyInvocation(invocation, w.options({ now: at(8.9) }))).verified, true);
  assertRefused(await verifyInvocation(invocation, w.options({ now: at(9.1) })), 401, Reasons.notFresh);
  assertRefused(
    await verifyInvocation(invocation, w.options({ now: at(6), freshnessSeconds: 60 })),
    401,
    Reasons.notFresh,
  );
});

Deno.test("refuses an invocation created in the future beyond the clock skew", async () => {
  const invocation = await invokeAs(w.channel, w.z1, { created: at(12) });
  assertRefused(await verifyInvocation(invocation, w.options({ now: at(10) })), 401, Reasons.notFresh);
  assert.equal((await verifyInvocation(invocation, w.options({ now: at(11.5) }))).verified, true);
});

Deno.test("refuses an invocation created before the capability was delegated", async () => {
  const late = await delegate({
    parent: w.z1,
    controller: A_RELAY,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(50),
    signer: w.channel.signer,
    now: at(20),
  });
  const invocation = await invokeAs(w.relay, late, { actor: A_RELAY, created: at(15) });
  const result = await verifyInvocation(invocation, w.options({ now: at(18) }));
  assertRefused(result, 401, Reasons.invalidChain);
});

// --- the invoked document ---

Deno.test("refuses an invocation whose document was changed after signing", async () => {
  const invocation = await invokeAs(w.channel, w.z1);
  const changed = structuredClone(invocation) as unknown as { object: { content: string } };
  changed.object.content = "something else";
  assertRefused(await verifyInvocation(changed, w.options()), 401, Reasons.invocationSignature);
  const added = structuredClone(invocation) as Record<string, unknown>;
  added.summary = "smuggled";
  assertRefused(await verifyInvocation(added, w.options()), 401, Reasons.invocationSignature);
  const recontext = structuredClone(invocation) as Record<string, unknown>;
  (recontext["@context"] as unknown[]).push({ content: "https://evil.example/content" });
  assertRefused(await verifyInvocation(recontext, w.options()), 401, Reasons.invocationSignature);
});

Deno.test("refuses an invocation whose proof was changed after signing", async () => {
  const invocation = await invokeAs(w.channel, w.z1);
  const action = structuredClone(invocation) as unknown as { proof: { capabilityAction: string } };
  action.proof.capabilityAction = "delete";
  assertRefused(
    await verifyInvocation(action, w.options({ expectedAction: "delete" })),
    401,
    Reasons.invocationSignature,
  );
  const swapped = structuredClone(invocation) as unknown as { proof: { capability: unknown } };
  const other = await delegate({
    parent: w.z1,
    controller: A_CHANNEL,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(30),
    signer: w.channel.signer,
    now: at(1),
  });
  swapped.proof.capability = other;
  assertRefused(await verifyInvocation(swapped, w.options()), 401, Reasons.invocationSignature);
});

// --- malformed ---

Deno.test("refuses malformed invocations", async () => {
  const invocation = await invokeAs(w.channel, w.z1) as Record<string, unknown>;
  const cases: unknown[] = [
    null,
    "a string",
    [invocation],
    activity(A_CHANNEL),
    { ...invocation, proof: [invocation.proof, invocation.proof] },
    { ...invocation, proof: { ...(invocation.proof as object), cryptosuite: "ecdsa-rdfc-2019" } },
    { ...invocation, proof: { ...(invocation.proof as object), created: "yesterday" } },
    { ...invocation, proof: { ...(invocation.proof as object), capability: 42 } },
  ];
  for (const doc of cases) assertRefused(await verifyInvocation(doc, w.options()), 401, Reasons.malformed);
});

Deno.test("refuses a chain longer than the maximum", async () => {
  const invocation = await invokeAs(w.bot, w.z3, { actor: A_BOT }); // root + 3 delegations
  assert.equal((await verifyInvocation(invocation, w.options({ maxChainLength: 4 }))).verified, true);
  assertRefused(await verifyInvocation(invocation, w.options({ maxChainLength: 3 })), 401, Reasons.malformed);
});

Deno.test("refuses an embedded chain that is inconsistent", async () => {
  const broken = structuredClone(w.z3);
  broken.proof.capabilityChain[1] = "urn:uuid:00000000-0000-4000-8000-000000000000";
  const invocation = await invokeAs(w.bot, broken, { actor: A_BOT });
  assertRefused(await verifyInvocation(invocation, w.options()), 401, Reasons.malformed);
});
