/**
 * A ban reaches across bridges: operations a banned DID authored are
 * refused at the inbox (403 "banned") and skipped by anti-entropy, while
 * everyone else's keep flowing.
 */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { operationActivity } from "../../federation/bridge/activity.ts";
import { channelSigner } from "../../federation/bridge/signing.ts";
import { invoke } from "../../server/capabilities/zcap.ts";
import { signMessage } from "../../server/documents/documents.ts";
import { opIdOf } from "../../server/messages/oplog.ts";
import { claimNode, eventually, joinNode, startNode } from "../bridges/support.ts";

Deno.test({
  name: "a banned DID's bridged operations are refused at the inbox and skipped by anti-entropy",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using a = await startNode("a");
    await using b = await startNode("b");
    const ownerA = await claimNode(a);
    const ownerB = await claimNode(b);
    const here = await ownerA.createChannel("bridged", { visibility: "public" });
    const there = await ownerB.createChannel("bridged", { visibility: "public" });
    const alice = await joinNode(a, ownerA);
    const bob = await joinNode(a, ownerA);
    const actorA = `${a.link.origin}/ap/actors/${here.id}`;
    const actorB = `${b.link.origin}/ap/actors/${there.id}`;
    const hb = b.instance.harmony;
    const opCount = async () =>
      Number((await hb.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM op_log`))[0].n);
    const contents = async () => (await ownerB.history(there.id)).messages.map((m) => m.content);

    // b lets a's channel write to it, but a does not deliver yet: b pulls (anti-entropy) only.
    const grantToA = await ownerB.offerBridge(there.id, actorA);
    const toB = await ownerA.offerBridge(here.id, actorB);
    await ownerB.installBridge(toB.capability);
    await ownerB.ban(alice.did, "spam from afar");

    await t.step("anti-entropy skips the banned author's operations and takes the others'", async () => {
      await alice.post("bridged", "from alice");
      await bob.post("bridged", "from bob");
      await eventually("bob's message reaches b", async () => (await contents()).includes("from bob"));
      assert.ok(!(await contents()).includes("from alice"));
    });

    await t.step(
      "the inbox refuses an operation the banned DID signed: 403 banned, nothing stored",
      async () => {
        const doc = await signMessage(alice.signer!, here.iri, "straight to the inbox");
        const activity = operationActivity(await opIdOf(doc), actorA, actorB, doc, {
          origin: a.link.origin,
          seq: 1000,
          lamport: 1000,
        });
        const invoked = await invoke(activity, {
          capability: grantToA.capability as never,
          action: "post",
          invocationTarget: `${b.link.origin}/ap/actors/${there.id}/inbox`,
          signer: await channelSigner(a.instance.harmony, here.id),
        });
        const before = await opCount();
        const response = await fetch(`${b.direct}/ap/actors/${there.id}/inbox`, {
          method: "POST",
          headers: { "content-type": "application/activity+json" },
          body: JSON.stringify(invoked),
        });
        const body = await response.json();
        assert.equal(response.status, 403, JSON.stringify(body));
        assert.equal(body.error, "banned");
        assert.equal(await opCount(), before, "nothing was stored");
      },
    );

    await t.step("delivery moves past a refused operation: later ones still arrive", async () => {
      await ownerA.installBridge(grantToA.capability);
      await alice.post("bridged", "alice again");
      await bob.post("bridged", "bob after alice");
      await eventually(
        "bob's later message reaches b",
        async () => (await contents()).includes("bob after alice"),
      );
      const seen = await contents();
      assert.ok(!seen.includes("alice again") && !seen.includes("from alice"));
    });
  },
});
