/** `harmony dm send | read | list`, as the real CLI: encrypts and decrypts locally with the identity file. */
import assert from "node:assert/strict";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { http } from "../http/support.ts";
import { joinedMember } from "./support.ts";
import { harmonyProcess as harmony } from "../helpers/cli.ts";

Deno.test({
  name:
    "the CLI sends an encrypted DM by name and reads the decrypted answer; the server holds only ciphertext",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const identity = await identityFileFromMnemonic(generateMnemonic());
    const file = `${instance.dir}/me.json`;
    await Deno.writeTextFile(file, JSON.stringify(identity));
    const me = new HarmonyClient(instance.origin, await signerFromIdentityFile(identity));
    await me.signIn();
    const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
    await me.request("POST", "/join", { invite: invite.code });
    const bob = await joinedMember(instance.origin, owner);
    await bob.client.setProfile("Bob");
    const ok = async (args: string[], stdin?: string) => {
      const result = await harmony(["--server", instance.origin, "--identity", file, ...args], { stdin });
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };

    const id = (await ok(["dm", "send", "Bob", "a secret for Bob"])).trim();
    assert.match(id, /^urn:uuid:/);
    const page = await http(instance.origin, "GET", `/api/dms/${encodeURIComponent(identity.did)}`, {
      token: bob.client.token!,
    });
    assert.ok(!page.text.includes("a secret for Bob"), "the API gives ciphertext only");
    assert.equal(await bob.open(page.json.messages[0].envelope), "a secret for Bob");

    const answer = await bob.seal(identity.did, "Bob's answer");
    await http(instance.origin, "POST", "/api/dms", { body: { envelope: answer }, token: bob.client.token! });
    assert.match(await ok(["dm", "list"]), /Bob {2}\(1 unread\)/);
    await ok(["dm", "send", bob.did, "-"], "from stdin\n");
    const read = await ok(["dm", "read", "Bob"]);
    assert.match(read, /you: a secret for Bob\n.*Bob: Bob's answer\n.*you: from stdin/s);
    assert.doesNotMatch(await ok(["dm", "list"]), /unread/);
    const json = JSON.parse(await ok(["dm", "read", bob.did, "--json", "--limit", "1"]));
    assert.equal(json.messages[0].content, "from stdin");

    const unknown = await harmony([
      "--server",
      instance.origin,
      "--identity",
      file,
      "dm",
      "send",
      "Nobody",
      "x",
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no member is named "Nobody"/);
  },
});
