/**
 * moveIdentity runs every registered mover in one transaction: when one
 * fails, nothing of the move is written. (Its own file: the failing mover
 * registered here must not leak into other tests' module instances.)
 */
import assert from "node:assert/strict";
import { identityMovers, moveIdentity, registerIdentityMover } from "../../server/identity/move.ts";
import { quickClient } from "../http/support.ts";
import { recoveryCommunity } from "./support.ts";

let failFor: string | null = null;
registerIdentityMover("test-failing", (_tx, _h, _from, to) => {
  if (to === failFor) return Promise.reject(new Error("this mover fails on purpose"));
  return Promise.resolve();
});

Deno.test("the membership and profile movers run first, then the others, in registration order", () => {
  const names = identityMovers();
  assert.deepEqual(names.slice(0, 2), ["membership", "profile"]);
  assert.equal(names.at(-1), "test-failing");
});

Deno.test("when one mover fails, nothing of the move is written", async () => {
  const { instance, member } = await recoveryCommunity();
  await using _ = instance;
  await member.setProfile("Grace");
  const newKey = await quickClient(instance.origin);
  failFor = newKey.did;
  await assert.rejects(moveIdentity(instance.harmony, member.did, newKey.did), /fails on purpose/);
  assert.equal((await member.me()).member?.role, "member", "the old DID keeps its membership");
  assert.equal((await member.me()).profile?.name, "Grace");
  assert.equal((await newKey.me()).member, null);
  assert.equal((await newKey.me()).profile, null);

  failFor = null;
  await moveIdentity(instance.harmony, member.did, newKey.did);
  assert.equal((await newKey.me()).member?.role, "member");
  assert.equal((await member.me()).member, null);
});

Deno.test("an identity cannot move to itself or to something that is not a did:key", async () => {
  const { instance, member } = await recoveryCommunity();
  await using _ = instance;
  await assert.rejects(moveIdentity(instance.harmony, member.did, member.did), /cannot move to itself/);
  await assert.rejects(moveIdentity(instance.harmony, member.did, "https://evil.example/actor"), /did:keys/);
});
