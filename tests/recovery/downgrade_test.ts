/**
 * Social recovery cannot be downgraded (issue 14, section 3): a request's
 * threshold and guardians are the old identity's setup when it was opened,
 * whatever ids anyone chooses; and no later write erases a request.
 */
import assert from "node:assert/strict";
import { ApiError } from "../../cli/client.ts";
import { signRecoveryRequest, signRecoverySetup } from "../../server/documents/documents.ts";
import { quadStore } from "../../db/quadstore.ts";
import { integer, iri } from "../../db/terms.ts";
import { R, recoveryGraph } from "../../server/recovery/vocab.ts";
import { newUrnUuid } from "../../server/shared/ids.ts";
import { memberOf } from "../helpers/instance.ts";
import { quickClient } from "../http/support.ts";
import {
  approve,
  cancel,
  eventually,
  freshId,
  recoveryCommunity,
  type Request,
  requestRecovery,
  setUp,
  status,
} from "./support.ts";

const refused = (error: unknown) => {
  assert.ok(error instanceof ApiError, `expected a refusal, got ${error}`);
  assert.ok(error.status === 409 || error.status === 422, `${error.status} ${error.code}: ${error.message}`);
  return true;
};

Deno.test("a request cannot borrow the threshold of another setup by taking its id", async () => {
  const { instance, owner, member: victim, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(victim, community, guardians, 3);

  // The attacker is a member too, with a setup of their own: one accomplice, threshold 1.
  const attacker = await memberOf(instance, owner);
  const accomplice = await quickClient(instance.origin);
  const borrowedId = await freshId(attacker, "RecoverySetup");
  const setup = await signRecoverySetup(attacker.signer!, community, [accomplice.did], 1, borrowedId);
  await attacker.request("PUT", "/recovery/setup", { setup });

  // The attacker's new key asks to take over the victim under the same id.
  const newKey = await quickClient(instance.origin);
  const request = await signRecoveryRequest(newKey.signer!, community, victim.did, borrowedId);
  await assert.rejects(newKey.request<Request>("POST", "/recovery/requests", { request }), refused);
  await assert.rejects(status(victim, { id: borrowedId }), /no such recovery request/);

  // With an id of its own the request needs all three of the victim's guardians.
  const honest = await requestRecovery(newKey, community, victim.did);
  assert.equal(honest.threshold, 3);
  const one = await approve(guardians[0], honest);
  assert.equal(one.status, "pending", "one guardian of three starts no time lock");
  assert.equal(
    (await attacker.request<{ setup: { threshold: number } }>("GET", "/recovery")).setup.threshold,
    1,
  );
});

Deno.test("a setup cannot take a recovery request's id and erase it", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  await approve(guardians[0], request);
  await eventually(async () => (await status(newKey, request)).status === "completed", "the move");

  // The recovered identity, now the member, tries to wipe the record of its takeover.
  const setup = await signRecoverySetup(newKey.signer!, community, [guardians[1].did], 1, request.id);
  await assert.rejects(newKey.request("PUT", "/recovery/setup", { setup }), refused);
  const kept = await status(newKey, request);
  assert.equal(kept.status, "completed");
  assert.equal(kept.oldIdentity, member.did);
  assert.equal(kept.approvals.length, 1);

  // Nor can any other member erase someone's open request by its id.
  const other = await memberOf(instance, owner);
  await setUp(other, community, guardians, 2);
  const thief = await quickClient(instance.origin);
  const open = await requestRecovery(thief, community, other.did);
  const bystander = await memberOf(instance, owner);
  const overwrite = await signRecoverySetup(bystander.signer!, community, [guardians[2].did], 1, open.id);
  await assert.rejects(bystander.request("PUT", "/recovery/setup", { setup: overwrite }), refused);
  assert.equal((await status(other, open)).status, "pending");
  assert.equal((await status(other, open)).threshold, 2);
});

const refusedWith = (status: number, code: string) => (error: unknown) => {
  assert.ok(error instanceof ApiError, `expected an ApiError, got ${error}`);
  assert.equal(error.status, status, `${error.code}: ${error.message}`);
  assert.equal(error.code, code);
  return true;
};

Deno.test("a setup or request id the server did not mint for its signer and kind is refused", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  const guardianDids = guardians.map((g) => g.did);
  const put = (id: string) =>
    signRecoverySetup(member.signer!, community, guardianDids, 2, id)
      .then((setup) => member.request("PUT", "/recovery/setup", { setup }));
  // Chosen by the client.
  await assert.rejects(put(newUrnUuid()), refusedWith(422, "unminted_id"));
  // Minted for someone else, or for a request.
  await assert.rejects(put(await freshId(owner, "RecoverySetup")), refusedWith(422, "unminted_id"));
  await assert.rejects(put(await freshId(member, "RecoveryRequest")), refusedWith(422, "unminted_id"));
  // One bit changed.
  const minted = await freshId(member, "RecoverySetup");
  const flipped = minted.slice(0, -1) + (minted.endsWith("0") ? "1" : "0");
  await assert.rejects(put(flipped), refusedWith(422, "unminted_id"));
  assert.equal((await member.request<{ setup: unknown }>("GET", "/recovery")).setup, null, "nothing stored");
  await put(minted);

  const newKey = await quickClient(instance.origin);
  const open = (id: string) =>
    signRecoveryRequest(newKey.signer!, community, member.did, id)
      .then((request) => newKey.request<Request>("POST", "/recovery/requests", { request }));
  await assert.rejects(open(newUrnUuid()), refusedWith(422, "unminted_id"));
  await assert.rejects(open(await freshId(guardians[0], "RecoveryRequest")), refusedWith(422, "unminted_id"));
  await assert.rejects(open(await freshId(newKey, "RecoverySetup")), refusedWith(422, "unminted_id"));
  assert.equal((await open(await freshId(newKey, "RecoveryRequest"))).threshold, 2);

  // Minting needs a session and a known kind.
  const anonymous = await quickClient(instance.origin, false);
  await assert.rejects(freshId(anonymous, "RecoverySetup"), refusedWith(401, "unauthenticated"));
  await assert.rejects(
    member.request("POST", "/recovery/ids", { kind: "RecoveryApproval" }),
    refusedWith(422, "invalid_kind"),
  );
});

Deno.test("a minted id is used once: a second setup or request under it is refused", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  const id = await freshId(member, "RecoverySetup");
  const first = await signRecoverySetup(member.signer!, community, [guardians[0].did], 1, id);
  await member.request("PUT", "/recovery/setup", { setup: first });
  // The same document again is a retry, and changes nothing.
  await member.request("PUT", "/recovery/setup", { setup: first });
  const later = new Date(Date.now() + 1000).toISOString();
  const second = await signRecoverySetup(
    member.signer!,
    community,
    guardians.map((g) => g.did),
    3,
    id,
    later,
  );
  await assert.rejects(
    member.request("PUT", "/recovery/setup", { setup: second }),
    refusedWith(409, "id_in_use"),
  );
  const overview = await member.request<{ setup: { id: string; threshold: number } }>("GET", "/recovery");
  assert.deepEqual([overview.setup.id, overview.setup.threshold], [id, 1]);

  // A request's id stays taken after the request is closed.
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);
  await cancel(member, request);
  const again = await signRecoveryRequest(newKey.signer!, community, member.did, request.id, later);
  await assert.rejects(
    newKey.request("POST", "/recovery/requests", { request: again }),
    refusedWith(409, "duplicate_request"),
  );
});

Deno.test("a request's threshold and guardians are the setup's when it was opened, whatever is stored later", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity();
  await using _ = instance;
  await setUp(member, community, guardians, 3);
  const newKey = await quickClient(instance.origin);
  const request = await requestRecovery(newKey, community, member.did);

  // The member lowers their setup afterwards: the open request keeps 3 of the 3 guardians it had.
  const other = await quickClient(instance.origin);
  await setUp(member, community, [other], 1);
  await assert.rejects(approve(other, request), refusedWith(403, "not_a_guardian"));

  // A threshold quad on the request's subject (as an id collision once wrote) does not lower it either.
  const h = instance.harmony;
  await h.database.write((tx) =>
    quadStore.set(tx, recoveryGraph(h.config.origin), iri(request.id), R.threshold, integer(1))
  );
  const seen = await status(newKey, request);
  assert.equal(seen.threshold, 3);
  assert.deepEqual(seen.guardians, guardians.map((g) => g.did));
  assert.equal((await approve(guardians[0], request)).status, "pending");
  assert.equal((await approve(guardians[1], request)).status, "pending");
  assert.equal((await approve(guardians[2], request)).status, "locked");
});
