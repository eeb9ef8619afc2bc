/**
 * A ban reaches a banned member's bots and delegates across bridges too:
 * operations they sign on a peer are refused at our inbox (403 banned) and
 * skipped by anti-entropy, while a stranger's keep flowing.
 */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { HarmonyClient } from "../../cli/client.ts";
import { operationActivity } from "../../federation/bridge/activity.ts";
import { channelSigner } from "../../federation/bridge/signing.ts";
import { delegateFrom } from "../../server/authority/delegating.ts";
import { storeHeld } from "../../server/authority/store.ts";
import { invoke } from "../../server/capabilities/zcap.ts";
import { signMessage } from "../../server/documents/documents.ts";
import { opIdOf } from "../../server/messages/oplog.ts";
import { newClient } from "../helpers/instance.ts";
import { claimNode, eventually, joinNode, startNode } from "../bridges/support.ts";

Deno.test({
  name: "a banned member's bot and delegate are refused at the bridge inbox and skipped by anti-entropy",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using a = await startNode("a");
    await using b = await startNode("b");
    const ownerA = await claimNode(a);
    const ownerB = await claimNode(b);
    const here = await ownerA.createChannel("bridged", { visibility: "public" });
    const there = await ownerB.createChannel("bridged", { visibility: "public" });
    const actorA = `${a.link.origin}/ap/actors/${here.id}`;
    const actorB = `${b.link.origin}/ap/actors/${there.id}`;
    const hb = b.instance.harmony;

    // On b: alice is a member, with a registered bot and a delegate from before the rules.
    const alice = await joinNode(b, ownerB);
    const bot = await newClient({ origin: b.direct });
    await t.step("alice registers a bot on b", async () => {
      await alice.registerBot(bot.signer!, "alice's bot");
      await alice.delegate(bot.did, ["post"]);
    });
    const delegate = await newClient({ origin: b.direct });
    const older = await delegateFrom(alice.signer!, (await alice.capabilities()).held, {
      controller: delegate.did,
      actions: ["post"],
      target: (await alice.community()).iri,
    });
    await hb.writeCommunity((tx) => storeHeld(hb, tx, older, { delegatedBy: alice.did }));
    const stranger = await newClient({ origin: b.direct });

    // On a, the three are members in their own right, and post in the bridged channel.
    const onA = async (client: HarmonyClient) => {
      const there = new HarmonyClient(a.direct, client.signer);
      await there.signIn();
      await there.join((await ownerA.createInvite({ maxUses: 1 })).code);
      return there;
    };
    const [botA, delegateA, strangerA] = [await onA(bot), await onA(delegate), await onA(stranger)];

    // b lets a's channel write to it and pulls from a (anti-entropy); a does not deliver.
    const grantToA = await ownerB.offerBridge(there.id, actorA);
    const toB = await ownerA.offerBridge(here.id, actorB);
    await ownerB.installBridge(toB.capability);
    await ownerB.ban(alice.did, "raiding through bots");

    const contents = async () => (await ownerB.history(there.id)).messages.map((m) => m.content);
    const opCount = async () =>
      Number((await hb.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM op_log`))[0].n);

    await t.step(
      "the inbox refuses what the bot or the delegate signed: 403 banned, nothing stored",
      async () => {
        let seq = 5000;
        const deliver = async (client: HarmonyClient, content: string) => {
          const doc = await signMessage(client.signer!, here.iri, content);
          const activity = operationActivity(await opIdOf(doc), actorA, actorB, doc, {
            origin: a.link.origin,
            seq: ++seq,
            lamport: seq,
          });
          const invoked = await invoke(activity, {
            capability: grantToA.capability as never,
            action: "post",
            invocationTarget: `${b.link.origin}/ap/actors/${there.id}/inbox`,
            signer: await channelSigner(a.instance.harmony, here.id),
          });
          const response = await fetch(`${b.direct}/ap/actors/${there.id}/inbox`, {
            method: "POST",
            headers: { "content-type": "application/activity+json" },
            body: JSON.stringify(invoked),
          });
          return { status: response.status, body: await response.json() };
        };
        const before = await opCount();
        for (const [client, who] of [[delegate, "the delegate"], [bot, "the bot"]] as const) {
          const { status, body } = await deliver(client, `straight from ${who}`);
          assert.equal(status, 403, `${who}: ${JSON.stringify(body)}`);
          assert.equal(body.error, "banned");
        }
        assert.equal(await opCount(), before, "nothing was stored");
        const control = await deliver(stranger, "a stranger's message");
        assert.equal(control.status, 202, JSON.stringify(control.body));
      },
    );

    await t.step("anti-entropy skips them and takes everyone else's", async () => {
      await botA.post("bridged", "the bot, on a");
      await delegateA.post("bridged", "the delegate, on a");
      await strangerA.post("bridged", "the stranger, on a");
      await eventually(
        "the stranger's message reaches b",
        async () => (await contents()).includes("the stranger, on a"),
      );
      const seen = await contents();
      assert.ok(!seen.includes("the bot, on a") && !seen.includes("the delegate, on a"), seen.join(" | "));
    });
  },
});
