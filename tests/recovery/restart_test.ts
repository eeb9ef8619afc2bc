/**
 * The time lock's due time is persisted: a recovery completes after a
 * restart in the middle of its time lock, and one that fell due while the
 * server was down completes when it starts.
 */
import assert from "node:assert/strict";
import { HarmonyClient } from "../../cli/client.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { freePort, quickClient, randomSigner } from "../http/support.ts";
import { approve, eventually, requestRecovery, setUp, status } from "./support.ts";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function lockedRecovery(delaySeconds: number) {
  const dir = await Deno.makeTempDir({ prefix: "harmony-recovery-restart-" });
  const port = freePort();
  const env = {
    PORT: String(port),
    HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${dir}/harmony.db`,
    HARMONY_RECOVERY_DELAY_SECONDS: String(delaySeconds),
  };
  const first = await startTestInstance(env);
  const owner = new HarmonyClient(first.origin, await randomSigner());
  await owner.signIn();
  await owner.claim(first.claimUrl!.split("/claim/")[1]);
  await owner.request("PATCH", "/community", { openJoin: true });
  const member = await quickClient(first.origin);
  await member.join();
  const guardians = [await quickClient(first.origin), await quickClient(first.origin)];
  const community = (await owner.community()).iri;
  await setUp(member, community, guardians, 2);
  const newKey = await quickClient(first.origin);
  const request = await requestRecovery(newKey, community, member.did);
  await approve(guardians[0], request);
  const locked = await approve(guardians[1], request);
  assert.equal(locked.status, "locked");
  await first[Symbol.asyncDispose]();
  return { dir, env, member, newKey, request: locked };
}

Deno.test("a restart in the middle of the time lock still completes the recovery", async () => {
  const { dir, env, member, newKey, request } = await lockedRecovery(3);
  try {
    await wait(500);
    await using second = await startTestInstance(env);
    assert.ok(Date.now() < Date.parse(request.dueAt!), "restarted before the due time");
    assert.equal((await status(newKey, request)).status, "locked");
    const done = await eventually(async () => {
      const current = await status(newKey, request);
      return current.status === "completed" ? current : null;
    }, "the recovery to complete after the restart");
    assert.equal(done.closeReason, "the identity moved");
    assert.equal((await newKey.me()).member?.role, "member");
    assert.equal((await member.me()).member, null);
    assert.ok(second.origin);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a recovery that fell due while the server was down completes when it starts", async () => {
  const { dir, env, member, newKey, request } = await lockedRecovery(1);
  try {
    await wait(Math.max(0, Date.parse(request.dueAt!) - Date.now()) + 300);
    await using _second = await startTestInstance(env);
    await eventually(
      async () => (await status(newKey, request)).status === "completed",
      "completion at start",
    );
    assert.equal((await newKey.me()).member?.role, "member");
    assert.equal((await member.me()).member, null);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
