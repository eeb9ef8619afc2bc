/**
 * Blocking a server stops direct messages both ways: ours are not sent
 * there (resolving its members is refused, and DMs queued before the block
 * are dropped), and its deliveries to us are refused at the inbox.
 */
import assert from "node:assert/strict";
import { SqlMessageQueue } from "../../federation/queue.ts";
import { actorUri, memberIdentifier } from "../../federation/uris.ts";
import { joinedMember } from "../dms/support.ts";
import { assertRefused, http } from "../http/support.ts";
import { eventually, federatedInstance, sleep } from "./support.ts";

const enc = encodeURIComponent;

Deno.test({
  name: "a blocked server is sent no direct messages and its own are refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const a = await federatedInstance();
    await using _a = a.instance;
    const b = await federatedInstance();
    await using _b = b.instance;
    const alice = await joinedMember(a.instance.origin, a.owner);
    const bob = await joinedMember(b.instance.origin, b.owner);
    const bobActor = actorUri(b.instance.origin, memberIdentifier(bob.did));
    const aliceActor = actorUri(a.instance.origin, memberIdentifier(alice.did));
    const dmsOf = async (origin: string, me: typeof alice, peer: string) =>
      (await http(origin, "GET", `/api/dms/${enc(peer)}`, { token: me.client.token! })).json;

    await a.owner.blockServer(b.instance.origin);

    // Resolving (and so writing to) a member of the blocked server is refused.
    assertRefused(
      await http(a.instance.origin, "GET", `/api/dms/resolve?actor=${enc(bobActor)}`, {
        token: alice.client.token!,
      }),
      403,
      "blocked",
    );

    // A DM queued for it before the block is dropped when its turn comes.
    const queued = await alice.seal(bob.did, "queued before the block");
    const queue = new SqlMessageQueue(a.instance.harmony.database, "dms");
    await queue.enqueue({
      envelope: queued,
      inbox: `${bobActor}/inbox`,
      actor: bobActor,
      attempt: 0,
    });
    await eventually(async () => (await queue.getDepth()).queued === 0, "the DM queue to empty", 15_000);
    await sleep(300);
    assert.equal((await dmsOf(b.instance.origin, bob, alice.did)).messages.length, 0);

    // What the blocked server sends is refused at our inbox: Bob's DM to Alice never arrives.
    const resolved = await http(b.instance.origin, "GET", `/api/dms/resolve?actor=${enc(aliceActor)}`, {
      token: bob.client.token!,
    });
    assert.equal(resolved.status, 200, resolved.text);
    const sent = await http(b.instance.origin, "POST", "/api/dms", {
      body: { envelope: await bob.seal(alice.did, "from the blocked side"), actor: aliceActor },
      token: bob.client.token!,
    });
    assert.equal(sent.status, 201, sent.text);
    await sleep(1500);
    assert.equal((await dmsOf(a.instance.origin, alice, bob.did)).messages.length, 0);

    // Unblocked, DMs flow again.
    await a.owner.unblockServer(b.instance.origin);
    const again = await http(a.instance.origin, "POST", "/api/dms", {
      body: { envelope: await alice.seal(bob.did, "after the unblock"), actor: bobActor },
      token: alice.client.token!,
    });
    assert.equal(again.status, 201, again.text);
    await eventually(
      async () => (await dmsOf(b.instance.origin, bob, alice.did)).messages.length === 1,
      "the DM after the unblock",
    );
  },
});
