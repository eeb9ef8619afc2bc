/**
 * Social recovery through the real API: guardians, threshold, time lock,
 * contest by the old key, and each refusal.
 */
import assert from "node:assert/strict";
import { ApiError, type HarmonyClient } from "../../cli/client.ts";
import { sign } from "../../server/crypto/dataIntegrity.ts";
import {
  signRecoveryApproval,
  signRecoveryCancel,
  signRecoverySetup,
} from "../../server/documents/documents.ts";
import { HARMONY_CONTEXT_URL } from "../../server/rdf/vocab.ts";
import { quickClient } from "../http/support.ts";
import {
  approve,
  cancel,
  DELAY_SECONDS,
  eventually,
  freshId,
  pathOf,
  recoveryCommunity,
  type Request,
  requestRecovery,
  setUp,
  status,
} from "./support.ts";

const refusedWith = (status: number, code: string) => (error: unknown) => {
  assert.ok(error instanceof ApiError, `expected an ApiError, got ${error}`);
  assert.equal(error.status, status, `${error.code}: ${error.message}`);
  assert.equal(error.code, code);
  return true;
};

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function isMember(client: HarmonyClient, did: string): Promise<boolean> {
  const me = await client.request<{ members?: unknown }>("GET", "/members")
    .then((list) => (list as unknown as { did: string }[]).some((m) => m.did === did));
  return me;
}

Deno.test("the time lock starts only once the threshold of distinct guardians has approved", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 2);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  assert.equal(request.status, "pending");
  assert.equal(request.threshold, 2);
  assert.deepEqual(request.guardians, guardians.map((g) => g.did));

  const first = await approve(guardians[0], request);
  assert.equal(first.status, "pending", "one approval of two starts nothing");
  assert.equal(first.lockedAt, null);
  assert.equal(first.dueAt, null);

  // Longer than the time lock: without the threshold, nothing happens.
  await wait(DELAY_SECONDS * 1000 + 500);
  assert.equal((await status(newKey, request)).status, "pending");
  assert.ok(await isMember(owner, member.did), "the old identity is still the member");

  const second = await approve(guardians[1], request);
  assert.equal(second.status, "locked");
  assert.equal(second.approvals.length, 2);
  assert.equal(Date.parse(second.dueAt!) - Date.parse(second.lockedAt!), DELAY_SECONDS * 1000);
});

Deno.test("the identity moves only after the time lock, without anyone acting", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  const locked = await approve(guardians[2], request);
  assert.equal(locked.status, "locked");
  assert.equal((await newKey.me()).member, null, "during the time lock the new DID is not a member yet");
  assert.ok(await isMember(owner, member.did));

  const done = await eventually(async () => {
    const current = await status(newKey, request);
    return current.status === "completed" ? current : null;
  }, "the recovery to complete");
  assert.ok(Date.now() >= Date.parse(locked.dueAt!), "not before the due time");
  assert.equal(done.closeReason, "the identity moved");
  assert.equal((await newKey.me()).member?.role, "member");
  assert.equal(await isMember(newKey, member.did), false, "the old DID is no longer a member");
});

Deno.test("a guardian approving twice counts once", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 2);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  const once = await approve(guardians[0], request);
  assert.equal(once.counted, true);
  const twice = await approve(guardians[0], request);
  assert.equal(twice.counted, false, "the second approval is not counted");
  assert.equal(twice.status, "pending");
  assert.equal(twice.approvals.length, 1);
  // Even a freshly signed, different document from the same guardian.
  const again = await signRecoveryApproval(
    guardians[0].signer!,
    request,
    new Date(Date.now() + 1000).toISOString(),
  );
  const third = await guardians[0].request<Request>("POST", `${pathOf(request)}/approve`, {
    approval: again,
  });
  assert.equal(third.status, "pending");
  assert.equal(third.approvals.length, 1);
});

Deno.test("an approval by anyone but a named guardian is refused", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians.slice(0, 2), 1);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  for (const outsider of [guardians[2], owner, newKey]) {
    await assert.rejects(approve(outsider, request), refusedWith(403, "not_a_guardian"));
  }
  // A guardian's signature sent by someone else's session is refused too.
  const approval = await signRecoveryApproval(guardians[0].signer!, request);
  await assert.rejects(
    owner.request("POST", `${pathOf(request)}/approve`, { approval }),
    refusedWith(403, "forbidden"),
  );
  // A forged signature.
  const forged = { ...approval, actor: guardians[1].did };
  await assert.rejects(
    guardians[1].request("POST", `${pathOf(request)}/approve`, { approval: forged }),
    refusedWith(401, "bad_signature"),
  );
  assert.equal((await status(newKey, request)).approvals.length, 0);
});

Deno.test("the old key cancels during the contest window; later approvals are refused and nothing moves", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 2);
  const attacker = await quickClient(instance.origin);
  const request = await requestRecovery(attacker, community, member.did);
  await approve(guardians[0], request);
  const locked = await approve(guardians[1], request);
  assert.equal(locked.status, "locked");

  const cancelled = await cancel(member, request);
  assert.equal(cancelled.status, "cancelled");
  assert.equal(cancelled.cancellation?.type, "RecoveryCancel");
  await assert.rejects(approve(guardians[2], request), refusedWith(409, "recovery_closed"));
  await assert.rejects(cancel(member, request), refusedWith(409, "recovery_closed"));

  await wait(DELAY_SECONDS * 1000 + 700);
  assert.equal((await status(member, request)).status, "cancelled");
  assert.ok(await isMember(owner, member.did), "the member keeps their place");
  assert.equal((await attacker.me()).member, null);
});

Deno.test("only the old key can cancel a recovery", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  // The new key or a guardian signing a cancel: the signer is not the old identity.
  for (const other of [newKey, guardians[0]]) {
    const doc = await sign(
      {
        "@context": HARMONY_CONTEXT_URL,
        type: "RecoveryCancel",
        request: request.id,
        community,
        oldIdentity: member.did,
        newIdentity: newKey.did,
        published: new Date().toISOString(),
      },
      other.signer!,
      { proofPurpose: "assertionMethod", created: new Date().toISOString() },
    );
    await assert.rejects(
      other.request("POST", `${pathOf(request)}/cancel`, { cancel: doc }),
      refusedWith(401, "bad_signature"),
    );
  }
  // The old key's cancel sent by another session.
  const real = await signRecoveryCancel(member.signer!, request);
  await assert.rejects(
    newKey.request("POST", `${pathOf(request)}/cancel`, { cancel: real }),
    refusedWith(403, "forbidden"),
  );
  assert.equal((await status(newKey, request)).status, "pending");
});

Deno.test("a request for a DID that is not a member, or that named no guardians, is refused", async () => {
  const { instance, member, community } = await recoveryCommunity();
  await using _ = instance;
  const stranger = await quickClient(instance.origin);
  const newKey = await quickClient(instance.origin);
  await assert.rejects(requestRecovery(newKey, community, stranger.did), refusedWith(422, "not_a_member"));
  await assert.rejects(requestRecovery(newKey, community, member.did), refusedWith(409, "no_recovery_setup"));
  await assert.rejects(requestRecovery(member, community, member.did), refusedWith(422, "same_identity"));
  await assert.rejects(
    requestRecovery(newKey, "https://elsewhere.example/community", member.did),
    refusedWith(422, "wrong_community"),
  );
});

Deno.test("a new identity that is already a member cannot take over another member", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  await assert.rejects(requestRecovery(owner, community, member.did), refusedWith(409, "already_member"));
});

Deno.test("a setup must name 1 to 16 other DIDs and a threshold they can reach, signed by the member", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await assert.rejects(setUp(member, community, guardians, 4), refusedWith(422, "invalid_threshold"));
  await assert.rejects(setUp(member, community, guardians, 0), refusedWith(422, "invalid_threshold"));
  await assert.rejects(setUp(member, community, [], 1), refusedWith(422, "invalid_guardians"));
  await assert.rejects(setUp(member, community, [member], 1), refusedWith(422, "invalid_guardians"));
  await assert.rejects(
    setUp(member, community, [guardians[0], guardians[0]], 1),
    refusedWith(422, "invalid_guardians"),
  );
  // Someone else's setup sent with your session.
  const setup = await signRecoverySetup(
    member.signer!,
    community,
    [guardians[0].did],
    1,
    await freshId(member, "RecoverySetup"),
  );
  await assert.rejects(owner.request("PUT", "/recovery/setup", { setup }), refusedWith(403, "forbidden"));
  // A non-member has no membership to recover.
  const stranger = await quickClient(instance.origin);
  await assert.rejects(setUp(stranger, community, guardians, 1), refusedWith(403, "forbidden"));
  // A valid one is stored, and an older one cannot replace it.
  const stored = await setUp(member, community, guardians, 3) as { threshold: number; guardians: string[] };
  assert.equal(stored.threshold, 3);
  const older = await signRecoverySetup(
    member.signer!,
    community,
    [guardians[0].did],
    1,
    await freshId(member, "RecoverySetup"),
    new Date(Date.now() - 60_000).toISOString(),
  );
  await assert.rejects(
    member.request("PUT", "/recovery/setup", { setup: older }),
    refusedWith(409, "stale_setup"),
  );
  const overview = await member.request<{ setup: { threshold: number } }>("GET", "/recovery");
  assert.equal(overview.setup.threshold, 3);
});

Deno.test("guardians, the member and the new key see the request; others do not", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians.slice(0, 2), 1);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  const stranger = await quickClient(instance.origin);
  await assert.rejects(status(stranger, request), refusedWith(403, "forbidden"));
  for (const who of [member, newKey, guardians[0]]) assert.equal((await status(who, request)).id, request.id);
  const asGuardian = await guardians[0].request<{ guarding: Request[]; guardianOf: { member: string }[] }>(
    "GET",
    "/recovery",
  );
  assert.deepEqual(asGuardian.guarding.map((r) => r.id), [request.id]);
  assert.deepEqual(asGuardian.guardianOf.map((g) => g.member), [member.did]);
  const asMember = await member.request<{ againstMe: Request[] }>("GET", "/recovery");
  assert.deepEqual(asMember.againstMe.map((r) => r.id), [request.id]);
});

Deno.test("admins set the community's time lock within 1 hour to 30 days; members cannot", async () => {
  const { instance, owner, member } = await recoveryCommunity();
  await using _ = instance;
  await assert.rejects(
    member.request("PUT", "/recovery/settings", { delaySeconds: 7200 }),
    refusedWith(403, "forbidden"),
  );
  await assert.rejects(
    owner.request("PUT", "/recovery/settings", { delaySeconds: 60 }),
    refusedWith(422, "invalid_delay"),
  );
  assert.deepEqual(await owner.request("PUT", "/recovery/settings", { delaySeconds: 7200 }), {
    delaySeconds: 7200,
  });
  assert.equal((await member.request<{ delaySeconds: number }>("GET", "/recovery")).delaySeconds, 7200);
});
