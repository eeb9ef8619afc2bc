/** Bans, timeouts, slow mode, rate windows and the raid lock live in the database, not in memory. */
import assert from "node:assert/strict";
import { loadConfig } from "../../server/config.ts";
import { startInstance } from "../../server/instance.ts";
import { memberOf, newClient } from "../helpers/instance.ts";
import { freePort } from "../helpers/partition.ts";
import { refused } from "./support.ts";

Deno.test({
  name: "bans, timeouts, slow mode, rate windows and the raid lock survive a restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "harmony-moderation-" });
    const port = freePort();
    const env = {
      PORT: String(port),
      HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
      DATABASE_URL: `file:${dir}/h.db`,
    };
    try {
      let instance = await startInstance(loadConfig(env), { log: () => {} });
      const owner = await newClient(instance);
      await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
      const banned = await memberOf(instance, owner);
      const timedOut = await memberOf(instance, owner);
      const slow = await memberOf(instance, owner);
      const limited = await memberOf(instance, owner);
      const newcomer = await newClient(instance);
      await owner.createChannel("limited");
      await owner.ban(banned.did, "for good");
      await owner.timeout(timedOut.did, 3600);
      await owner.setSlowMode("general", 600);
      await owner.moderationSettings({
        rateLimit: { messages: 2, seconds: 3600 },
        raidProtection: { joins: 100, seconds: 60 },
      });
      await slow.post("general", "just before the restart");
      await limited.post("limited", "one");
      await owner.lockJoins();
      await instance.close();

      instance = await startInstance(loadConfig(env), { log: () => {} });
      for (const client of [owner, banned, timedOut, slow, limited, newcomer]) await client.signIn();
      const invite = await owner.createInvite({ maxUses: 10 });
      await refused(banned.join(invite.code), 403, /you are banned from this community: for good/);
      await refused(
        timedOut.post("general", "still?"),
        403,
        /timed out and cannot post for another (59 minutes|1 hour)/,
      );
      // Slow mode remembers the last post (from message_index): about ten minutes to wait.
      const wait = await refused(
        slow.post("general", "again"),
        429,
        /slow mode is on in #general: wait (9|10) minutes/,
      );
      assert.ok(wait.retryAfter! > 500, `Retry-After ${wait.retryAfter}`);
      // The rate window remembers the first post: one more, then refused.
      await limited.post("limited", "two");
      await refused(limited.post("limited", "three"), 429, /posting too fast/);
      await refused(newcomer.join(invite.code), 403, /joining is locked/);
      const state = await owner.moderation();
      assert.ok(state.joinsLocked);
      assert.deepEqual(state.settings.rateLimit, { messages: 2, seconds: 3600 });
      assert.deepEqual(state.slowMode.map((s) => [s.name, s.seconds]), [["general", 600]]);
      assert.equal((await owner.verifyAudit()).ok, true, "the audit log verifies after the restart");
      await owner.unlockJoins();
      await newcomer.join(invite.code);
      await instance.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
