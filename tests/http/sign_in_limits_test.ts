/**
 * Strangers cannot wear sign-in down: challenges and sign-ins are limited
 * per address, in windows stored in the database (server/identity/throttle.ts).
 */
import assert from "node:assert/strict";
import { challenges } from "../../db/schema.ts";
import { claimedInstance, startTestInstance } from "../helpers/instance.ts";
import { assertRefused, freePort, http, randomSigner, type Reply, sessionCount } from "./support.ts";
import { HarmonyClient } from "../../cli/client.ts";

async function challenge(origin: string, headers: Record<string, string> = {}): Promise<Reply> {
  return await http(origin, "POST", "/api/auth/challenge", { headers });
}

/** A presentation for a fresh identity over `nonce`. */
async function presentationOver(origin: string, nonce: string, domain: string) {
  return await new HarmonyClient(origin, await randomSigner()).presentation(nonce, domain);
}

Deno.test("sign-in limits: an address gets N challenges and N sign-ins a window, then 429", async (t) => {
  await using instance = await startTestInstance({ HARMONY_SIGN_IN_LIMIT: "3/60" });
  const h = instance.harmony;
  const issued: Array<{ challenge: string; domain: string }> = [];

  await t.step("three challenges, then a refusal with Retry-After that stores nothing", async () => {
    for (let i = 0; i < 3; i++) {
      const reply = await challenge(instance.origin);
      assert.equal(reply.status, 200, reply.text);
      issued.push(reply.json);
    }
    const stored = await h.db.$count(challenges);
    const refused = await challenge(instance.origin);
    assertRefused(refused, 429, "sign_in_limited");
    assert.match(
      refused.json.message,
      /too many sign-in challenges from your address \(at most 3 every 1 minute\)/,
    );
    const retryAfter = Number(refused.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
    assert.equal(await h.db.$count(challenges), stored, "the refused challenge was not stored");
  });

  await t.step("three sign-ins, then a refusal before the presentation is even checked", async () => {
    for (const { challenge, domain } of issued) {
      const presentation = await presentationOver(instance.origin, challenge, domain);
      const reply = await http(instance.origin, "POST", "/api/auth/session", { body: { presentation } });
      assert.equal(reply.status, 201, reply.text);
    }
    const open = await sessionCount(h);
    // A well-formed presentation over an unused challenge would be accepted, were it not the fourth.
    const spare = await h.database.client.execute({
      sql: "INSERT INTO challenges (nonce, domain, expires_at) VALUES (?, ?, ?)",
      args: ["spare-nonce", instance.origin, Date.now() + 60_000],
    });
    assert.equal(spare.rowsAffected, 1);
    const presentation = await presentationOver(instance.origin, "spare-nonce", instance.origin);
    const refused = await http(instance.origin, "POST", "/api/auth/session", { body: { presentation } });
    assertRefused(refused, 429, "sign_in_limited");
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    assert.equal(await sessionCount(h), open, "no session was opened");
  });
});

Deno.test("sign-in limits: a member's sign-ins are given back (the CLI signs in for every command)", async () => {
  const { instance, owner } = await claimedInstance({ HARMONY_SIGN_IN_LIMIT: "3/60" });
  await using _ = instance;
  // The owner signed in once as a stranger, before claiming: that one counts.
  for (let i = 0; i < 10; i++) await owner.signIn();
  assert.equal((await challenge(instance.origin)).status, 200);
  assert.equal((await challenge(instance.origin)).status, 200);
  assertRefused(await challenge(instance.origin), 429, "sign_in_limited");
});

Deno.test("sign-in limits: the windows are stored, so a restart does not reset them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-sign-in-" });
  const port = freePort();
  const env = {
    HARMONY_SIGN_IN_LIMIT: "2/600",
    DATABASE_URL: `file:${dir}/harmony.db`,
    PORT: String(port),
    HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
  };
  try {
    {
      await using first = await startTestInstance(env);
      for (let i = 0; i < 2; i++) assert.equal((await challenge(first.origin)).status, 200);
    }
    await using second = await startTestInstance(env);
    assertRefused(await challenge(second.origin), 429, "sign_in_limited");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("sign-in limits: behind a trusted proxy each forwarded client counts apart", async (t) => {
  await t.step("with the proxy trusted, X-Forwarded-For names the client", async () => {
    await using instance = await startTestInstance({
      HARMONY_SIGN_IN_LIMIT: "2/60",
      HARMONY_TRUSTED_PROXIES: "127.0.0.1, ::1",
    });
    const from = (xff: string) => challenge(instance.origin, { "x-forwarded-for": xff });
    assert.equal((await from("203.0.113.7")).status, 200);
    assert.equal((await from("203.0.113.7")).status, 200);
    assertRefused(await from("203.0.113.7"), 429, "sign_in_limited");
    assert.equal((await from("203.0.113.8")).status, 200, "another client has its own window");
    // The client may put anything on the left; the entry our proxy added is the one that counts.
    assertRefused(await from("198.51.100.1, 203.0.113.7"), 429, "sign_in_limited");
    // An IPv6 client counts by its /64.
    assert.equal((await from("2001:db8:1:2::1")).status, 200);
    assert.equal((await from("2001:db8:1:2::2")).status, 200);
    assertRefused(await from("2001:db8:1:2:ffff::3"), 429, "sign_in_limited");
  });

  await t.step("without a trusted proxy, X-Forwarded-For changes nothing", async () => {
    await using instance = await startTestInstance({ HARMONY_SIGN_IN_LIMIT: "2/60" });
    const from = (xff: string) => challenge(instance.origin, { "x-forwarded-for": xff });
    assert.equal((await from("203.0.113.1")).status, 200);
    assert.equal((await from("203.0.113.2")).status, 200);
    assertRefused(await from("203.0.113.3"), 429, "sign_in_limited");
  });
});
