/**
 * The `harmony` command-line client, run as a real subprocess against a
 * real instance: what it prints, what it writes, and how it fails.
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers/ports.ts";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../cli/client.ts";
import { verify } from "../server/crypto/dataIntegrity.ts";
import { verifySigned } from "../server/documents/signed.ts";
import { startTestInstance } from "./helpers/instance.ts";
import { type CliRun as Run, harmonyProcess as harmony } from "./helpers/cli.ts";

function succeeded(run: Run): string {
  assert.equal(run.code, 0, `expected success, got exit ${run.code}: ${run.stderr}`);
  return run.stdout;
}

/** The run failed with `code` and exactly one `harmony: …` line on stderr. */
function failedWithOneLine(run: Run, code: number, pattern?: RegExp): string {
  assert.equal(run.code, code, `expected exit ${code}, got ${run.code}: ${run.stdout}${run.stderr}`);
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0], /^harmony: \S/);
  if (pattern) assert.match(lines[0], pattern);
  return lines[0];
}

const didPattern = /did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+/;

function printedDid(text: string): string {
  const match = /^DID: (did:key:\S+)$/m.exec(text);
  assert.ok(match, `no DID line in:\n${text}`);
  return match[1];
}

/** The indented lines of words after "recovery phrase". */
function printedWords(text: string): string[] {
  return text.split("\n").filter((line) => /^ {2}[a-z]+( [a-z]+)+$/.test(line)).join(" ").trim().split(/\s+/);
}

Deno.test("identity create writes a 0600 file and prints its DID and 24 words; restoring them gives the same DID", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-cli-" });
  try {
    const path = `${dir}/me.json`;
    const created = succeeded(await harmony(["identity", "create", "--out", path]));
    const did = printedDid(created);
    assert.match(did, didPattern);
    const words = printedWords(created);
    assert.equal(words.length, 24);
    assert.match(created, /WRITE THESE WORDS DOWN/);

    await t.step("the file is readable by its owner only and holds the same DID", async () => {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal(JSON.parse(await Deno.readTextFile(path)).did, did);
      assert.equal(succeeded(await harmony(["identity", "show", "--identity", path])).trim(), did);
    });

    await t.step("an existing identity file is never replaced without --force", async () => {
      const before = await Deno.readTextFile(path);
      failedWithOneLine(await harmony(["identity", "create", "--out", path]), 1, /already exists/);
      assert.equal(await Deno.readTextFile(path), before);
    });

    await t.step("restore from stdin gives the same DID in a new 0600 file", async () => {
      const restored = `${dir}/restored.json`;
      const out = succeeded(
        await harmony(["identity", "restore", "--out", restored], { stdin: words.join(" ") + "\n" }),
      );
      assert.equal(printedDid(out), did);
      assert.equal((await Deno.stat(restored)).mode! & 0o777, 0o600);
    });

    await t.step("restore with --mnemonic (any case and spacing) gives the same DID", async () => {
      const mnemonic = "  " + words.join("   ").toUpperCase() + "\n";
      const out = succeeded(
        await harmony(["identity", "restore", "--out", `${dir}/again.json`, "--mnemonic", mnemonic]),
      );
      assert.equal(printedDid(out), did);
    });

    await t.step(
      "a word outside the BIP-39 list is refused in one line naming it, and no file is written",
      async () => {
        const bad = [...words.slice(0, 23), "harmonyy"].join(" ");
        const target = `${dir}/bad.json`;
        failedWithOneLine(
          await harmony(["identity", "restore", "--out", target], { stdin: bad }),
          1,
          /word 24 \("harmonyy"\)/,
        );
        await assert.rejects(Deno.stat(target), Deno.errors.NotFound);
      },
    );

    await t.step("a phrase with a wrong checksum is refused in one line", async () => {
      // Swapping two different words keeps every word valid but breaks the checksum
      // (or, rarely, keeps it: then swap another pair).
      let swapped = "";
      for (let i = 1; i < 24; i++) {
        if (words[i] === words[0]) continue;
        const trial = [...words];
        [trial[0], trial[i]] = [trial[i], trial[0]];
        const run = await harmony([
          "identity",
          "restore",
          "--out",
          `${dir}/swap.json`,
          "--mnemonic",
          trial.join(" "),
        ]);
        if (run.code !== 0) {
          failedWithOneLine(run, 1, /checksum/);
          swapped = trial.join(" ");
          break;
        }
        await Deno.remove(`${dir}/swap.json`);
      }
      assert.ok(swapped, "no swap broke the checksum");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage mistakes print one line and exit 2; --help prints the usage and exits 0", async () => {
  const help = await harmony(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: harmony/);
  assert.match(help.stdout, /channel create NAME/);

  const bare = await harmony([]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /Usage: harmony/);

  failedWithOneLine(await harmony(["frobnicate"]), 2, /unknown command "frobnicate"/);
  failedWithOneLine(await harmony(["channel"]), 2, /needs a subcommand/);
  failedWithOneLine(await harmony(["post", "general"]), 2, /missing arguments/);
  failedWithOneLine(await harmony(["post", "general", "two", "words"]), 2, /too many arguments/);
  failedWithOneLine(await harmony(["identity", "create"]), 2, /--out FILE/);
  failedWithOneLine(await harmony(["channels", "--bogus"]), 2, /unknown option "--bogus"/);
  failedWithOneLine(await harmony(["channels", "--topic", "x"]), 2, /does not take --topic/);
  failedWithOneLine(await harmony(["history", "general", "--limit", "ten"]), 2, /--limit must be/);
  failedWithOneLine(await harmony(["channels", "--identity", "x.json"]), 2, /which server\?/);
  failedWithOneLine(await harmony(["channels", "--server", "ftp://example.org"]), 2, /http\(s\) URL/);
});

Deno.test("a server that cannot be reached is reported in one line with exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-cli-" });
  try {
    const path = `${dir}/me.json`;
    succeeded(await harmony(["identity", "create", "--out", path]));
    const port = freePort();
    failedWithOneLine(
      await harmony(["channels"], {
        env: { HARMONY_SERVER: `http://127.0.0.1:${port}`, HARMONY_IDENTITY: path },
      }),
      1,
      new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}: .*refused`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the CLI runs a community: claim, channels, posts, history, invites, joins, export", async (t) => {
  await using instance = await startTestInstance();
  const dir = await Deno.makeTempDir({ prefix: "harmony-cli-" });
  try {
    const ownerFile = `${dir}/owner.json`;
    const memberFile = `${dir}/member.json`;
    const ownerDid = printedDid(succeeded(await harmony(["identity", "create", "--out", ownerFile])));
    const memberDid = printedDid(succeeded(await harmony(["identity", "create", "--out", memberFile])));
    const asOwner = (...args: string[]) =>
      harmony(["--server", instance.origin, "--identity", ownerFile, ...args]);
    // The member finds the server and identity in the environment.
    const memberEnv = { HARMONY_SERVER: instance.origin, HARMONY_IDENTITY: memberFile };
    const asMember = (...args: string[]) => harmony(args, { env: memberEnv });

    await t.step(
      "claim takes the whole claim URL, finds the server in it and makes the caller owner",
      async () => {
        assert.ok(instance.claimUrl);
        succeeded(await harmony(["claim", instance.claimUrl, "--identity", ownerFile]));
        const whoami = succeeded(await asOwner("whoami"));
        assert.match(whoami, new RegExp(`DID: +${ownerDid}`));
        assert.match(whoami, /Role: +owner/);
      },
    );

    await t.step("a used claim token is refused in one line with exit 1", async () => {
      failedWithOneLine(
        await asOwner("claim", instance.claimUrl!.split("/claim/")[1]),
        1,
        /already has an owner/,
      );
    });

    await t.step("channel create makes a channel that channels lists with its topic", async () => {
      succeeded(await asOwner("channel", "create", "Release Notes", "--topic", "What shipped"));
      const listing = succeeded(await asOwner("channels"));
      assert.match(listing, /^NAME +ID +VISIBILITY +TOPIC$/m);
      assert.match(listing, /^#release-notes +[a-z2-7]{10} +public +What shipped$/m);
      assert.match(listing, /^#general /m);
    });

    let messageId = "";
    await t.step("post signs a message and history --json returns it", async () => {
      messageId = succeeded(await asOwner("post", "release-notes", "Version 1.0 is out")).trim();
      assert.match(messageId, /^urn:uuid:[0-9a-f-]{36}$/);
      const page = JSON.parse(succeeded(await asOwner("history", "#release-notes", "--json")));
      const message = page.messages.find((m: { id: string }) => m.id === messageId);
      assert.equal(message.content, "Version 1.0 is out");
      assert.equal(message.author, ownerDid);
      assert.equal(page.before, null);
    });

    await t.step('post with "-" reads a multi-line message from stdin', async () => {
      const run = await harmony(
        ["--server", instance.origin, "--identity", ownerFile, "post", "release-notes", "-"],
        { stdin: "Changelog:\n- faster history\n" },
      );
      succeeded(run);
      const page = JSON.parse(succeeded(await asOwner("history", "release-notes", "--json", "--limit", "1")));
      assert.equal(page.messages[0].content, "Changelog:\n- faster history");
      assert.ok(page.before, "a cursor to the older message");
      const older = JSON.parse(
        succeeded(await asOwner("history", "release-notes", "--json", "--before", page.before)),
      );
      assert.deepEqual(older.messages.map((m: { id: string }) => m.id), [messageId]);
    });

    await t.step("history shows time, the author's display name and the content", async () => {
      succeeded(await asOwner("profile", "set", "Ada"));
      const text = succeeded(await asOwner("history", "release-notes"));
      assert.match(text, /^\d{4}-\d\d-\d\d \d\d:\d\d {2}Ada: Version 1\.0 is out$/m);
    });

    await t.step("edit replaces the text of one's own message", async () => {
      succeeded(await asOwner("edit", messageId, "Version 1.0.1 is out"));
      const text = succeeded(await asOwner("history", "release-notes"));
      assert.match(text, /Ada: Version 1\.0\.1 is out \(edited\)$/m);
    });

    await t.step(
      "the client's event stream delivers a post made with the CLI and resumes after its id",
      async () => {
        const file = JSON.parse(await Deno.readTextFile(ownerFile));
        const client = new HarmonyClient(instance.origin, await signerFromIdentityFile(file));
        await client.signIn();
        const abort = new AbortController();
        const stream = client.events("release-notes", { signal: abort.signal });
        const ready = await stream.next();
        assert.equal(ready.value?.event, "ready");
        const posted = harmony(
          ["--server", instance.origin, "--identity", ownerFile, "post", "release-notes", "streamed"],
        );
        const change = (await stream.next()).value!;
        assert.equal(change.event, "change");
        assert.equal(change.data.kind, "created");
        assert.ok("message" in change.data && change.data.message.content === "streamed");
        succeeded(await posted);
        abort.abort();
        await stream.return(undefined);

        const resumed = client.events("release-notes", { since: ready.value!.id! });
        const replayed = (await resumed.next()).value!;
        assert.equal(replayed.id, change.id);
        await resumed.return(undefined);
        const { messages } = await client.history("release-notes", { limit: 1 });
        await client.delete(messages[0]);
      },
    );

    let inviteCode = "";
    await t.step("invite create prints a link; a second identity joins with the code alone", async () => {
      const out = succeeded(await asOwner("invite", "create", "--uses", "1", "--expires", "3600"));
      const match = new RegExp(`^${instance.origin}/invite/(\\w+)$`, "m").exec(out);
      assert.ok(match, out);
      inviteCode = match[1];
      succeeded(await asMember("join", inviteCode));
      const members = succeeded(await asOwner("members"));
      assert.match(members, new RegExp(`owner .*${ownerDid}`));
      assert.match(members, new RegExp(`member .*${memberDid}`));
      assert.match(
        succeeded(await asOwner("invite", "list")),
        new RegExp(`^${inviteCode} +used up +1/1 `, "m"),
      );
    });

    await t.step("a member sees the owner's post and can post too", async () => {
      assert.match(succeeded(await asMember("history", "release-notes")), /Ada: Version 1\.0\.1 is out/);
      succeeded(await asMember("post", "general", "hello from the member"));
    });

    await t.step("an API refusal (a member creating a channel) prints one line and exits 1", async () => {
      failedWithOneLine(
        await asMember("channel", "create", "mine"),
        1,
        /^harmony: you have no capability to manage channels$/,
      );
    });

    await t.step("a member cannot edit someone else's message", async () => {
      failedWithOneLine(await asMember("edit", messageId, "hijacked"), 1, /only the author/);
    });

    await t.step("a used-up invite is refused in one line", async () => {
      const third = `${dir}/third.json`;
      succeeded(await harmony(["identity", "create", "--out", third]));
      failedWithOneLine(
        await harmony(["join", `${instance.origin}/invite/${inviteCode}`, "--identity", third]),
        1,
        /this invite is used up/,
      );
    });

    await t.step("export prints N-Quads holding the message", async () => {
      const nquads = succeeded(await asOwner("export"));
      const lines = nquads.trimEnd().split("\n");
      assert.ok(lines.every((line) => line.endsWith(" .")), "every line is a quad");
      const content = lines.find((line) =>
        line.startsWith(`<${messageId}> `) && line.includes("activitystreams#content")
      );
      assert.ok(content, "the message's content quad");
      assert.match(content, /"Version 1\.0\.1 is out"/);
    });

    await t.step("export --out writes the same N-Quads to a file", async () => {
      const path = `${dir}/export.nq`;
      succeeded(await asOwner("export", "--out", path));
      assert.match(await Deno.readTextFile(path), /"hello from the member"/);
    });

    await t.step("only the owner may export", async () => {
      failedWithOneLine(await asMember("export"), 1, /no capability to export the whole community/);
    });

    await t.step("delete removes the message from history", async () => {
      succeeded(await asOwner("delete", messageId));
      const page = JSON.parse(succeeded(await asOwner("history", "release-notes", "--json")));
      assert.ok(!page.messages.some((m: { id: string }) => m.id === messageId));
    });

    await t.step("rename, topic and delete change the channel list", async () => {
      succeeded(await asOwner("channel", "rename", "release-notes", "changelog"));
      succeeded(await asOwner("channel", "topic", "#changelog", "Every release"));
      assert.match(succeeded(await asOwner("channels")), /^#changelog +\S+ +public +Every release$/m);
      succeeded(await asOwner("channel", "delete", "changelog"));
      assert.doesNotMatch(succeeded(await asOwner("channels")), /changelog/);
    });

    await t.step("a member can leave, and is then refused posting", async () => {
      succeeded(await asMember("leave"));
      assert.match(succeeded(await asMember("whoami")), /Role: +not a member/);
      failedWithOneLine(
        await asMember("post", "general", "still here?"),
        1,
        /no capability to post messages/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the signed documents shown in docs/api.md verify, match their shapes and are reproducible", async () => {
  const markdown = await Deno.readTextFile(new URL("../docs/api.md", import.meta.url));
  const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]).filter((text) =>
    text.includes('"proof"')
  ).map((text) => JSON.parse(text));
  const types = blocks.map((doc) => [doc.type].flat()[0]);
  assert.deepEqual(types.sort(), [
    "Action",
    "Delete",
    "Message",
    "Profile",
    "RecoveryApproval",
    "RecoveryCancel",
    "RecoveryRequest",
    "RecoverySetup",
    "Update",
    "VerifiablePresentation",
  ]);
  const phrase = `${"abandon ".repeat(23)}art`;
  const client = new HarmonyClient(
    "https://chat.example.org",
    await signerFromIdentityFile(await identityFileFromMnemonic(phrase)),
  );
  for (const doc of blocks) {
    const result = await verify(doc);
    assert.ok(result.verified, `${doc.type}: ${!result.verified && result.error}`);
    assert.equal(result.signer, client.did);
    if (doc.type === "VerifiablePresentation" || doc.type[0] === "VerifiablePresentation") {
      const again = await client.presentation(doc.proof.challenge, doc.proof.domain, doc.proof.created);
      assert.equal(again.proof.proofValue, doc.proof.proofValue);
    } else {
      await verifySigned(doc.type, doc);
    }
  }
});
