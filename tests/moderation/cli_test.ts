/** `harmony kick | ban | unban | bans | timeout | slowmode | moderation … | audit …`, as the real CLI. */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { memberOf, newClient, startTestInstance } from "../helpers/instance.ts";
import { refused } from "./support.ts";
import { harmonyProcess as harmony } from "../helpers/cli.ts";

Deno.test({
  name: "the CLI moderates with signed actions and reads the moderation log",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const identity = await identityFileFromMnemonic(generateMnemonic());
    const file = `${instance.dir}/owner.json`;
    await Deno.writeTextFile(file, JSON.stringify(identity));
    const owner = new HarmonyClient(instance.origin, await signerFromIdentityFile(identity));
    await owner.signIn();
    await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    const alice = await memberOf(instance, owner);
    const bob = await memberOf(instance, owner);
    const stranger = await newClient(instance);
    const cli = async (...args: string[]) => {
      const result = await harmony(["--server", instance.origin, "--identity", file, ...args]);
      return result;
    };
    const ok = async (...args: string[]) => {
      const result = await cli(...args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };

    assert.match(await ok("timeout", alice.did, "10m", "--reason", "cool off"), /Timed .* out until/);
    await refused(alice.post("general", "hi"), 403, /timed out/);
    assert.match(await ok("timeout", alice.did, "0"), /Lifted/);
    await alice.post("general", "hi again");

    assert.match(await ok("slowmode", "general", "30s"), /Slow mode in #general: 30s/);
    // alice posted moments ago: slow mode counts from her last post.
    await refused(alice.post("general", "two"), 429, /slow mode/);
    await ok("slowmode", "general", "off");

    assert.match(await ok("kick", bob.did, "--reason", "test"), /Kicked/);
    assert.match(await ok("ban", stranger.did, "--reason", "spam"), /Banned/);
    assert.match(await ok("bans"), /spam/);
    assert.match(await ok("unban", stranger.did), /Unbanned/);

    await ok("moderation", "set", "--rate-limit", "5/10s", "--raid", "20/1m", "--min-age", "1h");
    const shown = await ok("moderation", "show");
    assert.match(shown, /Rate limit:\s+5\/10s/);
    assert.match(shown, /Raid protection:\s+lock after 20 joins in 1m/);
    assert.match(shown, /Minimum DID age:\s+1h/);
    await ok("moderation", "set", "--rate-limit", "off", "--raid", "off", "--min-age", "0");
    await ok("moderation", "lock");
    assert.match(await ok("moderation", "show"), /Joining:\s+LOCKED/);
    await ok("moderation", "unlock");

    const log = await ok("audit", "log");
    for (
      const action of ["timeout", "slow-mode", "kick", "ban", "unban", "moderation-settings", "lock-joins"]
    ) {
      assert.match(log, new RegExp(`\\b${action}\\b`));
    }
    const entries = JSON.parse(await ok("audit", "log", "--json"));
    assert.equal(entries.length, 11);
    assert.match(await ok("audit", "verify"), /verifies: 11 entries/);

    const refusedKick = await cli("kick", owner.did);
    assert.equal(refusedKick.code, 1);
    assert.match(refusedKick.stderr, /yourself/);
    const wrong = await cli("timeout", alice.did, "soon");
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /duration/);
  },
});
