import assert from "node:assert/strict";
import { base64urlnopad } from "@scure/base";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { signerFromSecret } from "../../server/crypto/signer.ts";
import { x25519PublicKeyFromDid } from "../../server/crypto/x25519.ts";
import { checkEnvelope, conversationId } from "../../server/dms/crypto.ts";
import { conversationKey, openDm, sealDm, secretAgreement } from "../../server/dms/seal.ts";
import { HarmonyError } from "../../server/shared/errors.ts";

async function party() {
  const identity = identityFromSigningSecret(crypto.getRandomValues(new Uint8Array(32)));
  return {
    identity,
    did: identity.did,
    agreement: secretAgreement(identity.did, identity.agreementSecret),
    signer: await signerFromSecret(identity.did, identity.signingSecret),
  };
}

async function refused(work: Promise<unknown>, pattern?: RegExp): Promise<void> {
  await assert.rejects(work, (error: Error) => {
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("the recipient's X25519 key is computed from their did:key (no key directory)", async () => {
  const a = await party();
  assert.deepEqual(x25519PublicKeyFromDid(a.did), a.identity.agreementPublic);
});

Deno.test("both participants derive the same conversation key; a third person another", async () => {
  const [a, b, c] = [await party(), await party(), await party()];
  assert.deepEqual(await conversationKey(a.agreement, b.did), await conversationKey(b.agreement, a.did));
  assert.notDeepEqual(await conversationKey(a.agreement, b.did), await conversationKey(c.agreement, b.did));
  assert.equal(conversationId(a.did, b.did), conversationId(b.did, a.did));
});

Deno.test("a DM round-trips: the recipient and the sender decrypt it", async () => {
  const [a, b] = [await party(), await party()];
  const envelope = await sealDm({
    agreement: a.agreement,
    signer: a.signer,
    recipient: b.did,
    content: "héllo 👋",
  });
  assert.equal((await openDm(b.agreement, envelope)).content, "héllo 👋");
  assert.equal((await openDm(a.agreement, envelope)).content, "héllo 👋");
  assert.ok(!JSON.stringify(envelope).includes("héllo"));
});

Deno.test("padding hides the exact length: short messages share one ciphertext size", async () => {
  const [a, b] = [await party(), await party()];
  const one = await sealDm({ agreement: a.agreement, signer: a.signer, recipient: b.did, content: "x" });
  const two = await sealDm({
    agreement: a.agreement,
    signer: a.signer,
    recipient: b.did,
    content: "x".repeat(200),
  });
  assert.equal(one.ciphertext.length, two.ciphertext.length);
  assert.notEqual(one.nonce, two.nonce);
});

Deno.test("a flipped ciphertext byte is refused (signature and AEAD)", async () => {
  const [a, b] = [await party(), await party()];
  const envelope = await sealDm({
    agreement: a.agreement,
    signer: a.signer,
    recipient: b.did,
    content: "secret",
  });
  const bytes = base64urlnopad.decode(envelope.ciphertext);
  bytes[10] ^= 1;
  const tampered = { ...envelope, ciphertext: base64urlnopad.encode(bytes) };
  await refused(openDm(b.agreement, tampered), /signature/);
  await refused(checkEnvelope(tampered), /signature/);
});

Deno.test("a re-signed envelope with altered additional data does not decrypt (AAD binds id, time, parties)", async () => {
  const [a, b] = [await party(), await party()];
  const envelope = await sealDm({
    agreement: a.agreement,
    signer: a.signer,
    recipient: b.did,
    content: "secret",
  });
  // The sender herself re-signs a changed id: the signature is fine, the AEAD is not.
  const { proof: _p, ...rest } = envelope;
  const { sign } = await import("../../server/crypto/dataIntegrity.ts");
  for (
    const change of [{ id: `urn:uuid:${crypto.randomUUID()}` }, { published: new Date(0).toISOString() }]
  ) {
    const resigned = await sign({ ...rest, ...change }, a.signer, { proofPurpose: "assertionMethod" });
    await checkEnvelope(resigned);
    await refused(openDm(b.agreement, resigned), /cannot be decrypted/);
  }
});

Deno.test("another person's key cannot decrypt, and a sealed DM to C cannot be redirected to B", async () => {
  const [a, b, c] = [await party(), await party(), await party()];
  const envelope = await sealDm({
    agreement: a.agreement,
    signer: a.signer,
    recipient: b.did,
    content: "for b",
  });
  await refused(openDm(c.agreement, envelope), /two other people/);
  // C pretends to be B by using B's DID with C's key.
  await refused(openDm(secretAgreement(b.did, c.identity.agreementSecret), envelope), /cannot be decrypted/);
  const redirected = { ...envelope, recipient: c.did };
  await refused(checkEnvelope(redirected), /signature/);
});

Deno.test("a tampered or foreign signature is refused", async () => {
  const [a, b, c] = [await party(), await party(), await party()];
  const envelope = await sealDm({
    agreement: a.agreement,
    signer: a.signer,
    recipient: b.did,
    content: "hi",
  });
  const value = envelope.proof.proofValue;
  const flipped = value.slice(0, 10) + (value[10] === "A" ? "B" : "A") + value.slice(11);
  await refused(checkEnvelope({ ...envelope, proof: { ...envelope.proof, proofValue: flipped } }));
  // Signed by C while claiming to come from A.
  const { proof: _p, ...rest } = envelope;
  const { sign } = await import("../../server/crypto/dataIntegrity.ts");
  const forged = await sign(rest, c.signer, { proofPurpose: "assertionMethod" });
  await assert.rejects(checkEnvelope(forged), (e: HarmonyError) => e.status === 401);
});

Deno.test("malformed envelopes are refused with 422 before any signature check", async () => {
  const [a, b] = [await party(), await party()];
  const envelope = await sealDm({
    agreement: a.agreement,
    signer: a.signer,
    recipient: b.did,
    content: "hi",
  });
  const cases: unknown[] = [
    null,
    [],
    { ...envelope, extra: 1 },
    { ...envelope, type: "Message" },
    { ...envelope, recipient: a.did },
    { ...envelope, nonce: "AAAA" },
    { ...envelope, ciphertext: "not base64!" },
    { ...envelope, ciphertext: base64urlnopad.encode(new Uint8Array(100)) },
  ];
  for (const value of cases) {
    await assert.rejects(
      checkEnvelope(value),
      (e: HarmonyError) => e.status === 422,
      JSON.stringify(value)?.slice(0, 80),
    );
  }
  await assert.rejects(
    checkEnvelope({ ...envelope, ciphertext: "A".repeat(30_000) }),
    (e: HarmonyError) => e.status === 413,
  );
});
