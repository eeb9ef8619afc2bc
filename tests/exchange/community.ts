/**
 * A community with something of everything an export carries: roles and
 * delegated capabilities, channels public and members-only, messages with
 * edits, deletions, replies, threads, reactions and pins, profiles,
 * moderation (a ban, a timeout, slow mode), invites, a recovery setup and a
 * request approved by a guardian, a bridge grant, credentials and the audit
 * log they all wrote.
 */
import type { HarmonyClient } from "../../cli/client.ts";
import { claimedInstance, memberOf, newClient } from "../helpers/instance.ts";
import { approve, requestRecovery, setUp } from "../recovery/support.ts";

export async function richCommunity() {
  const { instance, owner } = await claimedInstance({ HARMONY_RECOVERY_DELAY_SECONDS: "3600" });
  const alice = await memberOf(instance, owner);
  const bob = await memberOf(instance, owner);
  const carol = await memberOf(instance, owner);
  await owner.setProfile("The Owner");
  await alice.setProfile("Alice");
  await owner.assignRole(alice.did, "admin");
  const helper = await owner.createRole("helper", ["pin", "delete-any"]);
  await owner.assignRole(bob.did, helper.slug);
  const staff = await owner.createChannel("staff", { topic: "members only", visibility: "members" });
  const first = await alice.post("general", "hello everyone");
  const second = await bob.post("general", "hi alice");
  await alice.edit(first, "hello everyone (edited)");
  const doomed = await bob.post("general", "a mistake");
  await bob.delete(doomed);
  await owner.post(staff.id, "staff only");
  await bob.reply(first, "a reply");
  await alice.threadReply(first, "in a thread");
  await bob.react(first, "🎉");
  await alice.react(second, "❤️");
  await owner.pin(first);
  await owner.timeout(bob.did, 600, "cool down");
  await owner.ban(carol.did, "spam");
  await owner.setSlowMode("general", 5);
  await owner.createInvite({ maxUses: 3 });
  // Alice names guardians; a new key of hers asks to recover, and one of the two guardians needed approves.
  const community = (await owner.community()).iri;
  await setUp(alice, community, [owner, bob], 2);
  const newAlice = await newClient(instance);
  const request = await requestRecovery(newAlice, community, alice.did);
  await approve(owner, request);
  // Bob's recovery has both approvals it needs: its time lock (an hour) runs.
  await setUp(bob, community, [owner, alice], 2);
  const locked = await requestRecovery(await newClient(instance), community, bob.did);
  await approve(owner, locked);
  await approve(alice, locked);
  await owner.offerBridge("general", "https://peer.example/ap/actors/abcdefghij");
  return { instance, owner, alice, bob, carol, staff, first, request, locked } satisfies
    & Record<string, unknown>
    & {
      owner: HarmonyClient;
    };
}
