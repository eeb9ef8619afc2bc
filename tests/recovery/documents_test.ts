/** The four signed documents of social recovery: shapes, signatures, and their JSON-LD terms. */
import assert from "node:assert/strict";
import jsonld from "jsonld";
import { createDocumentLoader } from "../../server/capabilities/loader.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { signerFromSecret } from "../../server/crypto/signer.ts";
import {
  signRecoveryApproval,
  signRecoveryCancel,
  signRecoveryRequest,
  signRecoverySetup,
} from "../../server/documents/documents.ts";
import { HarmonyError } from "../../server/shared/errors.ts";
import { verifySigned } from "../../server/documents/signed.ts";
import { newUrnUuid } from "../../server/shared/ids.ts";

async function signer() {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return await signerFromSecret(identityFromSigningSecret(secret.slice()).did, secret);
}

const community = "https://chat.example.org/community";

async function documents() {
  const [member, guardian, newKey] = [await signer(), await signer(), await signer()];
  // Any urn:uuid has the right shape; an instance accepts only ids it minted.
  const setup = await signRecoverySetup(member, community, [guardian.did], 1, newUrnUuid());
  const request = await signRecoveryRequest(newKey, community, member.did, newUrnUuid());
  const ref = { id: request.id, community, oldIdentity: member.did, newIdentity: newKey.did };
  const approval = await signRecoveryApproval(guardian, ref);
  const cancel = await signRecoveryCancel(member, ref);
  return { member, guardian, newKey, setup, request, approval, cancel };
}

const refused = (status: number, code: string) => (error: unknown) =>
  error instanceof HarmonyError && error.status === status && error.code === code;

Deno.test("recovery documents verify, and are bound to their signer", async () => {
  const { member, guardian, newKey, setup, request, approval, cancel } = await documents();
  assert.equal((await verifySigned("RecoverySetup", setup)).actor, member.did);
  assert.equal((await verifySigned("RecoveryRequest", request)).newIdentity, newKey.did);
  assert.equal((await verifySigned("RecoveryApproval", approval)).actor, guardian.did);
  assert.equal((await verifySigned("RecoveryCancel", cancel)).oldIdentity, member.did);

  // A cancel signed by anyone but the old key, an approval relabelled, a widened setup.
  const notOld = await signRecoveryCancel(newKey, {
    id: request.id,
    community,
    oldIdentity: member.did,
    newIdentity: newKey.did,
  });
  await assert.rejects(verifySigned("RecoveryCancel", notOld), refused(401, "bad_signature"));
  await assert.rejects(
    verifySigned("RecoveryApproval", { ...approval, newIdentity: guardian.did }),
    refused(401, "bad_signature"),
  );
  await assert.rejects(
    verifySigned("RecoverySetup", { ...setup, guardians: [...setup.guardians, newKey.did] }),
    refused(401, "bad_signature"),
  );
});

Deno.test("recovery documents refuse malformed fields before any signature check", async () => {
  const { setup, request } = await documents();
  await assert.rejects(
    verifySigned("RecoverySetup", { ...setup, threshold: "2" }),
    refused(422, "malformed_document"),
  );
  await assert.rejects(
    verifySigned("RecoverySetup", { ...setup, guardians: ["https://evil.example/actor"] }),
    refused(422, "malformed_document"),
  );
  await assert.rejects(
    verifySigned("RecoverySetup", { ...setup, threshold: 1.5 }),
    refused(422, "malformed_document"),
  );
  await assert.rejects(
    verifySigned("RecoveryRequest", { ...request, extra: true }),
    refused(422, "malformed_document"),
  );
  await assert.rejects(
    verifySigned("RecoveryRequest", { ...request, type: "RecoveryApproval" }),
    refused(422, "malformed_document"),
  );
});

Deno.test("every field of the recovery documents is a term of the Harmony context (nothing dropped in safe mode)", async () => {
  const { setup, request, approval, cancel } = await documents();
  const documentLoader = createDocumentLoader();
  for (const doc of [setup, request, approval, cancel]) {
    const { proof: _proof, ...unsigned } = doc as unknown as Record<string, unknown>;
    const expanded = await jsonld.expand(unsigned, { documentLoader, safe: true } as never);
    assert.equal(expanded.length, 1);
    const keys = Object.keys(expanded[0]).filter((k) => !k.startsWith("@"));
    // Every field but @context, type and id became a property.
    const fields = Object.keys(unsigned).filter((k) => !["@context", "type", "id"].includes(k));
    assert.equal(keys.length, fields.length, `${doc.type}: ${keys.join(", ")}`);
  }
});
