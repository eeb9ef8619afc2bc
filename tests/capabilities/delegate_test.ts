/** Making capabilities: what `delegate` and `invoke` produce, and what they refuse to sign. */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import jsigs from "jsonld-signatures";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { createVerifyCryptosuite } from "@digitalbazaar/eddsa-jcs-2022-cryptosuite";
import { sign } from "../../server/crypto/dataIntegrity.ts";
import { staticDocumentLoader } from "../../server/capabilities/loader.ts";
import {
  CapabilityError,
  delegate,
  invoke,
  rootCapability,
  rootCapabilityId,
  withCapabilityContexts,
} from "../../server/capabilities/zcap.ts";
import {
  A_BOT,
  A_CHANNEL,
  A_RELAY,
  ACTIONS,
  activity,
  at,
  invokeAs,
  newDidKey,
  T,
  T2,
  verifyInvocation,
  world,
} from "./fixtures.ts";

const w = await world();

Deno.test("the root capability of a target is urn:zcap:root: and the URI-encoded target", () => {
  assert.equal(rootCapabilityId(T), "urn:zcap:root:https%3A%2F%2Fb.example%2Fchannels%2Fgeneral%2Finbox");
  assert.deepEqual(rootCapability(T, w.community.did), {
    "@context": "https://w3id.org/zcap/v1",
    id: rootCapabilityId(T),
    controller: w.community.did,
    invocationTarget: T,
  });
});

Deno.test("a delegation is an eddsa-rdfc-2022 capabilityDelegation proof over the zcap data model", () => {
  const z1 = w.z1 as any;
  assert.deepEqual(z1["@context"], [
    "https://w3id.org/zcap/v1",
    "https://w3id.org/security/data-integrity/v2",
  ]);
  assert.match(z1.id, /^urn:uuid:/);
  assert.equal(z1.parentCapability, rootCapabilityId(T));
  assert.equal(z1.invocationTarget, T);
  assert.equal(z1.controller, A_CHANNEL);
  assert.deepEqual(z1.allowedAction, ACTIONS);
  assert.equal(z1.expires, at(60).toISOString());
  assert.equal(z1.proof.type, "DataIntegrityProof");
  assert.equal(z1.proof.cryptosuite, "eddsa-rdfc-2022");
  assert.equal(z1.proof.proofPurpose, "capabilityDelegation");
  assert.equal(z1.proof.verificationMethod, w.community.signer.id);
  assert.equal(z1.proof.created, "2030-01-01T00:00:00Z");
  assert.deepEqual(z1.proof.capabilityChain, [rootCapabilityId(T)]);
  // further down, the chain lists ids and embeds the parent
  const z3 = w.z3 as any;
  assert.deepEqual(z3.proof.capabilityChain, [rootCapabilityId(T), w.z1.id, w.z2]);
});

Deno.test("the root's controller can invoke the root itself", async () => {
  const invocation = await invokeAs(w.community, rootCapabilityId(T));
  const result = await verifyInvocation(invocation, w.options());
  assert.equal(result.verified, true, JSON.stringify(result));
  assert.equal(result.verified && result.invoker, w.community.did);
  assert.deepEqual(result.verified && result.chainIds, [rootCapabilityId(T)]);
});

Deno.test("a successful verification returns what replay protection needs", async () => {
  const invocation = await invokeAs(w.bot, w.z3, { actor: A_BOT, created: at(5) }) as any;
  const result = await verifyInvocation(invocation, w.options({ freshnessSeconds: 120, now: at(6) }));
  assert.ok(result.verified);
  assert.deepEqual(result, {
    verified: true,
    invoker: A_BOT,
    verificationMethod: w.bot.id,
    capabilityId: w.z3.id,
    chainIds: [rootCapabilityId(T), w.z1.id, w.z2.id, w.z3.id],
    action: "post",
    proofValue: invocation.proof.proofValue,
    created: "2030-01-01T00:05:00Z",
    freshUntil: at(7),
  });
});

Deno.test("delegate refuses to sign anything beyond its parent", async () => {
  const base = {
    controller: A_BOT,
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(40),
    signer: w.relay.signer,
    now: at(2),
  };
  const refusals: [string, Record<string, unknown>][] = [
    ["wider actions", { parent: w.z2, allowedAction: ["post", "delete"] }],
    ["later expiry", { parent: w.z2, expires: at(55) }],
    ["another target", { parent: w.z2, invocationTarget: T2 }],
    ["a sub-path target", { parent: w.z2, invocationTarget: `${T}/thread` }],
    ["expired parent", { parent: w.z2, now: at(51), expires: at(52) }],
    ["a root of another target", { parent: rootCapabilityId(T2) }],
    ["not a root id", { parent: "urn:uuid:1234" }],
    ["no actions", { parent: w.z2, allowedAction: [] }],
    ["already expired", { parent: w.z2, expires: at(1) }],
    ["a relative controller", { parent: w.z2, controller: "bot" }],
  ];
  for (const [name, overrides] of refusals) {
    await assert.rejects(delegate({ ...base, ...overrides } as any), CapabilityError, name);
  }
});

Deno.test("a capability can be delegated to a DID as well as to an actor", async () => {
  const key = await newDidKey();
  const zcap = await delegate({
    parent: w.z1,
    controller: key.did,
    invocationTarget: T,
    allowedAction: ["react"],
    expires: at(30),
    signer: w.channel.signer,
    now: at(1),
  });
  const invocation = await invokeAs(key, zcap, { action: "react" });
  const result = await verifyInvocation(invocation, w.options({ expectedAction: "react" }));
  assert.equal(result.verified && result.invoker, key.did);
});

Deno.test("invoke adds the zcap and data integrity contexts and leaves the input alone", async () => {
  const input = activity(A_CHANNEL);
  const before = structuredClone(input);
  const invocation = await invokeAs(w.channel, w.z1, { document: input });
  assert.deepEqual(input, before);
  assert.deepEqual(invocation["@context"], [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/harmony/v1",
    "https://w3id.org/zcap/v1",
    "https://w3id.org/security/data-integrity/v2",
  ]);
  assert.deepEqual(withCapabilityContexts("https://w3id.org/zcap/v1"), [
    "https://w3id.org/zcap/v1",
    "https://w3id.org/security/data-integrity/v2",
  ]);
});

Deno.test("invoke refuses an invocation its capability could not authorize", async () => {
  const sign = (
    capability: any,
    action: string,
    target: string,
    document: Record<string, unknown> = activity(A_RELAY),
  ) =>
    invoke(document, {
      capability,
      action,
      invocationTarget: target,
      signer: w.relay.signer,
      created: at(5),
    });
  await assert.rejects(sign(w.z2, "delete", T), CapabilityError);
  await assert.rejects(sign(w.z2, "post", T2), CapabilityError);
  await assert.rejects(sign(rootCapabilityId(T), "post", T2), CapabilityError);
  const once = await sign(w.z2, "post", T);
  await assert.rejects(sign(w.z2, "post", T, once), CapabilityError);
});

Deno.test("an invocation proof can sit beside another proof on the same document", async () => {
  const author = await newDidKey();
  const signed = await sign(activity(A_CHANNEL) as Record<string, unknown>, {
    verificationMethod: author.signer.id,
    sign: (data) => author.signer.sign({ data }),
  }, { proofPurpose: "assertionMethod" });
  const invocation = await invokeAs(w.channel, w.z1, { document: signed });
  assert.ok(Array.isArray(invocation.proof));
  assert.equal((await verifyInvocation(invocation, w.options())).verified, true);
  // the other proof still verifies (eddsa-jcs-2022 verifies over the context its proof names)
  const other = await jsigs.verify(invocation, {
    suite: new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() }),
    purpose: new jsigs.purposes.AssertionProofPurpose(),
    documentLoader: staticDocumentLoader,
  });
  assert.equal(other.verified, true, String(other.error));
});
