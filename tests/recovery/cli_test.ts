/** `harmony recovery …`: setup, request, approve, status and cancel from the command line. */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { harmonyInProcess as harmony } from "../helpers/cli.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { claimedInstance } from "../helpers/instance.ts";

/** A member of the instance with an identity file on disk. */
async function identity(dir: string, name: string, origin: string) {
  const file = await identityFileFromMnemonic(generateMnemonic());
  const path = `${dir}/${name}.json`;
  await Deno.writeTextFile(path, JSON.stringify(file));
  const client = new HarmonyClient(origin, await signerFromIdentityFile(file));
  await client.signIn();
  return { path, did: file.did, client };
}

Deno.test("the CLI sets up guardians, asks for, approves, shows and cancels a recovery", async () => {
  const { instance, owner } = await claimedInstance({ HARMONY_RECOVERY_DELAY_SECONDS: "3600" });
  await using _ = instance;
  const dir = await Deno.makeTempDir({ prefix: "harmony-recovery-cli-" });
  try {
    const [member, g1, g2, fresh] = await Promise.all(
      ["member", "g1", "g2", "new"].map((name) => identity(dir, name, instance.origin)),
    );
    const invite = await owner.createInvite({ maxUses: 1 });
    await member.client.join(invite.code);
    const as = (who: { path: string }, ...args: string[]) =>
      harmony(["--server", instance.origin, "--identity", who.path, ...args]);

    const missing = await as(member, "recovery", "setup", "--guardian", g1.did);
    assert.equal(missing.code, 2, "no --threshold is a usage error");
    assert.match(missing.stderr, /--threshold/);
    const bad = await as(member, "recovery", "setup", "--guardian", "not-a-did", "--threshold", "1");
    assert.equal(bad.code, 2);

    const setup = await as(member, "recovery", "setup", "--guardian", g1.did, g2.did, "--threshold", "2");
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /2 of 2 guardians/);

    const requested = await as(fresh, "recovery", "request", member.did);
    assert.equal(requested.code, 0, requested.stderr);
    const id = /Request:\s+(urn:uuid:\S+)/.exec(requested.stdout)![1];
    assert.match(requested.stdout, /Status:\s+pending/);

    const first = await as(g1, "recovery", "approve", id);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Approved\./);
    assert.match((await as(g1, "recovery", "approve", id)).stdout, /already approved/);
    const second = await as(g2, "recovery", "approve", id);
    assert.match(second.stdout, /Status:\s+locked/);
    assert.match(second.stdout, /Moves at:/);

    const outsider = await as(fresh, "recovery", "approve", id);
    assert.equal(outsider.code, 1);
    assert.match(outsider.stderr, /not a guardian/);

    const status = await as(member, "recovery", "status");
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Requests to recover YOUR identity/);
    assert.ok(status.stdout.includes(id));
    assert.match((await as(g1, "recovery", "status")).stdout, /Requests you are a guardian of/);

    const cancelled = await as(member, "recovery", "cancel", id);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /Status:\s+cancelled/);
    assert.match((await as(fresh, "recovery", "status", id)).stdout, /cancelled/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
