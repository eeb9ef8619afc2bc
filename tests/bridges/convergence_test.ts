import assert from "node:assert/strict";
import type { ChannelStateJson, HarmonyClient, MessageJson } from "../../cli/client.ts";
import { bridge, claimNode, eventually, joinNode, type Node, reconnect, startNode } from "./support.ts";

async function contents(client: HarmonyClient, channel: string): Promise<MessageJson[]> {
  const all: MessageJson[] = [];
  let before: string | undefined;
  do {
    const page = await client.history(channel, { limit: 200, before });
    all.unshift(...page.messages);
    before = page.before ?? undefined;
  } while (before);
  return all;
}

const texts = (messages: MessageJson[]) => messages.map((m) => m.content);

async function sameState(a: HarmonyClient, b: HarmonyClient, channel: string) {
  const [sa, sb]: ChannelStateJson[] = await Promise.all([a.channelState(channel), b.channelState(channel)]);
  return sa.hash === sb.hash ? sa : null;
}

Deno.test({
  name: "bridged channels converge after a partition and a restart, with every message exactly once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await startNode("a");
    await using b = await startNode("b");
    await using c = await startNode("c");
    const nodes: Record<string, Node> = { a, b, c };
    const owners: Record<string, HarmonyClient> = {};
    const channels: Record<string, { id: string }> = {};
    for (const [name, node] of Object.entries(nodes)) {
      owners[name] = await claimNode(node);
      channels[name] = await owners[name].createChannel("shared", { visibility: "public" });
    }
    const side = (name: string) => ({ node: nodes[name], owner: owners[name], channel: channels[name] });
    // A mesh: a and c are each bridged with b, not with each other.
    await bridge(side("a"), side("b"));
    await bridge(side("c"), side("b"));
    let alice = await joinNode(a, owners.a);
    let bob = await joinNode(b, owners.b);
    const carol = await joinNode(c, owners.c);

    const hello = await alice.post("shared", "hello from a");
    const hi = await bob.post("shared", "hi from b");
    await carol.post("shared", "hey from c, two hops away");
    for (const client of [alice, bob, carol]) {
      await eventually(
        `${client.server} to see all three greetings`,
        async () => (await contents(client, "shared")).length === 3,
      );
    }

    // Partition a from b, and take b down as well.
    a.link.cut();
    b.link.cut();
    await alice.post("shared", "a1 during the partition");
    const a2 = await alice.post("shared", "a2 during the partition");
    await alice.edit(hello, "hello from a (edited while partitioned)");
    // A moderator on a deletes b's message; bob edits a message a cannot see yet.
    await owners.a.delete((await contents(owners.a, "shared")).find((m) => m.id === hi.id)!);
    const b1 = await bob.post("shared", "b1 during the partition");
    await bob.edit(b1, "b1 edited during the partition");
    await b.stop();
    await alice.edit(a2, "a2 edited while b was down");
    await b.start();
    bob = await reconnect(bob, b);
    owners.b = await reconnect(owners.b, b);
    await bob.post("shared", "b2 after the restart, still partitioned");
    assert.notEqual((await alice.channelState("shared")).hash, (await bob.channelState("shared")).hash);

    // Heal: anti-entropy and the delivery queues catch both sides up.
    a.link.heal();
    b.link.heal();
    const converged = await eventually("a, b and c to converge", async () => {
      const ab = await sameState(alice, bob, "shared");
      const bc = ab && await sameState(bob, carol, "shared");
      return bc;
    }, 30_000);

    const expected = [
      "hello from a (edited while partitioned)",
      "hey from c, two hops away",
      "a1 during the partition",
      "a2 edited while b was down",
      "b1 edited during the partition",
      "b2 after the restart, still partitioned",
    ].sort();
    for (const client of [alice, bob, carol]) {
      const messages = await contents(client, "shared");
      assert.deepEqual(
        texts(messages).sort(),
        expected,
        `${client.server} has every message once, as last edited`,
      );
      assert.equal(new Set(messages.map((m) => m.id)).size, messages.length, "no message twice");
    }
    // The same order everywhere: total order by (Lamport time, author, id).
    const order = async (client: HarmonyClient) => (await contents(client, "shared")).map((m) => m.id);
    assert.deepEqual(await order(alice), await order(bob));
    assert.deepEqual(await order(bob), await order(carol));
    assert.equal(converged.messages, 6, "the six live messages (the deleted one is gone everywhere)");
    alice = await reconnect(alice, a);
  },
});
