/**
 * Sign-in presentations (server/identity/auth.ts): the real route over a real
 * instance, and the domain function with its `now` parameter for time.
 */
import assert from "node:assert/strict";
import { CHALLENGE_TTL_MS, issueChallenge, verifyPresentation } from "../../server/identity/auth.ts";
import { sign } from "../../server/crypto/dataIntegrity.ts";
import type { KeySigner } from "../../server/crypto/signer.ts";
import { HarmonyError } from "../../server/shared/errors.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { assertRefused, http, randomSigner, sessionCount } from "../http/support.ts";

const VC2 = "https://www.w3.org/ns/credentials/v2";

interface Options {
  challenge: string;
  domain: string;
  created?: string;
  proofPurpose?: string;
  holder?: string;
}

function presentation(signer: KeySigner, o: Options): Promise<Record<string, unknown>> {
  return sign(
    { "@context": [VC2], type: ["VerifiablePresentation"], holder: o.holder ?? signer.did },
    signer,
    {
      proofPurpose: o.proofPurpose ?? "authentication",
      challenge: o.challenge,
      domain: o.domain,
      created: o.created ?? new Date().toISOString(),
    },
  );
}

Deno.test("sign-in presentations: one valid proof opens one session; every other kind is refused", async (t) => {
  // More sign-in attempts than one address may make in a minute.
  await using instance = await startTestInstance({ HARMONY_SIGN_IN_LIMIT: "1000/60" });
  const h = instance.harmony;
  const origin = instance.origin;
  const alice = await randomSigner();
  const mallory = await randomSigner();

  const challenge = async () =>
    (await http(origin, "POST", "/api/auth/challenge")).json as {
      challenge: string;
      domain: string;
      expires: string;
    };
  const submit = (vp: unknown) => http(origin, "POST", "/api/auth/session", { body: { presentation: vp } });

  /** Refused with 401 and this code, and no session row appeared. */
  async function refused(vp: unknown, code: string, message?: RegExp) {
    const before = await sessionCount(h);
    const reply = await submit(vp);
    assertRefused(reply, 401, code);
    if (message) assert.match(reply.json.message, message);
    assert.equal(reply.headers.get("set-cookie"), null, "no cookie is set on a refusal");
    assert.equal(await sessionCount(h), before, "no session was created");
  }

  await t.step("a challenge is bound to this origin and expires in five minutes", async () => {
    const c = await challenge();
    assert.equal(c.domain, origin);
    assert.match(c.challenge, /^[A-Za-z0-9_-]{32}$/);
    const ttl = Date.parse(c.expires) - Date.now();
    assert.ok(ttl > CHALLENGE_TTL_MS - 10_000 && ttl <= CHALLENGE_TTL_MS, `ttl ${ttl}`);
  });

  await t.step("a valid presentation opens a session for its holder", async () => {
    const c = await challenge();
    const before = await sessionCount(h);
    const reply = await submit(await presentation(alice, c));
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.json.did, alice.did);
    assert.equal(await sessionCount(h), before + 1);
    const me = await http(origin, "GET", "/api/me", { token: reply.json.token });
    assert.equal(me.status, 200);
    assert.equal(me.json.did, alice.did);
  });

  await t.step("refuses a replayed sign-in challenge", async () => {
    const c = await challenge();
    const vp = await presentation(alice, c);
    assert.equal((await submit(vp)).status, 201);
    await refused(vp, "replayed_challenge");
    // Even a fresh signature over the used nonce is refused.
    await refused(await presentation(alice, c), "replayed_challenge");
  });

  await t.step("of two simultaneous uses of one challenge exactly one succeeds", async () => {
    const c = await challenge();
    const [a, b] = await Promise.all([
      submit(await presentation(alice, c)),
      submit(await presentation(alice, c)),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [201, 401]);
  });

  await t.step("refuses a challenge this server never issued", async () => {
    await refused(
      await presentation(alice, { challenge: "made-up-nonce", domain: origin }),
      "unknown_challenge",
    );
  });

  await t.step("refuses a presentation made for another domain", async () => {
    const c = await challenge();
    await refused(await presentation(alice, { ...c, domain: "https://evil.example" }), "wrong_domain");
    // The domain is checked exactly, not as a prefix.
    await refused(await presentation(alice, { ...c, domain: `${origin}.evil.example` }), "wrong_domain");
    // The refused attempt did not burn the challenge: the right domain still works.
    assert.equal((await submit(await presentation(alice, c))).status, 201);
  });

  await t.step("refuses a proof whose purpose is not authentication", async () => {
    const c = await challenge();
    await refused(await presentation(alice, { ...c, proofPurpose: "assertionMethod" }), "wrong_purpose");
  });

  await t.step("refuses a presentation created long ago or in the future", async () => {
    const c = await challenge();
    const old = new Date(Date.now() - CHALLENGE_TTL_MS - 60_000).toISOString();
    await refused(await presentation(alice, { ...c, created: old }), "stale_presentation");
    const future = new Date(Date.now() + 5 * 60_000).toISOString();
    await refused(await presentation(alice, { ...c, created: future }), "stale_presentation");
    await refused(await presentation(alice, { ...c, created: "yesterday" }), "malformed_presentation");
  });

  await t.step("refuses a presentation tampered with after signing", async () => {
    const c = await challenge();
    const other = await challenge();
    const vp = await presentation(alice, c);
    await refused({ ...vp, holder: mallory.did }, "bad_signature");
    const proof = vp.proof as Record<string, unknown>;
    await refused({ ...vp, proof: { ...proof, challenge: other.challenge } }, "bad_signature");
    await refused({ ...vp, type: ["VerifiablePresentation", "Extra"] }, "bad_signature");
    const flipped = (proof.proofValue as string).slice(0, -2) +
      ((proof.proofValue as string).endsWith("a") ? "bb" : "aa");
    await refused({ ...vp, proof: { ...proof, proofValue: flipped } }, "bad_signature");
    // The untouched presentation is still good: nothing above consumed the nonce.
    assert.equal((await submit(vp)).status, 201);
  });

  await t.step("refuses a presentation signed by another key than its holder's", async () => {
    const c = await challenge();
    await refused(
      await presentation(mallory, { ...c, holder: alice.did }),
      "bad_signature",
      /another key than its holder/,
    );
  });

  await t.step("refuses malformed presentations", async () => {
    const c = await challenge();
    const vp = await presentation(alice, c);
    for (const bad of ["a string", 42, null, [vp], undefined]) await refused(bad, "malformed_presentation");
    const { proof: _proof, ...unsigned } = vp;
    await refused(unsigned, "malformed_presentation", /no proof/);
    await refused({ ...vp, proof: "z123" }, "malformed_presentation");
    await refused(
      { ...vp, "@context": ["https://www.w3.org/2018/credentials/v1"] },
      "malformed_presentation",
    );
    await refused({ ...vp, "@context": undefined }, "malformed_presentation");
    await refused({ ...vp, type: ["VerifiableCredential"] }, "malformed_presentation");
    await refused({ ...vp, holder: "did:web:example.com" }, "malformed_presentation");
    const proof = vp.proof as Record<string, unknown>;
    await refused({ ...vp, proof: { ...proof, challenge: undefined } }, "malformed_presentation");
    // A body that is not even a presentation envelope.
    assertRefused(
      await http(origin, "POST", "/api/auth/session", {
        raw: "{",
        headers: { "content-type": "application/json" },
      }),
      400,
      "malformed_json",
    );
    // None of the malformed attempts used up the challenge.
    assert.equal((await submit(vp)).status, 201);
  });

  await t.step("refuses an expired challenge (time advanced with `now`)", async () => {
    const issuedAt = Date.now();
    const c = await issueChallenge(h, issuedAt);
    const later = issuedAt + CHALLENGE_TTL_MS + 1_000;
    // Created just before `later`, so only the challenge's age is wrong.
    const vp = await presentation(alice, { ...c, created: new Date(later - 1_000).toISOString() });
    await assert.rejects(() => verifyPresentation(h, vp, later), (error: unknown) => {
      assert.ok(error instanceof HarmonyError);
      assert.equal(error.status, 401);
      assert.equal(error.code, "expired_challenge");
      return true;
    });
    // The same presentation before the expiry is accepted.
    const fresh = await issueChallenge(h, issuedAt);
    const ok = await presentation(alice, { ...fresh, created: new Date(later - 2_000).toISOString() });
    assert.equal(await verifyPresentation(h, ok, issuedAt + CHALLENGE_TTL_MS - 1_000), alice.did);
  });
});
