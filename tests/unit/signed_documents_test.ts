/**
 * A signed document counts only for the DID it names as its author or
 * actor: a valid signature by another key does not make it theirs.
 */
import assert from "node:assert/strict";
import { sign, type Signer } from "../../server/crypto/dataIntegrity.ts";
import {
  signAction,
  signDelete,
  signMessage,
  signPin,
  signProfile,
  signReact,
  signUnreact,
  signUpdate,
} from "../../server/documents/documents.ts";
import { verifySigned } from "../../server/documents/signed.ts";
import { HarmonyError } from "../../server/shared/errors.ts";
import { member } from "./support.ts";

const channel = "https://chat.example/channels/aaaaaaaaaa";
const message = "urn:uuid:01a2015a-8a85-752e-baf7-d574bd401bfb";

/** `doc` with its author field set to `victim`, signed again, validly, by `signer`. */
async function renamed(doc: Record<string, unknown>, field: string, victim: string, signer: Signer) {
  const { proof, ...rest } = doc as { proof: { created: string } };
  return await sign({ ...rest, [field]: victim }, signer, {
    proofPurpose: "assertionMethod",
    created: proof.created,
  });
}

Deno.test("a validly signed document naming another author or actor is refused", async () => {
  const mallory = await member(41);
  const alice = await member(42);
  const cases = [
    ["Message", "attributedTo", await signMessage(mallory, channel, "hello")],
    ["Update", "actor", await signUpdate(mallory, channel, message, "edited")],
    ["Delete", "actor", await signDelete(mallory, channel, message)],
    ["React", "actor", await signReact(mallory, channel, message, "👍")],
    [
      "Unreact",
      "actor",
      await signUnreact(mallory, channel, message, "👍", [`urn:harmony:op:${"a".repeat(40)}`]),
    ],
    ["Pin", "actor", await signPin(mallory, channel, message, true)],
    ["Profile", "id", await signProfile(mallory, "Mallory")],
    [
      "Action",
      "actor",
      await signAction(mallory, { action: "kick", target: alice.did, community: "https://chat.example" }),
    ],
  ] as const;
  for (const [kind, field, doc] of cases) {
    // Mallory's own document verifies, and is hers.
    const own = await verifySigned(kind, doc) as unknown as Record<string, string>;
    assert.equal(own[field], mallory.did);
    // The same, naming Alice and signed by Mallory: the signature is valid, the claim is not.
    const forged = await renamed(doc as unknown as Record<string, unknown>, field, alice.did, mallory);
    await assert.rejects(
      verifySigned(kind, forged),
      (error) =>
        error instanceof HarmonyError && error.status === 401 && error.code === "bad_signature" &&
        /signed by another key/.test(error.message),
      `${kind}: signed by Mallory, naming Alice`,
    );
  }
});
