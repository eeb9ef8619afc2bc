/** `harmony bridge …` and `harmony channel state`, run as the real CLI against two instances. */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { eventually, startNode } from "./support.ts";
import { harmonyProcess as harmony } from "../helpers/cli.ts";

Deno.test({
  name: "admins bridge two channels with the CLI: offer, install, list, state, revoke",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await startNode("a");
    await using b = await startNode("b");
    const dir = await Deno.makeTempDir({ prefix: "harmony-cli-bridge-" });
    try {
      const owners: Record<string, { client: HarmonyClient; file: string }> = {};
      for (const [name, node] of Object.entries({ a, b })) {
        const identity = await identityFileFromMnemonic(generateMnemonic());
        const file = `${dir}/${name}.json`;
        await Deno.writeTextFile(file, JSON.stringify(identity));
        const client = new HarmonyClient(node.direct, await signerFromIdentityFile(identity));
        await client.signIn();
        await client.request("POST", "/claim", { token: node.instance.claimUrl!.split("/claim/")[1] });
        await client.createChannel("shared");
        owners[name] = { client, file };
      }
      const cli = (name: "a" | "b", ...args: string[]) =>
        harmony(["--server", { a, b }[name].direct, "--identity", owners[name].file, ...args]);
      const actorOf = async (name: "a" | "b") =>
        `${{ a, b }[name].link.origin}/ap/actors/${(await owners[name].client.channel("shared")).id}`;

      const capabilityFile = `${dir}/for-a.json`;
      const offered = await cli(
        "b",
        "bridge",
        "offer",
        "shared",
        "--to",
        await actorOf("a"),
        "--expires",
        "30d",
        "--out",
        capabilityFile,
      );
      assert.equal(offered.code, 0, offered.stderr);
      const capability = JSON.parse(await Deno.readTextFile(capabilityFile));
      assert.equal(capability.controller, await actorOf("a"));
      assert.ok(Date.parse(capability.expires) - Date.now() > 29 * 86400_000);

      const installed = await cli("a", "bridge", "install", capabilityFile);
      assert.equal(installed.code, 0, installed.stderr);
      const listed = await cli("a", "bridge", "list");
      assert.match(listed.stdout, /installed/);
      assert.match(listed.stdout, new RegExp(capability.id));

      // The other way round, straight through stdin-less files too.
      const back = await cli("a", "bridge", "offer", "shared", "--to", await actorOf("b"));
      assert.equal(back.code, 0, back.stderr);
      const backFile = `${dir}/for-b.json`;
      await Deno.writeTextFile(backFile, back.stdout);
      assert.equal((await cli("b", "bridge", "install", backFile)).code, 0);

      await owners.a.client.post("shared", "over the bridge");
      await eventually(
        "the message to reach b",
        async () =>
          (await owners.b.client.history("shared")).messages.some((m) => m.content === "over the bridge"),
      );
      const stateA = await cli("a", "channel", "state", "shared", "--json");
      await eventually(
        "the same state on both sides",
        async () =>
          JSON.parse((await cli("b", "channel", "state", "shared", "--json")).stdout).hash ===
            JSON.parse(stateA.stdout).hash,
      );

      const revoked = await cli("b", "bridge", "revoke", capability.id);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match((await cli("b", "bridge", "list")).stdout, /revoked/);
      const refused = await cli("a", "bridge", "offer", "shared", "--to", "not a url");
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^harmony: .+\n$/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
