/**
 * What sign-in leaves behind expires: a session nobody uses after sign-in
 * ends within the hour (server/identity/auth.ts), and the sweeper removes
 * expired challenges and sessions and ended sign-in windows
 * (server/identity/sweeper.ts).
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { challenges, rateWindows, sessions } from "../../db/schema.ts";
import {
  findSession,
  MAX_UNUSED_SESSIONS,
  openSession,
  SESSION_TTL_MS,
  UNUSED_SESSION_TTL_MS,
} from "../../server/identity/auth.ts";
import { sweepSignIns } from "../../server/identity/sweeper.ts";
import { newClient, startTestInstance } from "../helpers/instance.ts";
import { randomSigner } from "./support.ts";

Deno.test("sessions: one not used within an hour of sign-in ends then; a used one lasts 30 days", async (t) => {
  await using instance = await startTestInstance();
  const h = instance.harmony;
  const did = (await randomSigner()).did;
  const now = Date.now();

  await t.step("a session never used after sign-in is gone an hour later", async () => {
    const unused = await openSession(h, did, now - UNUSED_SESSION_TTL_MS - 60_000);
    assert.equal(await findSession(h, unused.token, now), null);
  });

  await t.step("a session used within the hour lasts 30 days from sign-in", async () => {
    const signedIn = now - UNUSED_SESSION_TTL_MS / 2;
    const used = await openSession(h, did, signedIn);
    assert.equal(used.expiresAt, signedIn + SESSION_TTL_MS, "what the client is told");
    assert.equal((await findSession(h, used.token, now))?.did, did);
    const later = now + 10 * 86_400_000;
    assert.equal((await findSession(h, used.token, later))?.expiresAt, signedIn + SESSION_TTL_MS);
    assert.equal(await findSession(h, used.token, signedIn + SESSION_TTL_MS + 1), null);
  });

  await t.step("through the API: the row lasts an hour until the token is first used", async () => {
    const client = await newClient(instance);
    const [row] = await h.db.select().from(sessions).where(eq(sessions.did, client.did));
    assert.equal(row.expiresAt, row.createdAt + UNUSED_SESSION_TTL_MS);
    await client.request("GET", "/me");
    const [after] = await h.db.select().from(sessions).where(eq(sessions.did, client.did));
    assert.equal(after.expiresAt, row.createdAt + SESSION_TTL_MS);
  });
});

Deno.test("sessions: a DID holds at most 20 it has not used; signing in again drops the oldest", async () => {
  await using instance = await startTestInstance();
  const h = instance.harmony;
  const did = (await randomSigner()).did;
  const now = Date.now();
  const used = await openSession(h, did, now - 1000);
  assert.ok(await findSession(h, used.token, now), "this one is used");
  const opened = [];
  for (let i = 0; i < MAX_UNUSED_SESSIONS + 5; i++) opened.push(await openSession(h, did, now + i));
  assert.equal(await h.db.$count(sessions, eq(sessions.did, did)), MAX_UNUSED_SESSIONS + 1);
  for (const dropped of opened.slice(0, 5)) {
    assert.equal(await findSession(h, dropped.token, now + 100), null);
  }
  assert.ok(await findSession(h, opened.at(-1)!.token, now + 100), "the newest is kept");
  assert.ok(await findSession(h, used.token, now + 100), "a used session is not dropped");
});

Deno.test("sign-in sweeper: removes expired challenges and sessions and ended windows, nothing else", async () => {
  await using instance = await startTestInstance({ HARMONY_SIGN_IN_LIMIT: "5/60" });
  const h = instance.harmony;
  const now = Date.now();
  await h.database.write(async (tx) => {
    await tx.delete(challenges);
    await tx.delete(sessions);
    await tx.delete(rateWindows);
    await tx.insert(challenges).values([
      { nonce: "long-expired", domain: instance.origin, expiresAt: now - 11 * 60_000 },
      { nonce: "just-expired", domain: instance.origin, expiresAt: now - 60_000 },
      { nonce: "live", domain: instance.origin, expiresAt: now + 60_000 },
    ]);
    const session = (tokenHash: string, expiresAt: number) => ({
      tokenHash,
      did: "did:key:z6Mkexample",
      csrfToken: "x",
      createdAt: now - 86_400_000,
      expiresAt,
    });
    await tx.insert(sessions).values([session("expired", now - 1), session("live", now + 60_000)]);
    await tx.insert(rateWindows).values([
      { key: "sign-in:challenge 192.0.2.1", windowStart: now - 61_000, count: 5 },
      { key: "sign-in:session 192.0.2.1", windowStart: now - 10_000, count: 2 },
      { key: "did:key:z6Mkexample", windowStart: now - 86_400_000, count: 1 },
    ]);
  });
  assert.deepEqual(await sweepSignIns(h, now), { challenges: 1, sessions: 1, windows: 1 });
  assert.deepEqual(
    (await h.db.select({ nonce: challenges.nonce }).from(challenges)).map((r) => r.nonce).sort(),
    ["just-expired", "live"],
    "an expired challenge is kept one more lifetime, so a late answer hears 'expired'",
  );
  assert.deepEqual((await h.db.select({ t: sessions.tokenHash }).from(sessions)).map((r) => r.t), ["live"]);
  assert.deepEqual(
    (await h.db.select({ key: rateWindows.key }).from(rateWindows)).map((r) => r.key).sort(),
    ["did:key:z6Mkexample", "sign-in:session 192.0.2.1"],
    "members' post windows are the moderation's, not the sweeper's",
  );
});
