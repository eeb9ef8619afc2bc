/**
 * What we produce is plain ZCAP: @digitalbazaar/zcap 9 with
 * jsonld-signatures verifies it on its own (with a loader written here
 * from the context packages and the did:key driver, not ours), and what
 * zcap's own API produces verifies with ours. zcap alone also refuses the
 * forgeries our early checks refuse.
 */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import jsigs from "jsonld-signatures";
import { CapabilityDelegation, CapabilityInvocation, createRootCapability } from "@digitalbazaar/zcap";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import { createSignCryptosuite, createVerifyCryptosuite } from "@digitalbazaar/eddsa-jcs-2022-cryptosuite";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { driver as didKeyDriver } from "@digitalbazaar/did-method-key";
import zcapContext from "@digitalbazaar/zcap-context";
import dataIntegrityContext from "@digitalbazaar/data-integrity-context";
import multikeyContext from "@digitalbazaar/multikey-context";
import didContext from "did-context";
import { preloadedContexts } from "@fedify/vocab-runtime";
import { rootCapabilityId } from "../../server/capabilities/zcap.ts";
import {
  A_BOT,
  A_CHANNEL,
  A_RELAY,
  at,
  invokeAs,
  rawDelegate,
  rawInvoke,
  T,
  T2,
  verifyInvocation,
  world,
} from "./fixtures.ts";

const w = await world();

// --- an independent verifier: the libraries and a loader of our own making here ---

const didKeys = didKeyDriver();
didKeys.use({ multibaseMultikeyHeader: "z6Mk", fromMultibase: Ed25519Multikey.from });
const contexts = new Map<string, unknown>();
for (const pkg of [zcapContext, dataIntegrityContext, multikeyContext, didContext] as any[]) {
  for (const [url, context] of pkg.contexts) contexts.set(url, context);
}
contexts.set(
  "https://www.w3.org/ns/activitystreams",
  preloadedContexts["https://www.w3.org/ns/activitystreams"],
);
const extraActors = new Map<string, { id: string; publicKeyMultibase: string }>();

async function referenceLoader(url: string) {
  const done = (document: unknown) => ({ contextUrl: null, documentUrl: url, document });
  if (contexts.has(url)) return done(contexts.get(url));
  if (url.startsWith("did:key:")) return done(await didKeys.get({ url }));
  if (url === rootCapabilityId(T)) {
    return done(createRootCapability({ controller: w.community.did, invocationTarget: T }));
  }
  const [base] = url.split("#");
  const known = w.actors.get(base);
  const keys = [...(known?.keys ?? []), ...(extraActors.has(base) ? [extraActors.get(base)!] : [])];
  if (keys.length > 0) {
    if (url === base) {
      const ids = keys.map((k) => k.id);
      return done({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        id: base,
        verificationMethod: keys.map((k) => ({ ...k, type: "Multikey", controller: base })),
        capabilityInvocation: ids,
        capabilityDelegation: ids,
      });
    }
    const key = keys.find((k) => k.id === url);
    if (key) {
      return done({
        "@context": "https://w3id.org/security/multikey/v1",
        ...key,
        type: "Multikey",
        controller: base,
      });
    }
  }
  throw new Error(`reference loader: ${url} not found`);
}

const referenceSuite = [
  new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() }),
  new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
];

function referenceVerify(document: unknown, overrides: Record<string, unknown> = {}): Promise<any> {
  return jsigs.verify(document, {
    suite: referenceSuite,
    purpose: new CapabilityInvocation({
      expectedTarget: T,
      expectedAction: "post",
      expectedRootCapability: rootCapabilityId(T),
      suite: referenceSuite,
      date: at(10),
      ...overrides,
    }),
    documentLoader: referenceLoader,
  });
}

Deno.test("an invocation we make verifies with our API and with zcap 9 + jsonld-signatures directly", async () => {
  for (const [key, capability, actor] of [[w.channel, w.z1, A_CHANNEL], [w.bot, w.z3, A_BOT]] as const) {
    const invocation = await invokeAs(key, capability, { actor });
    const ours = await verifyInvocation(invocation, w.options());
    assert.equal(ours.verified, true, JSON.stringify(ours));
    const theirs = await referenceVerify(invocation);
    assert.equal(theirs.verified, true, String(theirs.error));
    assert.equal(theirs.results[0].purposeResult.invoker.id, actor);
    // and the reference verifier is not a pushover
    const tampered = structuredClone(invocation) as any;
    tampered.object.content = "changed";
    assert.equal((await referenceVerify(tampered)).verified, false);
  }
});

Deno.test("our invocation proofs are eddsa-jcs-2022 capabilityInvocation proofs embedding the chain", async () => {
  const invocation = await invokeAs(w.bot, w.z3, { actor: A_BOT }) as any;
  assert.equal(invocation.proof.type, "DataIntegrityProof");
  assert.equal(invocation.proof.cryptosuite, "eddsa-jcs-2022");
  assert.equal(invocation.proof.proofPurpose, "capabilityInvocation");
  assert.equal(invocation.proof.capabilityAction, "post");
  assert.equal(invocation.proof.invocationTarget, T);
  assert.equal(invocation.proof.verificationMethod, w.bot.id);
  assert.deepEqual(invocation.proof.capability, w.z3);
  assert.ok(invocation["@context"].includes("https://w3id.org/zcap/v1"));
  assert.ok(invocation["@context"].includes("https://w3id.org/security/data-integrity/v2"));
});

Deno.test("a capability delegated with zcap's own API is accepted by ours", async () => {
  // A's channel delegates to a relay key generated by the library, with the library's API.
  const relayKey: any = await Ed25519Multikey.generate({
    id: "https://a.example/actors/lib-relay#k",
    controller: "x",
  });
  const relayActor = "https://a.example/actors/lib-relay";
  relayKey.controller = relayActor;
  w.actors.set(relayActor, {
    controller: relayActor,
    keys: [{ id: relayKey.id, publicKeyMultibase: relayKey.publicKeyMultibase }],
  });
  extraActors.set(relayActor, { id: relayKey.id, publicKeyMultibase: relayKey.publicKeyMultibase });
  const theirs = await jsigs.sign({
    "@context": ["https://w3id.org/zcap/v1", "https://w3id.org/security/data-integrity/v2"],
    id: `urn:uuid:${crypto.randomUUID()}`,
    parentCapability: w.z1.id,
    invocationTarget: T,
    controller: relayActor,
    allowedAction: "post",
    expires: at(45).toISOString(),
  }, {
    suite: new DataIntegrityProof({ signer: w.channel.signer, date: at(1), cryptosuite: eddsaRdfc2022 }),
    purpose: new CapabilityDelegation({ parentCapability: w.z1 }),
    documentLoader: referenceLoader,
  });
  // invoked with zcap's API and the library's key, eddsa-jcs-2022 and eddsa-rdfc-2022
  for (const cryptosuite of [createSignCryptosuite(), eddsaRdfc2022]) {
    const invocation = await jsigs.sign({
      "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/zcap/v1",
        "https://w3id.org/security/data-integrity/v2",
      ],
      id: `${relayActor}/activities/${crypto.randomUUID()}`,
      type: "Create",
      actor: relayActor,
      object: { type: "Note", content: "made by the library" },
    }, {
      suite: new DataIntegrityProof({ signer: relayKey.signer(), date: at(5), cryptosuite }),
      purpose: new CapabilityInvocation({
        capability: theirs,
        capabilityAction: "post",
        invocationTarget: T,
      }),
      documentLoader: referenceLoader,
    });
    const ours = await verifyInvocation(invocation, w.options());
    assert.equal(ours.verified, true, JSON.stringify(ours));
    assert.equal(ours.verified && ours.invoker, relayActor);
    assert.equal((await referenceVerify(invocation)).verified, true);
  }
  // and our invoke works on it too
  const mine = await verifyInvocation(
    await invokeAs(
      { signer: { id: relayKey.id, algorithm: "Ed25519", sign: relayKey.signer().sign } },
      theirs,
    ),
    w.options(),
  );
  assert.equal(mine.verified, true, JSON.stringify(mine));
});

Deno.test("zcap alone refuses what our early checks refuse (they add reasons, not security)", async () => {
  const cases: [string, Promise<unknown>, Record<string, unknown>][] = [
    ["another channel's inbox", invokeAs(w.channel, w.z1), {
      expectedTarget: T2,
      expectedRootCapability: rootCapabilityId(T2),
    }],
    ["proof names another channel", rawInvoke(w.channel, w.z1, { action: "post", target: T2 }), {}],
    ["expired", invokeAs(w.channel, w.z1, { created: at(66) }), { date: at(66) }],
    ["action not allowed", rawInvoke(w.bot, w.z3, { action: "delete", target: T }), {
      expectedAction: "delete",
    }],
    [
      "wider actions than the parent",
      rawDelegate(w.relay, w.z2, {
        controller: A_BOT,
        invocationTarget: T,
        allowedAction: ["post", "delete"],
        expires: at(40),
        created: at(2),
      }).then((z) => invokeAs(w.bot, z, { actor: A_BOT })),
      {},
    ],
    [
      "later expiry than the parent",
      rawDelegate(w.relay, w.z2, {
        controller: A_BOT,
        invocationTarget: T,
        allowedAction: ["post"],
        expires: at(55),
        created: at(2),
      }).then((z) => invokeAs(w.bot, z, { actor: A_BOT })),
      {},
    ],
    [
      "another target than the parent",
      rawDelegate(w.relay, w.z2, {
        controller: A_BOT,
        invocationTarget: T2,
        allowedAction: ["post"],
        expires: at(40),
        created: at(2),
      }).then((z) => rawInvoke(w.bot, z, { action: "post", target: T })),
      {},
    ],
    ["stale", invokeAs(w.channel, w.z1, { created: at(1) }), { maxTimestampDelta: 300 }],
    ["not the controller", invokeAs(w.relay, w.z1, { actor: A_RELAY }), {}],
  ];
  for (const [name, invocation, overrides] of cases) {
    const result = await referenceVerify(await invocation, overrides);
    assert.equal(result.verified, false, `zcap accepted: ${name}`);
  }
});
