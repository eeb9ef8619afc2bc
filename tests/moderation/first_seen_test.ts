/**
 * The minimum DID age counts from a DID's first attempt to do something in
 * the community (join, post), not from signing in: otherwise anyone could
 * sign DIDs in ahead of a raid and wait out the rule.
 */
import assert from "node:assert/strict";
import type { Harmony } from "../../server/harmony.ts";
import { claimedInstance, newClient } from "../helpers/instance.ts";

async function firstSeenRows(h: Harmony, did: string): Promise<number> {
  const { rows } = await h.database.client.execute({
    sql: "SELECT count(*) AS n FROM did_first_seen WHERE did = ?",
    args: [did],
  });
  return Number(rows[0].n);
}

Deno.test({
  name: "minimum DID age: signing in does not age a DID; its age counts from its first join attempt",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    await owner.moderationSettings({ minimumDidAge: 2 });
    const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 5 });
    // A raider signs a DID in and waits out the minimum age before anything else.
    const raider = await newClient(instance);
    assert.equal(await firstSeenRows(h, raider.did), 0, "signing in recorded nothing");
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    await assert.rejects(
      raider.request("POST", "/join", { invite: invite.code }),
      (error: { status?: number; message?: string }) =>
        error.status === 403 && /new identities must wait before joining: you can join in [12] seconds?/
          .test(error.message ?? ""),
      "the first join attempt starts the clock",
    );
    assert.equal(await firstSeenRows(h, raider.did), 1, "the attempt was recorded");
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await raider.request("POST", "/join", { invite: invite.code });
  },
});
