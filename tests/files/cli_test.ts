/** `harmony upload` and `harmony post --file`, run as real subprocesses against a real instance. */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { PNG } from "./support.ts";
import { harmonyProcess as harmony } from "../helpers/cli.ts";

Deno.test({
  name: "harmony upload prints a descriptor; harmony post --file attaches a file to a signed message",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const dir = await Deno.makeTempDir({ prefix: "harmony-files-cli-" });
    try {
      const identity = await identityFileFromMnemonic(generateMnemonic());
      const identityPath = `${dir}/owner.json`;
      await Deno.writeTextFile(identityPath, JSON.stringify(identity), { mode: 0o600 });
      const owner = new HarmonyClient(instance.origin, await signerFromIdentityFile(identity));
      await owner.signIn();
      await owner.claim(instance.claimUrl!.split("/claim/")[1]);
      const as = (...args: string[]) =>
        harmony(["--server", instance.origin, "--identity", identityPath, ...args]);
      await Deno.writeFile(`${dir}/dot.png`, PNG);
      await Deno.writeTextFile(`${dir}/notes.txt`, "plain notes\n");

      const uploaded = await as("upload", `${dir}/dot.png`, "--channel", "general");
      assert.equal(uploaded.code, 0, uploaded.stderr);
      const descriptor = JSON.parse(uploaded.stdout);
      assert.equal(descriptor.name, "dot.png");
      assert.equal(descriptor.mediaType, "image/png");

      const posted = await as("post", "general", "notes attached", "--file", `${dir}/notes.txt`);
      assert.equal(posted.code, 0, posted.stderr);
      const id = posted.stdout.trim();
      const message = await owner.message(id);
      assert.equal(message.attachments?.length, 1);
      assert.equal(message.attachments![0].name, "notes.txt");
      assert.equal(message.attachments![0].mediaType, "text/plain");
      assert.ok(message.signed.message?.attachment, "the signed message carries the descriptor");
      assert.equal(await (await fetch(message.attachments![0].url)).text(), "plain notes\n");

      // A file alone is a message too; a missing file is one clear line.
      const alone = await as("post", "general", "--file", `${dir}/dot.png`);
      assert.equal(alone.code, 0, alone.stderr);
      const missing = await as("upload", `${dir}/nope.bin`, "--channel", "general");
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^harmony: cannot read .*nope\.bin/);
      const noChannel = await as("upload", `${dir}/dot.png`);
      assert.equal(noChannel.code, 2);
      // Over the community's limit: refused by the server.
      await owner.setFileLimits({ maxFileSize: 1024 });
      await Deno.writeFile(`${dir}/big.bin`, new Uint8Array(5000));
      const big = await as("post", "general", "big", "--file", `${dir}/big.bin`);
      assert.equal(big.code, 1);
      assert.match(big.stderr, /larger than this community's limit of 1 KB/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
