/**
 * What a completed recovery moves: the membership and role, ownership, the
 * profile (unsigned until the new key signs it); and what it does not:
 * messages stay the old DID's, shown under the member's current name.
 */
import assert from "node:assert/strict";
import { ApiError, type HarmonyClient } from "../../cli/client.ts";
import { identityMovers } from "../../server/identity/move.ts";
import { quickClient } from "../http/support.ts";
import {
  approve,
  eventually,
  recoveryCommunity,
  type Request,
  requestRecovery,
  setUp,
  status,
} from "./support.ts";

async function recover(oldKey: HarmonyClient, guardian: HarmonyClient, community: string, origin: string) {
  await setUp(oldKey, community, [guardian], 1);
  const newKey = await quickClient(origin);
  const request = await requestRecovery(newKey, community, oldKey.did);
  await approve(guardian, request);
  await eventually(
    async () => (await status(newKey, request)).status === "completed",
    "the recovery to complete",
  );
  return { newKey, request };
}

Deno.test("after a recovery the new DID is a member with the old role and ownership; the old DID is not", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity({
    HARMONY_RECOVERY_DELAY_SECONDS: "1",
  });
  await using _ = instance;
  const joined = (await owner.me()).member!.joined;
  const { newKey } = await recover(owner, guardians[0], community, instance.origin);

  const me = await newKey.me();
  assert.equal(me.member?.role, "owner");
  assert.equal(me.member?.joined, joined, "the membership is the same one, joined when it was");
  assert.equal((await newKey.community()).owner, newKey.did);
  assert.equal((await owner.me()).member, null);
  const members = await member.members();
  assert.ok(members.some((m) => m.did === newKey.did && m.role === "owner"));
  assert.ok(!members.some((m) => m.did === owner.did), "the old DID is no longer listed");
});

// Capabilities are signed for a DID, so the authority module (server/authority)
// moves them with a mover of its own.
Deno.test("the authority module registers an identity mover for capabilities and roles", () => {
  assert.ok(identityMovers().some((name) => /authority|capabilit/i.test(name)), identityMovers().join(", "));
});

Deno.test({
  name: "after a recovery the old key can no longer act, and the new one acts with the old rights",
  async fn() {
    const { instance, owner, member, guardians, community } = await recoveryCommunity({
      HARMONY_RECOVERY_DELAY_SECONDS: "1",
    });
    await using _ = instance;
    const { newKey } = await recover(owner, guardians[0], community, instance.origin);
    await assert.rejects(
      owner.post("general", "still here?"),
      (error) => error instanceof ApiError && error.status === 403,
    );
    await assert.rejects(
      owner.createInvite(),
      (error) => error instanceof ApiError && error.status === 403,
    );
    await newKey.post("general", "back with a new key");
    await newKey.createInvite();
    assert.ok(member);
  },
});

Deno.test("messages stay attributed to the old DID and show the member's current name", async () => {
  const { instance, owner, member, guardians, community } = await recoveryCommunity({
    HARMONY_RECOVERY_DELAY_SECONDS: "1",
  });
  await using _ = instance;
  await member.setProfile("Grace");
  const posted = await member.post("general", "written with the old key");
  const { newKey } = await recover(member, guardians[1], community, instance.origin);

  const message = await owner.message(posted.id);
  assert.equal(message.author, member.did, "the signed message keeps its author");
  assert.equal((message.signed.message as { attributedTo: string }).attributedTo, member.did);

  // The profile moved unsigned (the old signature cannot cover the new DID).
  const me = await newKey.me() as { profile: { name: string; movedFrom?: string; did: string } | null };
  assert.equal(me.profile?.name, "Grace");
  assert.equal(me.profile?.movedFrom, member.did);
  for (const did of [member.did, newKey.did]) {
    await assert.rejects(
      owner.request("GET", `/profiles/${encodeURIComponent(did)}`),
      (error) => error instanceof ApiError && error.status === 404,
      "no signed profile until the new key signs one",
    );
  }

  const page = async () => {
    const channel = await owner.channel("general");
    const response = await fetch(`${instance.origin}/channels/${channel.id}`);
    return await response.text();
  };
  assert.match(await page(), /aria-label="Message from Grace"/);

  // The new key signs its profile; the old message follows the new name.
  await newKey.setProfile("Grace Hopper");
  const signed = await owner.request<{ id: string; name: string }>(
    "GET",
    `/profiles/${encodeURIComponent(newKey.did)}`,
  );
  assert.equal(signed.name, "Grace Hopper");
  assert.match(await page(), /aria-label="Message from Grace Hopper"/);
  const memberPage = await (await fetch(`${instance.origin}/members/${encodeURIComponent(member.did)}`))
    .text();
  assert.match(memberPage, /Moved to/);
  assert.ok(memberPage.includes(newKey.did));
});

Deno.test("a completed recovery closes the other open requests for the same identity", async () => {
  const { instance, member, guardians, community } = await recoveryCommunity({
    HARMONY_RECOVERY_DELAY_SECONDS: "1",
  });
  await using _ = instance;
  await setUp(member, community, guardians, 1);
  const impostor = await quickClient(instance.origin);
  const other: Request = await requestRecovery(impostor, community, member.did);
  const { newKey } = await recover(member, guardians[0], community, instance.origin);
  const closed = await status(newKey, other).catch(() => status(impostor, other));
  assert.equal(closed.status, "superseded");
  await assert.rejects(
    approve(guardians[1], other),
    (error) => error instanceof ApiError && error.code === "recovery_closed",
  );
});
