import assert from "node:assert/strict";
import { base58, hex } from "@scure/base";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { entropyToMnemonic, mnemonicToSeed } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { canonicalize } from "../../server/crypto/jcs.ts";
import {
  didFromPublicKey,
  ed25519Multibase,
  publicKeyFromDid,
  x25519Multibase,
} from "../../server/crypto/didkey.ts";
import { x25519PublicKeyFromDid } from "../../server/crypto/x25519.ts";
import { slip10Derive } from "../../server/crypto/derive.ts";
import { hashData, sign, verify } from "../../server/crypto/dataIntegrity.ts";
import { signerFromSecret } from "../../server/crypto/signer.ts";

const load = (name: string) =>
  JSON.parse(Deno.readTextFileSync(new URL(`../vectors/${name}.json`, import.meta.url)));

Deno.test("BIP-39: entropy, mnemonic and seed match the Trezor vectors", async () => {
  const { vectors } = load("bip39");
  for (const v of vectors) {
    assert.equal(entropyToMnemonic(hex.decode(v.entropyHex), wordlist), v.mnemonic);
    assert.equal(hex.encode(await mnemonicToSeed(v.mnemonic, v.passphrase)), v.seedHex);
  }
});

Deno.test("SLIP-0010: ed25519 derivation matches the published vectors", () => {
  const { ed25519: vectors } = load("slip10");
  for (const vector of vectors) {
    for (const chain of vector.chains) {
      const node = slip10Derive(hex.decode(vector.seedHex), chain.path.replaceAll("H", "'"));
      assert.equal(hex.encode(node.chainCode), chain.chainCode, chain.path);
      assert.equal(hex.encode(node.privateKey), chain.privateKey, chain.path);
      assert.equal(
        "00" + hex.encode(ed25519.getPublicKey(node.privateKey)),
        chain.publicKey,
        chain.path,
      );
    }
  }
});

Deno.test("did:key: Ed25519 DIDs and X25519 key agreement keys match the CCG vectors", () => {
  const { vectors } = load("did-key");
  let checked = 0;
  for (const v of vectors) {
    if (v.seedHex) {
      const publicKey = ed25519.getPublicKey(hex.decode(v.seedHex));
      assert.equal(didFromPublicKey(publicKey), v.did);
      const montgomerySecret = ed25519.utils.toMontgomerySecret(hex.decode(v.seedHex));
      assert.deepEqual(x25519.getPublicKey(montgomerySecret), x25519PublicKeyFromDid(v.did));
    }
    if (v.publicKeyBase58) {
      assert.deepEqual(publicKeyFromDid(v.did), base58.decode(v.publicKeyBase58));
      assert.equal(ed25519Multibase(base58.decode(v.publicKeyBase58)), v.did.slice(8));
    }
    if (v.x25519KeyAgreement?.publicKeyMultibase) {
      assert.equal(
        x25519Multibase(x25519PublicKeyFromDid(v.did)),
        v.x25519KeyAgreement.publicKeyMultibase,
      );
      checked++;
    }
  }
  assert.ok(checked >= 3, "at least three vectors carry an X25519 key");
});

Deno.test("JCS: canonical forms match the RFC 8785 reference test data", () => {
  const { vectors, numberSamples } = load("jcs");
  for (const v of vectors) assert.equal(canonicalize(JSON.parse(v.input)), v.expected, v.name);
  for (const sample of numberSamples) {
    const view = new DataView(hex.decode(sample.ieee754Hex.padStart(16, "0")).buffer);
    const value = view.getFloat64(0);
    if (Number.isFinite(value)) assert.equal(canonicalize(value), sample.expected);
  }
});

Deno.test("eddsa-jcs-2022: signing the W3C vector reproduces its hashes and proof", async () => {
  const v = load("eddsa-jcs-2022");
  const config = { ...v.proofOptions };
  assert.equal(canonicalize(config), v.canonicalProofConfig);
  assert.equal(canonicalize(v.unsignedDocument), v.canonicalDocument);
  assert.equal(hex.encode(await hashData(v.unsignedDocument, config)), v.combinedHashHex);
  // secretKeyMultibase = z + base58(0x8026 || 32-byte seed)
  const secret = base58.decode(v.keyPair.secretKeyMultibase.slice(1)).slice(2);
  const did = `did:key:${v.keyPair.publicKeyMultibase}`;
  const signer = await signerFromSecret(did, secret);
  const { type: _t, cryptosuite: _c, verificationMethod: _vm, "@context": _ctx, ...options } = v.proofOptions;
  const signed = await sign(v.unsignedDocument, signer, options);
  assert.deepEqual(signed, v.signedDocument);
  const result = await verify(v.signedDocument);
  assert.equal(result.verified, true);
});

Deno.test("eddsa-jcs-2022: a tampered document or proof no longer verifies", async () => {
  const v = load("eddsa-jcs-2022");
  const tamperedDoc = structuredClone(v.signedDocument);
  tamperedDoc.credentialSubject.alumniOf = "Another School";
  assert.deepEqual(await verify(tamperedDoc), {
    verified: false,
    error: "the signature does not match the document",
  });
  const tamperedProof = structuredClone(v.signedDocument);
  tamperedProof.proof.created = "2030-01-01T00:00:00Z";
  assert.equal((await verify(tamperedProof)).verified, false);
  const otherKey = structuredClone(v.signedDocument);
  const other = didFromPublicKey(ed25519.getPublicKey(new Uint8Array(32).fill(7)));
  otherKey.proof.verificationMethod = `${other}#${other.slice(8)}`;
  assert.equal((await verify(otherKey)).verified, false);
  const contextSwap = structuredClone(v.signedDocument);
  contextSwap["@context"] = ["https://www.w3.org/ns/credentials/v2"];
  assert.equal((await verify(contextSwap)).verified, false);
});
