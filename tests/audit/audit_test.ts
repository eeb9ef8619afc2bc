/**
 * The audit log: every moderation and role action, hash-chained and
 * signed, readable by members, checked whole by the server and by
 * `harmony audit verify`; altering, deleting or forging an entry makes the
 * check fail exactly at that entry.
 */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { canonicalize } from "../../server/crypto/jcs.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { type AuditEntry, entryHash, entryIri } from "../../server/audit/chain.ts";
import { signAction } from "../../server/documents/documents.ts";
import type { Harmony } from "../../server/harmony.ts";
import { rebuildIndexes } from "../../server/exchange/indexes.ts";
import { claimedInstance, memberOf, newClient, startTestInstance } from "../helpers/instance.ts";
import { refused } from "../moderation/support.ts";

const root = new URL("../..", import.meta.url).pathname;

async function harmonyCli(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/harmony.ts", ...args],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** A community where every kind of action happened once. */
async function busyCommunity(instance: { origin: string }, owner: HarmonyClient) {
  const admin = await memberOf(instance, owner);
  const moderator = await memberOf(instance, owner);
  const alice = await memberOf(instance, owner);
  const bob = await memberOf(instance, owner);
  await owner.assignRole(admin.did, "admin"); // role-assign (the delegation is the evidence)
  await admin.assignRole(moderator.did, "moderator");
  await owner.createRole("Helper", ["post", "read"]); // role-create
  await owner.updateRole("helper", { name: "Helper", actions: ["post", "read", "react"] }); // role-update
  await owner.deleteRole("helper"); // role-delete
  await moderator.timeout(alice.did, 60, "calm down"); // timeout
  await moderator.setSlowMode("general", 5); // slow-mode
  const post = await bob.post("general", "off topic");
  await moderator.delete(post); // delete-message (the signed Delete is the evidence)
  await moderator.kick(bob.did); // kick
  const mallory = await newClient(instance);
  await moderator.ban(mallory.did, "raid account"); // ban
  await moderator.unban(mallory.did); // unban
  await owner.moderationSettings({ rateLimit: { messages: 10, seconds: 10 } }); // moderation-settings
  const bot = await newClient(instance);
  await owner.registerBot(bot.signer!, "Helper"); // bot-register
  const held = await owner.delegate(bot.did, ["post"]);
  await owner.revokeCapability(held.id); // capability-revoke
  await owner.removeRole(moderator.did, "moderator"); // role-remove (cascades nothing: admin delegated it)
  await owner.transferOwnership(admin.did); // transfer-ownership
  return { admin, moderator, alice, bob };
}

async function rows(h: Harmony): Promise<Array<{ seq: number; action: string; target: string }>> {
  return await h.db.all(sql`SELECT seq, action, target FROM audit_log ORDER BY seq`);
}

Deno.test({
  name: "audit log: every moderation and role action is appended, chained and signed by its actor",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const { alice } = await busyCommunity(instance, owner);

    await t.step(
      "the log holds each action in order, with actor, target, capability and signature",
      async () => {
        const entries = await alice.auditLog();
        assert.deepEqual(entries.map((e) => e.action), [
          "role-assign",
          "role-assign",
          "role-create",
          "role-update",
          "role-delete",
          "timeout",
          "slow-mode",
          "delete-message",
          "kick",
          "ban",
          "unban",
          "moderation-settings",
          "bot-register",
          "capability-revoke",
          "role-remove",
          "transfer-ownership",
        ]);
        entries.forEach((e, i) => {
          assert.equal(e.seq, i + 1);
          assert.ok(e.capability, `entry ${e.seq} names the capability invoked`);
          assert.equal(e.prevHash.length, 64);
        });
        assert.equal(
          entries[0].evidence.proof && (entries[0].evidence.proof as { proofPurpose: string }).proofPurpose,
          "capabilityDelegation",
        );
        assert.equal(entries[7].evidence.type, "Delete");
        assert.equal(entries[5].arguments?.reason, "calm down");
      },
    );

    await t.step("members read it; outsiders do not", async () => {
      const outsider = await newClient(instance);
      await refused(outsider.auditPage(), 403, /only members/);
      const page = await alice.auditPage(0, 5);
      assert.equal(page.entries.length, 5);
      assert.equal(page.next, 5);
      assert.equal(page.head?.seq, 16);
    });

    await t.step("the whole log verifies, here and on the server", async () => {
      const local = await alice.verifyAudit();
      assert.equal(local.ok, true, JSON.stringify(local.failure));
      assert.equal(local.entries, 16);
      const remote = await alice.serverAuditVerification();
      assert.equal(remote.ok, true, JSON.stringify(remote.failure));
      assert.deepEqual(remote.head, local.head);
    });

    await t.step(
      "a role change without the actor's signed action is refused and leaves nothing written",
      async () => {
        await owner.createRole("Greeter", ["post"]);
        const before = (await alice.auditLog()).length;
        await refused(owner.request("DELETE", `/roles/greeter`), 422, /send the action you signed/);
        const wrongTarget = await owner.signedAction("role-delete", `${instance.origin}/roles/moderator`);
        await refused(
          owner.request("DELETE", `/roles/greeter`, { action: wrongTarget }),
          422,
          /another target/,
        );
        assert.ok((await owner.roles()).some((r) => r.slug === "greeter"), "the role is still there");
        assert.equal((await alice.auditLog()).length, before);
        await owner.deleteRole("greeter");
        assert.equal((await alice.verifyAudit()).ok, true);
      },
    );

    await t.step("the log table is derived: rebuilt from the quads, it is the same log", async () => {
      const before = await alice.serverAuditVerification();
      await instance.harmony.database.write((tx) => rebuildIndexes(tx));
      const after = await alice.serverAuditVerification();
      assert.equal(after.ok, true, JSON.stringify(after.failure));
      assert.deepEqual(after.head, before.head);
    });
  },
});

Deno.test({
  name: "audit log: altering, deleting or forging an entry makes verification fail exactly there",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using instance = await startTestInstance();
    const h = instance.harmony;
    const identity = await identityFileFromMnemonic(generateMnemonic());
    const file = `${instance.dir}/owner.json`;
    await Deno.writeTextFile(file, JSON.stringify(identity));
    const owner = new HarmonyClient(instance.origin, await signerFromIdentityFile(identity));
    await owner.signIn();
    await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    const { alice } = await busyCommunity(instance, owner);
    const cli = (...args: string[]) => harmonyCli(["--server", instance.origin, "--identity", file, ...args]);
    const all = await rows(h);
    const kick = all.find((r) => r.action === "kick")!;

    const failsAt = async (seq: number, reason: RegExp) => {
      const local = await alice.verifyAudit();
      assert.equal(local.ok, false);
      assert.equal(local.failure!.seq, seq, local.failure!.reason);
      assert.match(local.failure!.reason, reason);
      assert.equal(local.checked, seq - 1, "every entry before it verified");
      const remote = await alice.serverAuditVerification();
      assert.equal(remote.ok, false);
      assert.equal(remote.failure!.seq, seq, remote.failure!.reason);
    };
    const verifies = async () => {
      assert.equal((await alice.verifyAudit()).ok, true);
      assert.equal((await alice.serverAuditVerification()).ok, true);
    };

    await t.step("the CLI verifies the intact log", async () => {
      const result = await cli("audit", "verify");
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`verifies: ${all.length} entries`));
    });

    await t.step("altering an entry's target in the database fails at that entry", async () => {
      await h.db.run(sql`UPDATE audit_log SET target = ${alice.did} WHERE seq = ${kick.seq}`);
      await failsAt(kick.seq, /altered/);
      const result = await cli("audit", "verify");
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`fails at entry #${kick.seq}:`));
      await h.db.run(sql`UPDATE audit_log SET target = ${kick.target} WHERE seq = ${kick.seq}`);
      await verifies();
    });

    await t.step("altering an entry's action fails at that entry", async () => {
      await h.db.run(sql`UPDATE audit_log SET action = 'timeout' WHERE seq = ${kick.seq}`);
      await failsAt(kick.seq, /altered/);
      await h.db.run(sql`UPDATE audit_log SET action = ${kick.action} WHERE seq = ${kick.seq}`);
      await verifies();
    });

    await t.step(
      "altering an entry's quads (the source of truth) fails at that entry on the server",
      async () => {
        const subject = entryIri(h.config.origin, kick.seq);
        await h.db.run(sql`UPDATE quads SET object = ${alice.did}
        WHERE subject = ${subject} AND predicate = 'https://w3id.org/harmony/ns#target'`);
        const remote = await alice.serverAuditVerification();
        assert.equal(remote.failure?.seq, kick.seq, JSON.stringify(remote));
        assert.match(remote.failure!.reason, /differs from its quads/);
        await h.db.run(sql`UPDATE quads SET object = ${kick.target}
        WHERE subject = ${subject} AND predicate = 'https://w3id.org/harmony/ns#target'`);
        await verifies();
      },
    );

    await t.step("deleting an entry fails at that entry", async () => {
      const [saved] = await h.db.all<Record<string, unknown>>(sql`SELECT * FROM audit_log WHERE seq = 3`);
      await h.db.run(sql`DELETE FROM audit_log WHERE seq = 3`);
      await failsAt(3, /entry 3 is missing/);
      const result = await cli("audit", "verify");
      assert.equal(result.code, 1);
      assert.match(result.stderr, /fails at entry #3: entry 3 is missing/);
      const columns = Object.keys(saved);
      await h.db.run(sql.raw(
        `INSERT INTO audit_log (${columns.join(", ")}) VALUES (${
          columns.map((c) => saved[c] === null ? "NULL" : `'${String(saved[c]).replaceAll("'", "''")}'`).join(
            ", ",
          )
        })`,
      ));
      await verifies();
    });

    await t.step(
      "a forged signature fails at that entry, even with the chain recomputed after it",
      async () => {
        // Mallory rewrites the kick as if she had signed it, and rebuilds every hash from there on.
        const mallory = await newClient(instance);
        const entries = await alice.auditLog();
        const target = entries.find((e) => e.seq === kick.seq)!;
        const forgedEvidence = await signAction(mallory.signer!, {
          action: target.action,
          target: target.target,
          community: (await alice.community()).iri,
        });
        const rewritten: AuditEntry[] = [];
        let previous = entries.find((e) => e.seq === kick.seq - 1)!;
        for (const entry of entries.filter((e) => e.seq >= kick.seq)) {
          const next = {
            ...entry,
            actor: entry.seq === kick.seq ? target.actor : entry.actor,
            evidence: entry.seq === kick.seq
              ? { ...forgedEvidence, actor: target.actor } as unknown as Record<string, unknown>
              : entry.evidence,
            prevHash: previous.hash,
          };
          const hashed = { ...next, hash: await entryHash(next) };
          rewritten.push(hashed);
          previous = hashed;
        }
        for (const e of rewritten) {
          await h.db.run(
            sql`UPDATE audit_log SET evidence = ${JSON.stringify(e.evidence)}, prev_hash = ${e.prevHash},
          hash = ${e.hash} WHERE seq = ${e.seq}`,
          );
        }
        const local = await alice.verifyAudit();
        assert.equal(local.failure?.seq, kick.seq, JSON.stringify(local.failure));
        assert.match(local.failure!.reason, /signature/);
        // Signed honestly by mallory instead: the signature holds, but it is not the actor's.
        const honest = { ...rewritten[0], evidence: forgedEvidence as unknown as Record<string, unknown> };
        const honestHash = await entryHash(honest);
        await h.db.run(
          sql`UPDATE audit_log SET evidence = ${canonicalize(forgedEvidence)}, hash = ${honestHash}
        WHERE seq = ${kick.seq}`,
        );
        const again = await alice.verifyAudit();
        assert.equal(again.failure?.seq, kick.seq);
        assert.match(again.failure!.reason, /signed by .*, not by the entry's actor/);
      },
    );
  },
});

Deno.test({
  name: "audit log: a moderator's deletion is logged in the writer's transaction, on its worker thread too",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const alice = await memberOf(instance, owner);
    const channel = await alice.channel("general");
    const docs = await Promise.all(
      Array.from({ length: 200 }, (_, i) => alice.signedMessage(channel.iri, `m${i}`)),
    );
    const posted = await Promise.all(
      docs.map((message) =>
        alice.request<{ id: string; channel: string }>("POST", `/channels/${channel.id}/messages`, {
          message,
        })
      ),
    );
    assert.ok(h.ops.usingWorker, "the burst moved the writer to its worker thread");
    const targets = posted.slice(0, 20);
    await Promise.all(targets.map((m) => owner.delete(m as never)));
    assert.ok(h.ops.usingWorker, "the deletions were written by the worker");
    const entries = (await owner.auditLog()).filter((e) => e.action === "delete-message");
    assert.deepEqual(entries.map((e) => e.target).sort(), targets.map((m) => m.id).sort());
    assert.ok(entries.every((e) => e.arguments?.author === alice.did && e.evidence.type === "Delete"));
    assert.equal((await owner.verifyAudit()).ok, true);
    assert.equal((await owner.serverAuditVerification()).ok, true);
  },
});
