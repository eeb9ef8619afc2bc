/**
 * Reactions, pins, replies and threads travel over bridges as operations,
 * like edits: concurrent reacts and unreacts on both sides of a partition
 * converge to the same set.
 */
import assert from "node:assert/strict";
import type { HarmonyClient, MessageJson } from "../../cli/client.ts";
import { bridge, claimNode, eventually, joinNode, startNode } from "./support.ts";

async function find(client: HarmonyClient, text: string): Promise<MessageJson | undefined> {
  return (await client.history("shared", { limit: 200 })).messages.find((m) => m.content === text);
}

const set = (...entries: string[]) => entries.sort().join(" ");
const summary = async (client: HarmonyClient, id: string) =>
  (await client.reactions(id)).map((r) => `${r.emoji}${r.count}`).sort().join(" ");

Deno.test({
  name: "concurrent reactions and removals on both sides of a partition converge to the same set",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await startNode("a");
    await using b = await startNode("b");
    const ownerA = await claimNode(a);
    const ownerB = await claimNode(b);
    const channelA = await ownerA.createChannel("shared", { visibility: "public" });
    const channelB = await ownerB.createChannel("shared", { visibility: "public" });
    await bridge({ node: a, owner: ownerA, channel: channelA }, {
      node: b,
      owner: ownerB,
      channel: channelB,
    });
    const alice = await joinNode(a, ownerA);
    const amir = await joinNode(a, ownerA);
    const bob = await joinNode(b, ownerB);

    const postA = await alice.post("shared", "what do you think?");
    const onB = await eventually("b to see the post", () => find(bob, "what do you think?"));
    // Before the partition: reactions on both sides that both sides see.
    await bob.react(onB, "👍");
    await alice.react(postA, "👍");
    await eventually("a to see bob's reaction", async () => (await summary(alice, postA.id)) === "👍2");
    await eventually("b to see alice's reaction", async () => (await summary(bob, onB.id)) === "👍2");

    a.link.cut();
    b.link.cut();
    // During the partition: a removes alice's 👍 and adds 🎉; amir adds and removes ❤️;
    // b removes bob's 👍 (it saw only its own), adds ❤️ and 🎉; b's owner pins the post.
    await alice.unreact(postA, "👍");
    await alice.react(postA, "🎉");
    await amir.react(postA, "❤️");
    await amir.unreact(postA, "❤️");
    await bob.unreact(onB, "👍");
    await bob.react(onB, "❤️");
    await bob.react(onB, "🎉");
    await ownerB.pin(onB);
    // A reply and a thread reply on each side.
    await bob.reply(onB, "a reply from b");
    await alice.threadReply(postA, "a thread reply from a");
    // Each side still shows the other's 👍, whose removal it has not seen.
    assert.equal(await summary(alice, postA.id), set("👍1", "🎉1"));
    assert.equal(await summary(bob, onB.id), set("👍1", "❤️1", "🎉1"));

    a.link.heal();
    b.link.heal();
    const converged = await eventually("a and b to converge", async () => {
      const [sa, sb] = await Promise.all([alice.channelState("shared"), bob.channelState("shared")]);
      return sa.hash === sb.hash && sa.messages === 3 ? sa : null;
    }, 30_000);
    assert.equal(converged.reactions, 3, "🎉 by alice, 🎉 and ❤️ by bob");
    assert.equal(converged.pins, 1);
    for (const [client, id] of [[alice, postA.id], [bob, onB.id]] as const) {
      assert.equal(await summary(client, id), set("❤️1", "🎉2"), `${client.server} shows the merged set`);
    }
    assert.deepEqual((await alice.pins("shared")).map((p) => p.message.id), [postA.id]);
    const replyOnA = await find(alice, "a reply from b");
    assert.equal(replyOnA?.inReplyTo, postA.id);
    const thread = await bob.thread(onB);
    assert.deepEqual(thread.replies.map((m) => m.content), ["a thread reply from a"]);
    assert.equal(
      await find(bob, "a thread reply from a"),
      undefined,
      "thread replies stay out of the timeline",
    );
  },
});
