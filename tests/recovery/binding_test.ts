/**
 * Approvals and cancellations are bound to their request, its identities
 * and the community (issue 14, section 9): a validly signed document used
 * anywhere else is refused and changes nothing. Each test here fails when
 * the check it names is removed from server/recovery/recovery.ts.
 */
import assert from "node:assert/strict";
import { ApiError, type HarmonyClient } from "../../cli/client.ts";
import { signRecoveryApproval, signRecoveryCancel } from "../../server/documents/documents.ts";
import { quickClient } from "../http/support.ts";
import {
  approve,
  cancel,
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

type Ref = Parameters<typeof signRecoveryApproval>[1];

const postApproval = (guardian: HarmonyClient, at: { id: string }, approval: unknown) =>
  guardian.request<Request>("POST", `${pathOf(at)}/approve`, { approval });
const postCancel = (oldKey: HarmonyClient, at: { id: string }, signed: unknown) =>
  oldKey.request<Request>("POST", `${pathOf(at)}/cancel`, { cancel: signed });

/** A member with three guardians (threshold 2), a cancelled request A and an open request B, same identities. */
async function twoRequests() {
  const setting = await recoveryCommunity();
  const { instance, member, guardians, community } = setting;
  await setUp(member, community, guardians, 2);
  const newKey = await quickClient(instance.origin);
  const first = await requestRecovery(newKey, community, member.did);
  await approve(guardians[0], first);
  await cancel(member, first);
  const second = await requestRecovery(newKey, community, member.did);
  assert.deepEqual([second.oldIdentity, second.newIdentity], [first.oldIdentity, first.newIdentity]);
  return { ...setting, newKey, first, second };
}

Deno.test("an approval signed for one request does not count for another with the same identities", async () => {
  const { instance, guardians, first, second } = await twoRequests();
  await using _ = instance;
  // The guardian approved the first request, which the member cancelled; replayed on the second:
  const replayed = (await status(guardians[0], first)).approvals[0].document;
  await assert.rejects(postApproval(guardians[0], second, replayed), refusedWith(422, "request_mismatch"));
  assert.equal((await status(guardians[0], second)).approvals.length, 0);
});

Deno.test("an approval naming other identities than its request is refused", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  const someoneElse = await quickClient(instance.origin);
  const ref: Ref = { ...request, community };
  for (const wrong of [{ ...ref, newIdentity: someoneElse.did }, { ...ref, oldIdentity: someoneElse.did }]) {
    const approval = await signRecoveryApproval(guardians[0].signer!, wrong);
    await assert.rejects(
      postApproval(guardians[0], request, approval),
      refusedWith(422, "approval_mismatch"),
    );
  }
  const seen = await status(newKey, request);
  assert.deepEqual([seen.status, seen.approvals.length], ["pending", 0]);
});

Deno.test("an approval signed for another community, or long ago, is refused", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  const elsewhere = await signRecoveryApproval(guardians[0].signer!, {
    ...request,
    community: "https://elsewhere.example/community",
  });
  await assert.rejects(postApproval(guardians[0], request, elsewhere), refusedWith(422, "wrong_community"));
  const old = await signRecoveryApproval(
    guardians[0].signer!,
    request,
    new Date(Date.now() - 3_600_000).toISOString(),
  );
  await assert.rejects(postApproval(guardians[0], request, old), refusedWith(422, "clock_skew"));
  assert.equal((await status(newKey, request)).status, "pending");
});

Deno.test("a guardian who asks to take the identity over cannot approve their own request", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  // Guardians need not be members, so a guardian's own DID can be the "new" identity.
  const request = await requestRecovery(guardians[0], community, member.did);
  await assert.rejects(approve(guardians[0], request), refusedWith(403, "forbidden"));
  assert.equal((await status(member, request)).status, "pending");
});

Deno.test("a cancel signed for one request does not cancel another with the same identities", async () => {
  const { instance, member, first, second } = await twoRequests();
  await using _ = instance;
  const replayed = (await status(member, first)).cancellation!;
  await assert.rejects(postCancel(member, second, replayed), refusedWith(422, "request_mismatch"));
  assert.equal((await status(member, second)).status, "pending");
});

Deno.test("a cancel naming other identities or another community is refused", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  const someoneElse = await quickClient(instance.origin);
  const otherNew = await signRecoveryCancel(member.signer!, { ...request, newIdentity: someoneElse.did });
  await assert.rejects(postCancel(member, request, otherNew), refusedWith(422, "cancel_mismatch"));
  const elsewhere = await signRecoveryCancel(member.signer!, {
    ...request,
    community: "https://elsewhere.example/community",
  });
  await assert.rejects(postCancel(member, request, elsewhere), refusedWith(422, "wrong_community"));
  const old = await signRecoveryCancel(
    member.signer!,
    request,
    new Date(Date.now() - 3_600_000).toISOString(),
  );
  await assert.rejects(postCancel(member, request, old), refusedWith(422, "clock_skew"));
  assert.equal((await status(member, request)).status, "pending");
});
