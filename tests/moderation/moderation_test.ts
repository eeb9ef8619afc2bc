/**
 * Moderation: kick, ban, timeout, slow mode, rate limits, raid detection
 * and the minimum DID age. Each action is a signed Action, authorized by
 * capability and by rank; each refusal says why and leaves nothing behind.
 */
import assert from "node:assert/strict";
import { signAction } from "../../server/documents/documents.ts";
import { claimedInstance, memberOf, newClient } from "../helpers/instance.ts";
import { count, members, refused, snapshotCounts } from "./support.ts";

Deno.test({
  name: "moderation: kick, ban and timeout act on members one outranks; refusals change nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const admin = await memberOf(instance, owner);
    const moderator = await memberOf(instance, owner);
    const alice = await memberOf(instance, owner);
    const bob = await memberOf(instance, owner);
    await owner.assignRole(admin.did, "admin");
    await owner.assignRole(moderator.did, "moderator");

    await t.step(
      "a kicked member is removed, loses every capability and credential, and may join again",
      async () => {
        const result = await moderator.kick(alice.did, "spam");
        assert.ok(result.entry.seq > 0, "the kick is in the audit log");
        assert.ok(!(await members(owner)).includes(alice.did));
        assert.equal((await alice.capabilities()).held.length, 0, "no capability in force");
        await refused(alice.post("general", "still here?"), 403, /no capability to post/);
        const credentials = await alice.credentials();
        assert.ok(credentials.length > 0 && credentials.every((c) => c.revoked), "credentials revoked");
        const invite = await owner.createInvite({ maxUses: 1 });
        await alice.join(invite.code);
        await alice.post("general", "back again");
      },
    );

    await t.step("a moderator banning an admin is refused, and nothing changes", async () => {
      const before = await snapshotCounts(h);
      await refused(moderator.ban(admin.did), 403, /outrank/);
      await refused(moderator.kick(admin.did), 403, /outrank/);
      await refused(moderator.timeout(admin.did, 60), 403, /outrank/);
      await refused(moderator.kick(owner.did), 403, /outrank/);
      assert.deepEqual(await snapshotCounts(h), before);
      assert.ok((await members(owner)).includes(admin.did));
    });

    await t.step("a banned DID is removed and refused everywhere: joining, posting, any change", async () => {
      await moderator.ban(bob.did, "trolling");
      assert.ok(!(await members(owner)).includes(bob.did));
      const invite = await owner.createInvite({ maxUses: 5 });
      const before = await snapshotCounts(h);
      await refused(bob.join(invite.code), 403, /you are banned from this community: trolling/);
      await refused(bob.post("general", "hello?"), 403, /you are banned/);
      await refused(bob.setProfile("Bob"), 403, /you are banned/);
      assert.deepEqual(await snapshotCounts(h), before);
      // Signing in still works, so the member can read why.
      await bob.signIn();
      const { bans } = await moderator.moderation();
      assert.equal(bans!.find((b) => b.did === bob.did)?.reason, "trolling");
      await refused(moderator.ban(bob.did), 409, /already banned/);
    });

    await t.step("a DID that never joined can be banned too, and unbanned", async () => {
      const stranger = await newClient(instance);
      await moderator.ban(stranger.did);
      await refused(stranger.join(), 403, /banned/);
      await moderator.unban(stranger.did);
      const invite = await owner.createInvite({ maxUses: 1 });
      await stranger.join(invite.code);
      await refused(moderator.unban(stranger.did), 404, /not banned/);
    });

    await t.step("a timed-out member cannot post or edit, and is told for how long", async () => {
      const message = await alice.post("general", "before the timeout");
      await moderator.timeout(alice.did, 120, "cool down");
      const before = await snapshotCounts(h);
      await refused(
        alice.post("general", "during"),
        403,
        /timed out and cannot post for another (2 minutes|1 minute \d+ seconds)/,
      );
      await refused(alice.edit(message, "edited"), 403, /timed out and cannot edit messages/);
      assert.deepEqual(await snapshotCounts(h), before);
      await moderator.timeout(alice.did, 0);
      await alice.post("general", "after");
    });

    await t.step("a signed action is used once, by its signer, for this community", async () => {
      const carol = await memberOf(instance, owner);
      const doc = await moderator.signedAction("timeout", carol.did, { seconds: 60 });
      await moderator.sendAction(doc);
      await moderator.timeout(carol.did, 0);
      const before = await snapshotCounts(h);
      await refused(moderator.sendAction(doc), 409, /already used/);
      await refused(
        admin.sendAction(await moderator.signedAction("kick", carol.did)),
        403,
        /signed yourself/,
      );
      const forged = { ...(await moderator.signedAction("kick", carol.did)), target: bob.did };
      await refused(moderator.sendAction(forged), 401, /signature/);
      const elsewhere = await signAction(moderator.signer!, {
        action: "kick",
        target: carol.did,
        community: "https://elsewhere.example/community",
      });
      await refused(moderator.sendAction(elsewhere), 422, /another community/);
      const old = await moderator.signedAction(
        "kick",
        carol.did,
        {},
        new Date(Date.now() - 3600_000).toISOString(),
      );
      await refused(moderator.sendAction(old), 422, /clock/);
      await refused(moderator.request("POST", "/moderation/actions", {}), 422, /signed Action/);
      assert.deepEqual(await snapshotCounts(h), before);
      assert.ok((await members(owner)).includes(carol.did));
    });

    await t.step("acting after revocation is refused at once", async () => {
      await owner.removeRole(moderator.did, "moderator");
      const before = await snapshotCounts(h);
      await refused(moderator.kick(alice.did), 403, /no capability to remove members/);
      await refused(moderator.ban(alice.did), 403, /no capability to ban/);
      assert.deepEqual(await snapshotCounts(h), before);
      await refused(alice.kick(moderator.did), 403, /no capability/);
    });
  },
});

Deno.test({
  name: "slow mode and rate limits refuse with 429, Retry-After and how long to wait; moderators are exempt",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const moderator = await memberOf(instance, owner);
    const alice = await memberOf(instance, owner);
    await owner.assignRole(moderator.did, "moderator");
    await owner.createChannel("quiet");

    await t.step("slow mode: one post per 30 seconds per member in that channel", async () => {
      await moderator.setSlowMode("general", 30);
      await alice.post("general", "first");
      const before = await snapshotCounts(h);
      const error = await refused(
        alice.post("general", "second"),
        429,
        /slow mode is on in #general: wait (30|29) seconds/,
      );
      assert.ok(error.retryAfter! >= 29 && error.retryAfter! <= 30, `Retry-After ${error.retryAfter}`);
      assert.deepEqual(await snapshotCounts(h), before, "the refused post left nothing");
      await alice.post("quiet", "other channels are not slowed");
      await moderator.post("general", "moderators are exempt");
      await moderator.post("general", "twice");
    });

    await t.step("a retried post is the same post: it uses no slot", async () => {
      const channel = await alice.channel("quiet");
      await moderator.setSlowMode("quiet", 60);
      const carol = await memberOf(instance, owner);
      const doc = await carol.signedMessage(channel.iri, "once");
      await carol.request("POST", `/channels/${channel.id}/messages`, { message: doc });
      const again = await carol.send("POST", `/channels/${channel.id}/messages`, { message: doc });
      assert.equal(again.status, 200, "a duplicate, not a refusal");
      await again.body?.cancel();
      await moderator.setSlowMode("quiet", 0);
      await carol.post("quiet", "slow mode off");
    });

    await t.step("rate limit: at most 3 messages every 60 seconds per member, across channels", async () => {
      await moderator.setSlowMode("general", 0);
      await owner.moderationSettings({ rateLimit: { messages: 3, seconds: 60 } });
      const bob = await memberOf(instance, owner);
      await bob.post("general", "1");
      await bob.post("quiet", "2");
      await bob.post("general", "3");
      const before = await snapshotCounts(h);
      const error = await refused(
        bob.post("quiet", "4"),
        429,
        /posting too fast \(at most 3 messages every 1 minute\): try again in/,
      );
      assert.ok(error.retryAfter! > 0 && error.retryAfter! <= 60, `Retry-After ${error.retryAfter}`);
      assert.deepEqual(await snapshotCounts(h), before);
      // The raw response carries the header.
      const response = await fetch(`${instance.origin}/api/channels/general/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${bob.token}`, "content-type": "application/json" },
        body: JSON.stringify({ message: await bob.signedMessage((await bob.channel("general")).iri, "5") }),
      });
      assert.equal(response.status, 429);
      assert.ok(Number(response.headers.get("retry-after")) > 0);
      assert.match((await response.json()).message, /try again in/);
      assert.equal(await count(h, "rate_windows", `key = '${bob.did}'`), 1, "the window is stored");
      await moderator.post("general", "moderators are exempt from the rate limit");
      await owner.moderationSettings({ rateLimit: null });
      await bob.post("general", "limit lifted");
    });

    await t.step("slow mode and settings are for those allowed to set them", async () => {
      const before = await snapshotCounts(h);
      await refused(alice.setSlowMode("general", 10), 403, /no capability to set slow mode/);
      await refused(
        moderator.moderationSettings({ minimumDidAge: 60 }),
        403,
        /change the community's settings/,
      );
      await refused(owner.moderationSettings({ rateLimit: { messages: 0, seconds: 5 } }), 422, /messages/);
      await refused(owner.setSlowMode("general", 999999), 422, /seconds/);
      assert.deepEqual(await snapshotCounts(h), before);
    });
  },
});

Deno.test({
  name: "raid detection: joins over the threshold lock joining and alert moderators; an admin unlocks",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const moderator = await memberOf(instance, owner);
    await owner.assignRole(moderator.did, "moderator");
    await owner.moderationSettings({ raidProtection: { joins: 2, seconds: 60 } });
    const invite = await owner.createInvite({ maxUses: 100 });
    const newcomers = await Promise.all([1, 2, 3, 4].map(() => newClient(instance)));
    await newcomers[0].join(invite.code);
    await newcomers[1].join(invite.code);
    const before = await count(h, "quads", `graph = '${h.iris.community}'`);
    await refused(newcomers[2].join(invite.code), 403, /joining is locked/);
    await refused(newcomers[3].join(invite.code), 403, /joining is locked/);
    assert.equal(await count(h, "quads", `graph = '${h.iris.community}'`), before, "no membership written");
    const state = await moderator.moderation();
    assert.ok(state.joinsLocked, "joins are locked");
    const alert = state.alerts.find((a) => a.kind === "raid" && !a.resolved);
    assert.ok(alert, "moderators see a raid alert");
    assert.match(alert.summary, /3 join attempts/);
    const log = await owner.auditLog();
    const lock = log.find((e) => e.action === "lock-joins")!;
    assert.equal(
      lock.actor,
      (await owner.request<{ did: string }>("GET", "/community")).did,
      "the community locked",
    );
    await refused(moderator.unlockJoins(), 403, /change the community's settings/);
    await owner.unlockJoins();
    const after = await moderator.moderation();
    assert.equal(after.joinsLocked, null);
    assert.ok(after.alerts.every((a) => a.resolved), "unlocking answers the alert");
    await newcomers[2].join(invite.code);
  },
});

Deno.test({
  name:
    "minimum DID age: a DID first seen moments ago may not join or post yet, and is told how long to wait",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const member = await memberOf(instance, owner);
    await owner.moderationSettings({ minimumDidAge: 3 });
    const fresh = await newClient(instance);
    const invite = await owner.createInvite({ maxUses: 5 });
    const before = await snapshotCounts(h);
    await refused(
      fresh.join(invite.code),
      403,
      /new identities must wait before joining: you can join in [1-3] seconds?/,
    );
    await refused(member.post("general", "too soon"), 403, /you can post in [1-3] seconds?/);
    assert.deepEqual(await snapshotCounts(h), before);
    await owner.post("general", "the owner holds moderation actions: exempt");
    await new Promise((r) => setTimeout(r, 3100));
    await fresh.join(invite.code);
    await member.post("general", "old enough now");
  },
});
