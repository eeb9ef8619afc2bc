/** The offline document loader: what it answers, and that it never fetches. */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { driver as didKeyDriver } from "@digitalbazaar/did-method-key";
import { preloadedContexts } from "@fedify/vocab-runtime";
import {
  AS_CONTEXT,
  CREDENTIALS_V1,
  CREDENTIALS_V2,
  DI_V1,
  DI_V2,
  DID_V1,
  HARMONY_V1,
  MULTIKEY_V1,
  STATIC_CONTEXTS,
  ZCAP_V1,
} from "../../server/capabilities/contexts.ts";
import {
  createDocumentLoader,
  DocumentNotFoundError,
  resolveDidKey,
  rootCapabilityId,
} from "../../server/capabilities/loader.ts";
import { harmonyContext } from "../../server/rdf/vocab.ts";
import { newDidKey } from "./fixtures.ts";

Deno.test("the loader answers every context capabilities and credentials use, from memory", async () => {
  const load = createDocumentLoader();
  for (
    const url of [AS_CONTEXT, ZCAP_V1, DI_V1, DI_V2, MULTIKEY_V1, DID_V1, CREDENTIALS_V1, CREDENTIALS_V2]
  ) {
    const { document, documentUrl } = await load(url);
    assert.equal(documentUrl, url);
    assert.ok((document as any)["@context"], url);
  }
  assert.deepEqual((await load(HARMONY_V1)).document, harmonyContext());
  assert.ok(STATIC_CONTEXTS.has("https://w3id.org/harmony/v1"));
});

Deno.test("the vendored ActivityStreams context is the one Fedify ships", () => {
  assert.deepEqual(STATIC_CONTEXTS.get(AS_CONTEXT), preloadedContexts[AS_CONTEXT]);
});

Deno.test("the static contexts cannot be changed by a caller", async () => {
  const { document } = await createDocumentLoader()(ZCAP_V1);
  assert.throws(() => {
    (document as any)["@context"].expires = "https://evil.example/expires";
  }, TypeError);
});

Deno.test("did:key documents and keys resolve as the did:key driver resolves them", async () => {
  const driver = didKeyDriver();
  driver.use({ multibaseMultikeyHeader: "z6Mk", fromMultibase: Ed25519Multikey.from });
  const { did, publicKeyMultibase } = await newDidKey();
  const load = createDocumentLoader();
  assert.deepEqual((await load(did)).document, await driver.get({ did }));
  const vm = `${did}#${publicKeyMultibase}`;
  assert.deepEqual((await load(vm)).document, await driver.get({ url: vm }));
  assert.deepEqual(resolveDidKey(vm), await driver.get({ url: vm }));
});

Deno.test("malformed or foreign did:key URLs are not found", async () => {
  const { did } = await newDidKey();
  const other = await newDidKey();
  const load = createDocumentLoader();
  for (
    const url of [`${did}#${other.did.slice(8)}`, "did:key:z6MkNotAKey", "did:web:example.com", `${did}x`]
  ) {
    await assert.rejects(load(url), DocumentNotFoundError, url);
  }
});

Deno.test("root capabilities resolve only for targets the instance hosts", async () => {
  const target = "https://b.example/channels/general/inbox";
  const load = createDocumentLoader({ rootControllerOf: (t) => t === target ? "did:key:z6Mkroot" : null });
  const { document } = await load(rootCapabilityId(target));
  assert.deepEqual(document, {
    "@context": ZCAP_V1,
    id: "urn:zcap:root:https%3A%2F%2Fb.example%2Fchannels%2Fgeneral%2Finbox",
    controller: "did:key:z6Mkroot",
    invocationTarget: target,
  });
  await assert.rejects(
    load(rootCapabilityId("https://b.example/channels/other/inbox")),
    DocumentNotFoundError,
  );
  // a root id that is not the canonical encoding of its target
  await assert.rejects(load("urn:zcap:root:https://b.example/channels/general/inbox"), DocumentNotFoundError);
  await assert.rejects(createDocumentLoader()(rootCapabilityId(target)), DocumentNotFoundError);
});

Deno.test("http(s) keys and controllers come from the injected resolver, as a controller document view", async () => {
  const actor = "https://a.example/channels/lobby";
  const key = { id: `${actor}#key-1`, publicKeyMultibase: (await newDidKey()).publicKeyMultibase };
  const asked: string[] = [];
  const load = createDocumentLoader({
    resolveHttpsController: (url) => {
      asked.push(url);
      return url.startsWith(actor) ? { controller: actor, keys: [key] } : null;
    },
  });
  assert.deepEqual((await load(key.id)).document, {
    "@context": MULTIKEY_V1,
    id: key.id,
    type: "Multikey",
    controller: actor,
    publicKeyMultibase: key.publicKeyMultibase,
  });
  assert.deepEqual((await load(actor)).document, {
    "@context": [DID_V1, MULTIKEY_V1],
    id: actor,
    verificationMethod: [{
      id: key.id,
      type: "Multikey",
      controller: actor,
      publicKeyMultibase: key.publicKeyMultibase,
    }],
    authentication: [key.id],
    assertionMethod: [key.id],
    capabilityDelegation: [key.id],
    capabilityInvocation: [key.id],
  });
  await load(actor); // memoized for the loader's lifetime
  assert.deepEqual(asked, [key.id, actor]);
  await assert.rejects(load(`${actor}#key-2`), DocumentNotFoundError);
  await assert.rejects(load("https://c.example/actor"), DocumentNotFoundError);
});

Deno.test("a resolver cannot vouch for keys on another origin or keys that are not Ed25519", async () => {
  const actor = "https://a.example/actor";
  const good = (await newDidKey()).publicKeyMultibase;
  const load = createDocumentLoader({
    resolveHttpsController: () => ({
      controller: actor,
      keys: [
        { id: "https://evil.example/actor#key", publicKeyMultibase: good },
        { id: `${actor}#rsa`, publicKeyMultibase: "zNotEd25519" },
      ],
    }),
  });
  await assert.rejects(load("https://evil.example/actor#key"), DocumentNotFoundError);
  await assert.rejects(load(`${actor}#rsa`), DocumentNotFoundError);
  assert.deepEqual((await load(actor)).document, {
    "@context": [DID_V1, MULTIKEY_V1],
    id: actor,
    verificationMethod: [],
    authentication: [],
    assertionMethod: [],
    capabilityDelegation: [],
    capabilityInvocation: [],
  });
});

Deno.test("unknown URLs throw and nothing is ever fetched", async () => {
  const realFetch = globalThis.fetch;
  let fetched = 0;
  globalThis.fetch = () => {
    fetched++;
    return Promise.reject(new Error("no network"));
  };
  try {
    const load = createDocumentLoader();
    for (
      const url of [
        "https://www.w3.org/ns/odrl.jsonld",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://example.com/actor",
        "http://example.com/context",
        "urn:uuid:1234",
        "ftp://example.com/x",
      ]
    ) {
      await assert.rejects(load(url), DocumentNotFoundError, url);
    }
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.equal(fetched, 0);
});
