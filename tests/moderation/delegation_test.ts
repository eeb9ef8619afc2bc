/**
 * Moderation cannot be escaped by delegating to throwaway identities
 * (issue 14, section 5). Each step replays an attack that worked before:
 * a timed-out member delegating `post` to a fresh DID; five fresh DIDs
 * posting at once under a 300 s slow mode; delegations walking round
 * invite-only admission, the join lock, the credential policy and the
 * minimum DID age, and handing an outsider `read` of members-only channels.
 */
import assert from "node:assert/strict";
import { delegateFrom } from "../../server/authority/delegating.ts";
import { storeHeld } from "../../server/authority/store.ts";
import { signAction } from "../../server/documents/documents.ts";
import { HarmonyClient } from "../../cli/client.ts";
import type { Harmony } from "../../server/harmony.ts";
import { claimedInstance, memberOf, newClient } from "../helpers/instance.ts";
import { refused, snapshotCounts } from "./support.ts";

/** A delegation `from` signs to `to`, stored as an older server would have accepted it, unchecked. */
async function storedUnchecked(h: Harmony, from: HarmonyClient, to: string, actions: string[]) {
  const capability = await delegateFrom(from.signer!, (await from.capabilities()).held, {
    controller: to,
    actions,
    target: (await from.community()).iri,
  });
  await h.writeCommunity((tx) => storeHeld(h, tx, capability, { delegatedBy: from.did }));
  return capability;
}

/** Posts from every client at once; how many went through. */
async function postAtOnce(clients: HarmonyClient[], channel: string): Promise<number> {
  const results = await Promise.allSettled(clients.map((c, i) => c.post(channel, `at once ${i}`)));
  return results.filter((r) => r.status === "fulfilled").length;
}

Deno.test({
  name: "moderation: a sanctioned member cannot act through delegates, and their delegations stop meanwhile",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const moderator = await memberOf(instance, owner);
    const alice = await memberOf(instance, owner);
    const bob = await memberOf(instance, owner);
    await owner.assignRole(moderator.did, "moderator");

    await t.step("a timed-out member cannot delegate, and the fresh DID cannot post for them", async () => {
      await moderator.timeout(alice.did, 600);
      try {
        const fresh = await newClient(instance);
        const before = await snapshotCounts(h);
        await refused(alice.delegate(fresh.did, ["post"]), 403, /timed out and cannot delegate for another/);
        await refused(alice.delegate(bob.did, ["post"]), 403, /timed out and cannot delegate/);
        await refused(fresh.post("general", "posting for alice"), 403);
        assert.deepEqual(await snapshotCounts(h), before, "nothing was stored");
      } finally {
        await moderator.timeout(alice.did, 0);
      }
    });

    await t.step(
      "what a member delegated stops working while they are timed out, and works again after",
      async () => {
        // The moderator lets bob delete messages in #general; then the owner times the moderator out.
        await moderator.delegate(bob.did, ["delete-any"], { channel: "general" });
        await bob.delete(await alice.post("general", "first"));
        await owner.timeout(moderator.did, 600);
        const second = await alice.post("general", "second");
        await refused(bob.delete(second), 403, /suspended: it was delegated by a member who is timed out/);
        assert.ok(
          !(await bob.capabilities()).held.some((c) => c.actions.includes("delete-any")),
          "not in force meanwhile",
        );
        await owner.timeout(moderator.did, 0);
        await bob.delete(second);
      },
    );

    await t.step("a timed-out member's bot cannot post, edit or react; it can again afterwards", async () => {
      const bot = await newClient(instance);
      await alice.registerBot(bot.signer!, "Alice's helper");
      await alice.delegate(bot.did, ["post", "edit-own", "react"]);
      const said = await bot.post("general", "before the timeout");
      await moderator.timeout(alice.did, 600);
      const before = await snapshotCounts(h);
      await refused(bot.post("general", "during"), 403, /timed out/);
      await refused(bot.edit(said, "edited during"), 403, /timed out/);
      await refused(bot.react(said, "👍"), 403, /timed out/);
      await refused(alice.registerBot((await newClient(instance)).signer!, "another"), 403, /timed out/);
      assert.deepEqual(await snapshotCounts(h), before);
      await moderator.timeout(alice.did, 0);
      await bot.post("general", "after");
    });

    await t.step("a bot can be timed out, kicked and banned, by those who outrank its owner", async () => {
      const bot = await newClient(instance);
      await bob.registerBot(bot.signer!, "Bob's bot");
      await bob.delegate(bot.did, ["post"]);
      await moderator.timeout(bot.did, 600);
      await refused(bot.post("general", "timed out myself"), 403, /you are timed out/);
      await moderator.timeout(bot.did, 0);
      await bot.post("general", "back");
      await refused(alice.kick(bot.did), 403, /no capability to remove members/);
      await moderator.kick(bot.did);
      assert.ok(!(await alice.bots()).some((b) => b.did === bot.did), "unregistered");
      await refused(bot.post("general", "kicked"), 403);
      // The owner's own bot is out of a moderator's reach when the owner outranks them.
      const ownersBot = await newClient(instance);
      await owner.registerBot(ownersBot.signer!, "Owner's bot");
      await refused(moderator.kick(ownersBot.did), 403, /bots of members you outrank/);
      await refused(moderator.ban(ownersBot.did), 403, /bots of members you outrank/);
    });

    await t.step(
      "a banned member's bots and delegates hold nothing, even after the ban is lifted",
      async () => {
        const bot = await newClient(instance);
        await bob.registerBot(bot.signer!, "Bob's second bot");
        await bob.delegate(bot.did, ["post"]);
        await moderator.ban(bob.did, "spam");
        await refused(bot.post("general", "for a banned owner"), 403);
        await moderator.unban(bob.did);
        await refused(bot.post("general", "after the unban"), 403, /no capability|not a member/);
      },
    );
  },
});

Deno.test({
  name: "moderation: slow mode, rate limits and the minimum age count a member's bots against the member",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const moderator = await memberOf(instance, owner);
    const alice = await memberOf(instance, owner);
    await owner.assignRole(moderator.did, "moderator");
    await moderator.setSlowMode("general", 300);

    await t.step("five fresh DIDs cannot be handed post (they are not members)", async () => {
      const five = await Promise.all([1, 2, 3, 4, 5].map(() => newClient(instance)));
      for (const fresh of five) {
        await refused(alice.delegate(fresh.did, ["post"]), 403, /not a member here/);
      }
      assert.equal(await postAtOnce(five, "general"), 0);
    });

    await t.step("five fresh DIDs holding post from before cannot post either", async () => {
      const five = await Promise.all([1, 2, 3, 4, 5].map(() => newClient(instance)));
      for (const fresh of five) await storedUnchecked(h, alice, fresh.did, ["post"]);
      const before = await snapshotCounts(h);
      assert.equal(await postAtOnce(five, "general"), 0);
      await refused(five[0].post("general", "hello"), 403, /not a member here/);
      assert.deepEqual(await snapshotCounts(h), before);
    });

    const bots = await Promise.all([1, 2, 3, 4, 5].map(() => newClient(instance)));
    await t.step("the member registers five bots and lets them post", async () => {
      for (const [i, bot] of bots.entries()) {
        await alice.registerBot(bot.signer!, `bot ${i}`);
        await alice.delegate(bot.did, ["post"]);
      }
    });

    await t.step(
      "slow mode at 300 s: the member and five bots posting at once get one post through",
      async () => {
        const before = await snapshotCounts(h);
        assert.equal(await postAtOnce([alice, ...bots], "general"), 1);
        assert.equal((await snapshotCounts(h)).messages, before.messages + 1);
        const error = await refused(bots[0].post("general", "again"), 429, /slow mode is on in #general/);
        assert.match(error.message, /a bot's posts count as its owner's/);
        await refused(alice.post("general", "again"), 429, /slow mode/);
        await moderator.setSlowMode("general", 0);
      },
    );

    await t.step("a rate limit of 3 a minute: 3 posts between the member and the bots", async () => {
      await owner.moderationSettings({ rateLimit: { messages: 3, seconds: 60 } });
      assert.equal(await postAtOnce([alice, ...bots], "general"), 3);
      await refused(bots[4].post("general", "fourth"), 429, /posting too fast/);
      await owner.moderationSettings({ rateLimit: null });
    });

    await t.step("a bot is as old here as its owner: a new member's bot waits too", async () => {
      await owner.moderationSettings({ minimumDidAge: 3600 });
      const bot = await newClient(instance);
      await moderator.registerBot(bot.signer!, "moderator's bot");
      await moderator.delegate(bot.did, ["post"]);
      await bot.post("general", "the owner is a moderator: exempt");
      const newcomer = await newClient(instance);
      // Joined before the rule, so a member; but first seen moments ago.
      await owner.moderationSettings({ minimumDidAge: 0 });
      await newcomer.join((await owner.createInvite({ maxUses: 1 })).code);
      const newBot = await newClient(instance);
      await newcomer.registerBot(newBot.signer!, "newcomer's bot");
      await newcomer.delegate(newBot.did, ["post"]);
      await owner.moderationSettings({ minimumDidAge: 3600 });
      await refused(newBot.post("general", "too soon"), 403, /new identities must wait before posting/);
      await owner.moderationSettings({ minimumDidAge: 0 });
    });
  },
});

Deno.test({
  name: "moderation: a delegation admits nobody: invites, the join lock, credentials and DID age still hold",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const alice = await memberOf(instance, owner);
    await owner.createChannel("private", { visibility: "members" });
    await owner.post("private", "for members only");

    /** An outsider cannot join under the rule, nor be handed read or post, nor use them if held from before. */
    async function holds(rule: string) {
      const outsider = await newClient(instance);
      await refused(outsider.join(), 403);
      const before = await snapshotCounts(h);
      for (const actions of [["read"], ["post"], ["read", "post", "react"]]) {
        await refused(alice.delegate(outsider.did, actions), 403, /not a member here/);
      }
      await refused(alice.delegate(outsider.did, ["read"], { channel: "private" }), 403, /not a member/);
      assert.deepEqual(await snapshotCounts(h), before, `${rule}: nothing stored`);
      await storedUnchecked(h, alice, outsider.did, ["read", "post"]);
      await refused(outsider.history("private"), 403);
      await refused(outsider.post("general", `past ${rule}`), 403, /not a member here/);
      assert.equal((await outsider.capabilities()).held.length, 0, `${rule}: nothing in force`);
      const found = await outsider.search("members");
      assert.equal(found.results.length, 0, `${rule}: search shows nothing of #private`);
    }

    await t.step("invite only", () => holds("invite only"));

    await t.step("the join lock", async () => {
      await owner.request("PATCH", "/community", { admission: { policy: "open" } });
      await owner.lockJoins();
      await holds("the join lock");
      await owner.unlockJoins();
    });

    await t.step("the credential policy", async () => {
      await owner.request("PATCH", "/community", {
        admission: {
          policy: "credential",
          credentialType: "AllyMembership",
          issuer: (await newClient(instance, false)).did,
        },
      });
      await holds("the credential policy");
    });

    await t.step("the minimum DID age", async () => {
      await owner.request("PATCH", "/community", { admission: { policy: "open" } });
      await owner.moderationSettings({ minimumDidAge: 3600 });
      await holds("the minimum DID age");
      await owner.moderationSettings({ minimumDidAge: 0 });
    });

    await t.step("a registered bot may be handed read, but never the owner's own actions", async () => {
      const bot = await newClient(instance);
      await alice.registerBot(bot.signer!, "Reader");
      await alice.delegate(bot.did, ["read"], { channel: "private" });
      assert.deepEqual((await bot.history("private")).messages.map((m) => m.content), ["for members only"]);
      const ownersBot = await newClient(instance);
      await owner.registerBot(ownersBot.signer!, "Owner's bot");
      await refused(owner.delegate(ownersBot.did, ["export"]), 422, /a bot cannot hold export/);
      await refused(owner.delegate(ownersBot.did, ["transfer-ownership"]), 422, /cannot hold/);
      // An older server's delegation of them gives the bot nothing.
      await storedUnchecked(h, owner, ownersBot.did, ["export"]);
      await refused(ownersBot.request("GET", "/export"), 403);
      // Only a bot's owner delegates to it.
      await refused(owner.delegate(bot.did, ["post"]), 403, /another member's bot/);
    });
  },
});

Deno.test({
  name: "bots: registering needs a member, the bot's consent and no join lock; a bot that joins is a member",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const alice = await memberOf(instance, owner);
    const outsider = await newClient(instance);

    const signers = new Map<string, HarmonyClient["signer"]>();
    const findSigner = (did: string) => Promise.resolve(signers.get(did) ?? null);
    await t.step("refusals leave nothing written", async () => {
      const bot = await newClient(instance);
      signers.set(bot.did, bot.signer);
      const community = (await alice.community()).iri;
      const action = await alice.signedAction("bot-register", bot.did, { name: "forged" });
      const notTheBot = await signAction(outsider.signer!, {
        action: "bot-consent",
        target: alice.did,
        community,
      });
      const forOwner = await signAction(bot.signer!, { action: "bot-consent", target: owner.did, community });
      const before = await snapshotCounts(h);
      await refused(outsider.registerBot(bot.signer!, "x"), 403, /only members/);
      await refused(alice.registerBot(owner.signer!, "the owner"), 409, /is a member/);
      await refused(alice.registerBot(alice.signer!, "myself"), 422, /your own bot/);
      await refused(
        alice.request("POST", "/bots", { did: bot.did, name: "forged", action, consent: notTheBot }),
        422,
        /not signed by the bot/,
      );
      await refused(
        alice.request("POST", "/bots", { did: bot.did, name: "forged", action, consent: forOwner }),
        422,
        /naming you/,
      );
      await refused(alice.request("POST", "/bots", { did: bot.did, name: "forged", action }), 422, /consent/);
      assert.deepEqual(await snapshotCounts(h), before);
      await owner.ban(outsider.did);
      await refused(alice.registerBot(outsider.signer!, "banned"), 403, /banned/);
      await owner.lockJoins();
      await refused(alice.registerBot(bot.signer!, "during a raid"), 403, /joining is locked/);
      await owner.unlockJoins();
      assert.deepEqual(await owner.bots(), [], "no registration stored");
      await alice.registerBot(bot.signer!, "Greeter");
      await refused(owner.registerBot(bot.signer!, "mine now"), 409, /already a member's bot/);
    });

    await t.step("it is listed as its owner's bot, and leaves the list when its owner leaves", async () => {
      const listed = (await owner.bots()).find((b) => b.name === "Greeter")!;
      assert.equal(listed.owner, alice.did);
      assert.ok(!(await owner.members()).some((m) => m.did === listed.did), "not a member");
      await alice.setProfile("Alice");
      const bot = new HarmonyClient(instance.origin, (await findSigner(listed.did))!);
      await bot.signIn();
      await alice.delegate(bot.did, ["post"]);
      await bot.post("general", "beep");
      const page = await fetch(`${instance.origin}/channels/${(await owner.channel("general")).id}`, {
        headers: { authorization: `Bearer ${owner.token}` },
      }).then((r) => r.text());
      assert.match(page, /Bots — 1/, "the member list has a bots section");
      assert.match(page, /aria-label="Message from Greeter"/);
      assert.equal(
        page.match(/Alice(&#39;|')s bot/g)?.length,
        2,
        "beside its name in the list and on its message",
      );
      await alice.leave();
      assert.ok(!(await owner.bots()).some((b) => b.did === listed.did));
      await alice.join((await owner.createInvite({ maxUses: 1 })).code);
      assert.ok((await owner.bots()).some((b) => b.did === listed.did), "registered again with its owner");
    });

    await t.step("a bot admitted on its own is a member, and nobody's bot", async () => {
      const listed = (await owner.bots()).find((b) => b.name === "Greeter")!;
      const bot = await newClient(instance);
      await alice.registerBot(bot.signer!, "Joiner");
      await alice.delegate(bot.did, ["delete-own"]);
      await bot.join((await owner.createInvite({ maxUses: 1 })).code);
      assert.ok(!(await owner.bots()).some((b) => b.did === bot.did));
      const held = (await bot.capabilities()).held;
      assert.ok(held.every((c) => c.delegatedBy !== alice.did), "what it held as a bot is revoked");
      assert.ok(listed);
    });

    await t.step("the owner unregisters a bot; what it held is revoked", async () => {
      const bot = await newClient(instance);
      await alice.registerBot(bot.signer!, "Temporary");
      await alice.delegate(bot.did, ["post"]);
      await bot.post("general", "hello");
      await refused(owner.request("DELETE", `/bots/${encodeURIComponent(bot.did)}`, {}), 422, /signed/);
      await alice.unregisterBot(bot.did);
      await refused(bot.post("general", "still here?"), 403);
      const entries = (await owner.auditLog()).map((e) => e.action);
      assert.ok(entries.includes("bot-register") && entries.includes("bot-unregister"));
    });
  },
});
