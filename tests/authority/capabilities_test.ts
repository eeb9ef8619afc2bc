/**
 * Who may do what is decided by capability chains from the community's
 * root, checked on every request against the action and the exact target.
 */
import assert from "node:assert/strict";
import { ApiError, type HarmonyClient } from "../../cli/client.ts";
import { signDelegation } from "../../server/documents/documents.ts";
import type { DelegatedCapability } from "../../server/documents/documents.ts";
import { loadConfig } from "../../server/config.ts";
import { startInstance } from "../../server/instance.ts";
import { claimedInstance, memberOf, newClient } from "../helpers/instance.ts";
import { freePort } from "../helpers/partition.ts";

async function refused(promise: Promise<unknown>, status: number, pattern?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, status, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

async function heldFor(client: HarmonyClient, action: string) {
  const { held } = await client.capabilities();
  return held.find((c) => c.actions.includes(action))!;
}

Deno.test({
  name: "capabilities: roles are delegation chains, checked against action and target, revoked at once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const admin = await memberOf(instance, owner);
    const moderator = await memberOf(instance, owner);
    const member = await memberOf(instance, owner);
    const announcements = await owner.createChannel("announcements");
    const community = (await owner.community()).iri;

    await t.step(
      "the owner holds a capability from the community's root; members hold the member one",
      async () => {
        const { held } = await owner.capabilities();
        assert.equal(held.length, 1);
        assert.equal(held[0].chain.length, 2, "root, then the owner's capability");
        assert.ok(held[0].actions.includes("transfer-ownership"));
        const mine = await member.capabilities();
        assert.deepEqual(mine.held[0].actions.sort(), ["delete-own", "edit-own", "post", "react", "read"]);
      },
    );

    await t.step("a member without the capability is refused with the reason (403)", async () => {
      await refused(member.createChannel("nope"), 403, /no capability to manage channels/);
      const outsider = await newClient(instance);
      await refused(outsider.post("general", "hi"), 403, /no capability to post messages/);
    });

    await t.step("owner to admin to moderator: a three-link chain that works", async () => {
      await owner.assignRole(admin.did, "admin");
      await admin.createChannel("made-by-admin");
      await admin.assignRole(moderator.did, "moderator");
      const { held } = await moderator.capabilities();
      const role = held.find((c) => c.role?.endsWith("/moderator"))!;
      assert.equal(role.chain.length, 4, "root → owner → admin → moderator");
      assert.equal(role.chain[2].holder, admin.did);
      const post = await member.post("general", "moderate me");
      await moderator.delete(post);
      await refused(moderator.createChannel("nope"), 403);
    });

    await t.step("a delegation can never grant more than its parent", async () => {
      const parent = await heldFor(admin, "manage-channels");
      const escalation = await signDelegation(admin.signer!, {
        parent: parent.capability as DelegatedCapability,
        controller: member.did,
        invocationTarget: community,
        allowedAction: ["post", "export"],
        expires: parent.expires,
      });
      await refused(admin.request("POST", "/capabilities", { delegation: escalation }), 403, /allowedAction/);
      const later = await signDelegation(admin.signer!, {
        parent: parent.capability as DelegatedCapability,
        controller: member.did,
        invocationTarget: community,
        allowedAction: ["post"],
        expires: new Date(Date.parse(parent.expires) + 86400_000).toISOString(),
      });
      await refused(admin.request("POST", "/capabilities", { delegation: later }), 403, /expires/);
      // Delegating from a capability one does not hold is refused too.
      const notMine = await signDelegation(member.signer!, {
        parent: parent.capability as DelegatedCapability,
        controller: member.did,
        invocationTarget: community,
        allowedAction: ["post"],
        expires: parent.expires,
      });
      await refused(member.request("POST", "/capabilities", { delegation: notMine }), 403);
      assert.equal((await member.capabilities()).held.length, 1, "nothing was stored");
    });

    await t.step("a role's actions are exactly what the role says", async () => {
      const parent = await heldFor(owner, "manage-roles");
      const tooMuch = await signDelegation(owner.signer!, {
        parent: parent.capability as DelegatedCapability,
        controller: member.did,
        invocationTarget: community,
        allowedAction: [...(await owner.roles()).find((r) => r.slug === "moderator")!.actions, "export"],
        expires: parent.expires,
      });
      await refused(
        owner.request("POST", `/members/${encodeURIComponent(member.did)}/roles`, {
          role: "moderator",
          delegation: tooMuch,
        }),
        422,
        /exactly/,
      );
    });

    await t.step("a member delegates a narrow capability to a bot: one channel, some actions", async () => {
      const bot = await newClient(instance);
      await owner.registerBot(bot.signer!, "Announcer");
      // Members hold post; the owner delegates posting in #announcements only.
      const held = await owner.delegate(bot.did, ["post"], {
        channel: "announcements",
        expires: new Date(Date.now() + 86400_000).toISOString(),
      });
      assert.ok(held.target.endsWith(`/channels/${announcements.id}`));
      await bot.post("announcements", "on behalf of the owner");
      await refused(bot.post("general", "not here"), 403, /no capability to post messages in #general/);
      await refused(bot.createChannel("nope"), 403);
      // Revocation takes effect on the very next request.
      await owner.revokeCapability(held.id);
      await refused(bot.post("announcements", "after revocation"), 403);
    });

    await t.step("revoking a link revokes everything delegated through it, at once", async () => {
      const before = await moderator.capabilities();
      assert.ok(before.held.some((c) => c.role?.endsWith("/moderator")));
      await owner.removeRole(admin.did, "admin");
      const after = await moderator.capabilities();
      assert.ok(
        !after.held.some((c) => c.role?.endsWith("/moderator")),
        "the moderator's chain ran through the admin",
      );
      const post = await member.post("general", "still here");
      await refused(moderator.delete(post), 403);
    });

    await t.step("a capability expires on time", async () => {
      const bot = await newClient(instance);
      await owner.registerBot(bot.signer!, "Short-lived");
      const parent = await heldFor(owner, "post");
      const soon = await signDelegation(owner.signer!, {
        parent: parent.capability as DelegatedCapability,
        controller: bot.did,
        invocationTarget: community,
        allowedAction: ["post"],
        expires: new Date(Date.now() + 1500).toISOString(),
      });
      await owner.request("POST", "/capabilities", { delegation: soon });
      await bot.post("general", "while it lasts");
      await new Promise((r) => setTimeout(r, 1600));
      await refused(bot.post("general", "too late"), 403);
    });

    await t.step(
      "a moderator cannot act against an admin: removing the role of a member one does not outrank",
      async () => {
        await owner.assignRole(admin.did, "admin");
        await owner.assignRole(moderator.did, "moderator");
        const helper = await memberOf(instance, owner);
        await owner.createRole("Roles helper", ["manage-roles", "post", "read"]);
        await owner.assignRole(helper.did, "roles-helper");
        await refused(helper.removeRole(admin.did, "admin"), 403, /outrank/);
      },
    );

    await t.step("handing ownership over keeps everyone's roles in force", async () => {
      await owner.transferOwnership(admin.did);
      assert.ok((await admin.capabilities()).held.some((c) => c.actions.includes("transfer-ownership")));
      assert.ok(!(await owner.capabilities()).held.some((c) => c.actions.includes("transfer-ownership")));
      await owner.createChannel("former-owner-is-admin");
      assert.ok((await moderator.capabilities()).held.some((c) => c.role?.endsWith("/moderator")));
    });
  },
});

Deno.test({
  name: "capabilities survive a restart, and so do revocations",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "harmony-authority-" });
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
      const admin = await memberOf(instance, owner);
      const bot = await newClient(instance);
      await owner.assignRole(admin.did, "admin");
      await owner.registerBot(bot.signer!, "Restarted");
      const held = await owner.delegate(bot.did, ["post"], {
        expires: new Date(Date.now() + 86400_000).toISOString(),
      });
      await owner.revokeCapability(held.id);
      await instance.close();

      instance = await startInstance(loadConfig(env), { log: () => {} });
      await admin.signIn();
      await bot.signIn();
      await admin.createChannel("after-restart");
      await refused(bot.post("general", "revoked before the restart"), 403);
      await instance.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
