/** `harmony role assign | delegate | capabilities | capability revoke`, as the real CLI. */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { memberOf, startTestInstance } from "../helpers/instance.ts";
import { harmonyProcess as harmony } from "../helpers/cli.ts";

Deno.test({
  name: "the CLI assigns roles and delegates narrow capabilities, and shows their chains",
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
    const admin = await memberOf(instance, owner);
    const cli = (...args: string[]) => harmony(["--server", instance.origin, "--identity", file, ...args]);

    const assigned = await cli("role", "assign", admin.did, "admin");
    assert.equal(assigned.code, 0, assigned.stderr);
    await admin.createChannel("by-the-new-admin");

    const bot = await identityFileFromMnemonic(generateMnemonic());
    const botFile = `${instance.dir}/bot.json`;
    await Deno.writeTextFile(botFile, JSON.stringify(bot));
    const outsider = await cli("delegate", bot.did, "--actions", "post");
    assert.equal(outsider.code, 1, "a DID that is neither a member nor a bot receives nothing");
    assert.match(outsider.stderr, /not a member here/);
    const registered = await cli("bot", "register", botFile, "--name", "Greeter");
    assert.equal(registered.code, 0, registered.stderr);
    const listedBots = await cli("bots");
    assert.match(listedBots.stdout, /Greeter/);
    const delegated = await cli(
      "delegate",
      bot.did,
      "--actions",
      "post",
      "--channel",
      "general",
      "--expires",
      "2099-01-01",
    );
    assert.equal(delegated.code, 0, delegated.stderr);
    const id = /capability (urn:uuid:[0-9a-f-]+)/.exec(delegated.stdout)![1];
    const botClient = new HarmonyClient(instance.origin, await signerFromIdentityFile(bot));
    await botClient.signIn();
    await botClient.post("general", "a bot, on the owner's behalf");

    const listed = await cli("capabilities", admin.did, "--json");
    const report = JSON.parse(listed.stdout);
    const role = report.held.find((c: { role: string | null }) => c.role?.endsWith("/admin"));
    assert.equal(role.chain.length, 3, "root → owner → admin");
    assert.equal(role.chain[2].delegatedBy, identity.did);

    assert.equal((await cli("capability", "revoke", id)).code, 0);
    await assert.rejects(() => botClient.post("general", "revoked"), /no capability to post/);
    const escalate = await cli("delegate", bot.did, "--actions", "not-an-action");
    assert.equal(escalate.code, 1);
    assert.match(escalate.stderr, /^harmony: /);
  },
});
