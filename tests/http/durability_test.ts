/**
 * Crash safety: the server runs as its own process, is killed with SIGKILL
 * (no shutdown code runs), and restarted on the same database file.
 */
import assert from "node:assert/strict";
import type { ChannelJson, MessageJson } from "../../cli/client.ts";
import { HarmonyClient } from "../../cli/client.ts";
import { freePort, randomSigner } from "./support.ts";

const mainModule = new URL("../../server/main.ts", import.meta.url).pathname;

interface ServerProcess {
  child: Deno.ChildProcess;
  /** Everything printed to stdout so far. */
  output(): string;
  /** Waits for the process to end and returns its whole stdout. */
  finished(): Promise<string>;
}

async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", mainModule],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const pumped = Promise.all([pump(child.stdout, (s) => (out += s)), pump(child.stderr, (s) => (err += s))]);
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + 20_000;
  while (!out.includes("Harmony is listening")) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await child.status;
      await pumped;
      throw new Error(`the server did not start:\n${out}\n${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    child,
    output: () => out,
    async finished() {
      await child.status;
      await pumped;
      return out;
    },
  };
}

Deno.test("durability: every acknowledged message survives kill -9 and a restart on the same file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-crash-" });
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env = {
    ...Deno.env.toObject(),
    PORT: String(port),
    HARMONY_ORIGIN: origin,
    DATABASE_URL: `file:${dir}/harmony.db`,
    HARMONY_OWNER: "",
  };
  let server: ServerProcess | null = null;
  try {
    server = await spawnServer(env);
    // The server answers /healthz as soon as it listens; its console output may reach us a moment later.
    const claimPattern = /^\s*(http:\/\/\S+\/claim\/(\S+))\s*$/m;
    for (let i = 0; i < 200 && !claimPattern.test(server.output()); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const claimLine = claimPattern.exec(server.output());
    assert.ok(claimLine, `the first start prints the claim link:\n${server.output()}`);
    assert.ok(claimLine[1].startsWith(`${origin}/claim/`));

    const owner = new HarmonyClient(origin, await randomSigner());
    await owner.signIn();
    await owner.request("POST", "/claim", { token: claimLine[2] });
    const [general] = await owner.channels() as ChannelJson[];

    // Concurrent posts exercise group commit: each 201 must mean "on disk".
    const acknowledged: MessageJson[] = [];
    const texts = Array.from({ length: 40 }, (_, i) => `durable message ${i} ✓ "quoted"\nsecond line`);
    for (let i = 0; i < texts.length; i += 10) {
      acknowledged.push(
        ...await Promise.all(texts.slice(i, i + 10).map((text) => owner.post(general.id, text))),
      );
    }
    const edited = await owner.edit(acknowledged[0], "edited before the crash");
    const deleted = await owner.delete(acknowledged[1]);
    assert.equal(deleted.deleted, true);

    server.child.kill("SIGKILL");
    const status = await server.child.status;
    assert.equal(status.signal, "SIGKILL");
    await server.finished();
    server = null;

    server = await spawnServer(env);
    const reader = new HarmonyClient(origin);
    const history = await reader.history(general.id, { limit: 200 });
    const byId = new Map(history.messages.map((m) => [m.id, m]));
    for (const message of acknowledged.slice(2)) {
      assert.equal(byId.get(message.id)?.content, message.content, `message ${message.id} survived`);
    }
    assert.equal(byId.get(edited.id)?.content, "edited before the crash");
    assert.equal(byId.has(deleted.id), false, "the deletion survived too");
    assert.equal(history.messages.length, acknowledged.length - 1);
    // Lamport order is intact and new posts continue after it.
    const after = await owner.post(general.id, "after the restart");
    assert.ok(after.lamport > Math.max(...acknowledged.map((m) => m.lamport)));
    assert.equal((await reader.request<{ owner: string }>("GET", "/community")).owner, owner.did);

    server.child.kill("SIGTERM");
    const output = await server.finished();
    server = null;
    assert.doesNotMatch(output, /\/claim\//, "a claimed instance prints no claim link");
    assert.match(output, /Harmony is listening/);
  } finally {
    if (server) {
      server.child.kill("SIGKILL");
      await server.finished();
    }
    await Deno.remove(dir, { recursive: true });
  }
});
