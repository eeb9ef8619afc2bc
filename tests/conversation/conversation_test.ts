/**
 * Reactions, replies, threads, pins and permalinks through the real API,
 * with the refusals each rule implies.
 */
import assert from "node:assert/strict";
import { ApiError, type HarmonyClient } from "../../cli/client.ts";
import { signMessage } from "../../server/documents/documents.ts";
import { rebuildIndexes } from "../../server/exchange/indexes.ts";
import { claimedInstance, memberOf, newClient } from "../helpers/instance.ts";

async function refused(promise: Promise<unknown>, status: number, pattern?: RegExp) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${error}`);
    assert.equal(error.status, status, `${error.status} ${error.code}: ${error.message}`);
    if (pattern) assert.match(`${error.code}: ${error.message}`, pattern);
    return error;
  }
  assert.fail(`expected a ${status} refusal`);
}

const emojiOf = async (client: HarmonyClient, id: string) =>
  Object.fromEntries((await client.reactions(id)).map((r) => [r.emoji, r.count]));

Deno.test({
  name: "conversation: reactions, replies, threads, pins and permalinks",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const general = await owner.channel("general");
    const other = await owner.createChannel("other", { visibility: "public" });
    const alice = await memberOf(instance, owner);
    const bob = await memberOf(instance, owner);
    const outsider = await newClient(instance);
    const hello = await alice.post(general.id, "hello\nsecond line");

    await t.step("members react; counts are per member; an Unreact removes one's own", async () => {
      const first = await alice.react(hello, "👍");
      assert.equal(first.status, "applied");
      await bob.react(hello, "👍");
      await bob.react(hello, "🎉");
      // A second React with the same emoji by the same member counts once.
      await bob.react(hello, "👍");
      assert.deepEqual(await emojiOf(alice, hello.id), { "👍": 2, "🎉": 1 });
      const mine = (await bob.reactions(hello)).find((r) => r.emoji === "👍")!.mine;
      assert.equal(mine.length, 2);
      const after = await bob.unreact(hello, "👍");
      assert.deepEqual(after.reactions.map((r) => [r.emoji, r.count]), [["👍", 1], ["🎉", 1]]);
      assert.deepEqual(await emojiOf(owner, hello.id), { "👍": 1, "🎉": 1 });
    });

    await t.step("flags, keycaps and ZWJ sequences are one emoji", async () => {
      for (const emoji of ["🇫🇷", "1️⃣", "👩‍👩‍👧‍👦", "❤️"]) await alice.react(hello, emoji);
      const shown = await emojiOf(alice, hello.id);
      for (const emoji of ["🇫🇷", "1️⃣", "👩‍👩‍👧‍👦", "❤️"]) assert.equal(shown[emoji], 1);
    });

    await t.step("refuses malformed emoji and oversized content (422), storing nothing", async () => {
      for (const bad of ["abc", "👍👍", "👍 ", "", "x".repeat(40), "🏳️‍🌈".repeat(5), "\u0007"]) {
        const react = await alice.signedReact(hello.channel, hello.id, bad);
        await refused(
          alice.request("POST", `/messages/${encodeURIComponent(hello.id)}/reactions`, { react }),
          422,
          /emoji/,
        );
      }
      const before = await alice.reactions(hello);
      assert.ok(before.every((r) => r.emoji.length <= 32));
    });

    await t.step("a signed-in non-member cannot react (403)", async () => {
      await refused(outsider.react(hello, "👍"), 403, /react/);
    });

    await t.step('a holder of other capabilities but not "react" cannot react (403)', async () => {
      const bot = await newClient(instance);
      await owner.registerBot(bot.signer!, "Poster");
      await owner.delegate(bot.did, ["post"], {
        channel: general.id,
        expires: new Date(Date.now() + 86400_000).toISOString(),
      });
      await bot.post(general.id, "a bot may post");
      await refused(bot.react(hello, "👍"), 403, /no capability to react/);
    });

    await t.step("an Unreact naming someone else's reactions is refused (403)", async () => {
      const alices = (await alice.reactions(hello)).find((r) => r.emoji === "👍")!.mine;
      await refused(bob.unreact(hello, "👍", alices), 403, /not_your_reaction/);
      assert.equal((await emojiOf(owner, hello.id))["👍"], 1);
    });

    await t.step("an Unreact naming an unknown operation or another emoji is refused (422)", async () => {
      await refused(bob.unreact(hello, "👍", [`urn:harmony:op:${"0".repeat(40)}`]), 422, /unknown_reaction/);
      const bobsParty = (await bob.reactions(hello)).find((r) => r.emoji === "🎉")!.mine;
      await refused(bob.unreact(hello, "👍", bobsParty), 422, /wrong_reaction/);
    });

    await t.step("a React with a tampered signature is refused (401)", async () => {
      const react = await alice.signedReact(hello.channel, hello.id, "😮");
      const tampered = { ...react, content: "😢" };
      await refused(
        alice.request("POST", `/messages/${encodeURIComponent(hello.id)}/reactions`, { react: tampered }),
        401,
        /signature/,
      );
      // A React signed by one member and sent by another is refused too.
      await refused(
        bob.request("POST", `/messages/${encodeURIComponent(hello.id)}/reactions`, { react }),
        403,
      );
      assert.equal((await emojiOf(owner, hello.id))["😢"], undefined);
    });

    await t.step("replies quote a message of the same channel only", async () => {
      const reply = await bob.reply(hello, "hi alice");
      assert.equal(reply.inReplyTo, hello.id);
      const elsewhere = await alice.post(other.id, "in another channel");
      const message = await signMessage(bob.signer!, general.iri, "cross-channel", undefined, undefined, {
        inReplyTo: elsewhere.id,
      });
      await refused(
        bob.request("POST", `/channels/${general.id}/messages`, { message }),
        422,
        /another channel/,
      );
      const ghost = await signMessage(bob.signer!, general.iri, "to nothing", undefined, undefined, {
        inReplyTo: "urn:uuid:00000000-0000-4000-8000-000000000000",
      });
      await refused(bob.request("POST", `/channels/${general.id}/messages`, { message: ghost }), 422);
      const html = await (await fetch(`${instance.origin}/channels/${general.id}`)).text();
      assert.match(html, /class="reply-quote"/);
      assert.match(html, /hello<\/span>|hello/);
    });

    await t.step("threads: replies stay out of the timeline; the root shows the count", async () => {
      const root = await alice.post(general.id, "let us discuss the plan");
      const one = await bob.threadReply(root, "first thought");
      await alice.threadReply(root, "second thought");
      assert.equal(one.thread, root.id);
      const timeline = (await owner.history(general.id)).messages.map((m) => m.content);
      assert.ok(timeline.includes("let us discuss the plan"));
      assert.ok(!timeline.includes("first thought"));
      const thread = await owner.thread(root);
      assert.deepEqual(thread.replies.map((m) => m.content), ["first thought", "second thought"]);
      const threads = await owner.threads(general.id);
      assert.equal(threads[0].root.id, root.id);
      assert.equal(threads[0].summary.replies, 2);
      // Replying inside a thread, and no threads inside threads.
      const inThread = await alice.reply(one, "answering the first thought");
      assert.equal(inThread.thread, root.id);
      await refused(alice.threadReply(one, "nested"), 422, /nested_thread/);
      const uuid = root.id.replace("urn:uuid:", "");
      const page = await (await fetch(`${instance.origin}/channels/${general.id}`)).text();
      assert.match(page, /3 replies/);
      const threadPage = await (await fetch(`${instance.origin}/channels/${general.id}/threads/${uuid}`))
        .text();
      assert.match(threadPage, /first thought/);
      assert.match(threadPage, /data-thread-root="urn:uuid:/);
      // A thread reply's permalink opens its thread, the reply highlighted.
      const replyPage = await (await fetch(
        `${instance.origin}/channels/${general.id}/messages/${one.id.replace("urn:uuid:", "")}`,
      )).text();
      assert.match(replyPage, new RegExp(`data-thread-root="${root.id}"`));
      assert.match(
        replyPage,
        new RegExp(`class="message highlighted" id="m-${one.id.replace("urn:uuid:", "")}"`),
      );
      const list = await (await fetch(`${instance.origin}/channels/${general.id}/threads`)).text();
      assert.match(list, /let us discuss the plan/);
    });

    await t.step("thread unread state: a member's marker moves when they view the thread", async () => {
      const root = await bob.post(general.id, "unread test root");
      await bob.threadReply(root, "new reply");
      const before = (await alice.threads(general.id)).find((x) => x.root.id === root.id)!;
      assert.equal(before.summary.unread, true);
      const uuid = root.id.replace("urn:uuid:", "");
      await alice.request("POST", `/channels/${general.id}/threads/${uuid}/read`);
      const after = (await alice.threads(general.id)).find((x) => x.root.id === root.id)!;
      assert.equal(after.summary.unread, false);
      await bob.threadReply(root, "another reply");
      assert.equal(
        (await alice.threads(general.id)).find((x) => x.root.id === root.id)!.summary.unread,
        true,
      );
    });

    await t.step('pins: moderators pin and unpin; members without "pin" are refused (403)', async () => {
      await refused(alice.pin(hello), 403, /no capability to pin/);
      await refused(outsider.pin(hello), 403);
      const pinned = await owner.pin(hello);
      assert.equal(pinned.pinned, true);
      assert.deepEqual((await alice.pins(general.id)).map((p) => p.message.id), [hello.id]);
      const html = await (await fetch(`${instance.origin}/channels/${general.id}/pins`)).text();
      assert.match(html, /hello/);
      await owner.unpin(hello);
      assert.deepEqual(await alice.pins(general.id), []);
      await owner.pin(hello);
    });

    await t.step("a permalink renders the channel around the message, highlighted", async () => {
      const uuid = hello.id.replace("urn:uuid:", "");
      const response = await fetch(`${instance.origin}/channels/${general.id}/messages/${uuid}`);
      assert.equal(response.status, 200);
      const html = await response.text();
      assert.match(html, new RegExp(`class="message pinned highlighted" id="m-${uuid}"`));
      assert.match(html, new RegExp(`data-highlight="${hello.id}"`));
      const wrong = await fetch(`${instance.origin}/channels/${other.id}/messages/${uuid}`);
      assert.equal(wrong.status, 404);
      await wrong.body?.cancel();
      const unknown = await fetch(`${instance.origin}/channels/${general.id}/messages/not-a-uuid`);
      assert.equal(unknown.status, 404);
      await unknown.body?.cancel();
    });

    await t.step("reactions and pins are rebuilt from the quads", async () => {
      const before = await instance.harmony.db.all(
        (await import("drizzle-orm")).sql`SELECT op_id, message, actor, emoji FROM reactions ORDER BY op_id`,
      );
      const state = await owner.channelState(general.id);
      await instance.harmony.database.write((tx) => rebuildIndexes(tx));
      const after = await instance.harmony.db.all(
        (await import("drizzle-orm")).sql`SELECT op_id, message, actor, emoji FROM reactions ORDER BY op_id`,
      );
      assert.deepEqual(after, before);
      assert.equal((await owner.channelState(general.id)).hash, state.hash);
      assert.deepEqual((await alice.pins(general.id)).map((p) => p.message.id), [hello.id]);
      const thread = (await owner.threads(general.id))[0];
      assert.ok(thread.summary.replies >= 1);
    });
  },
});
