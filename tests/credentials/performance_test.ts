/**
 * What credentials cost on the paths that matter: joining (issuing the
 * membership credential in the join's transaction) and admitting by
 * credential (the issuer's status list is verified once when fetched, then
 * served from the cache). Prints the figures; the bounds are loose, to
 * catch an order-of-magnitude regression, not to benchmark.
 */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { HarmonyClient } from "../../cli/client.ts";
import { checkAdmissionPresentation } from "../../server/credentials/admit.ts";
import { issueMembershipCredential } from "../../server/credentials/issue.ts";
import { signCredentialPresentation } from "../../server/credentials/presentation.ts";
import { clearStatusListCache } from "../../server/credentials/status.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { http, joinedMember, quickClient } from "../http/support.ts";
import { credentialsOf } from "./support.ts";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

Deno.test("issuing the membership credential keeps joining fast", async () => {
  // Thirty strangers sign in from one address, as many as the default sign-in limit allows.
  const { instance, owner } = await claimedInstance({ HARMONY_SIGN_IN_LIMIT: "1000/60" });
  await using _ = instance;
  const h = instance.harmony;
  await owner.request("PATCH", "/community", { openJoin: true });
  const joiners: HarmonyClient[] = [];
  for (let i = 0; i < 30; i++) joiners.push(await quickClient(instance.origin));
  const joins: number[] = [];
  for (const joiner of joiners) {
    const started = performance.now();
    const reply = await http(instance.origin, "POST", "/api/join", { token: joiner.token!, body: {} });
    joins.push(performance.now() - started);
    assert.equal(reply.status, 201);
  }
  // The issuance alone, in its own transaction, as join runs it.
  const issues: number[] = [];
  for (let i = 0; i < 30; i++) {
    const did = `did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2d${String(i).padStart(2, "0")}`;
    await h.database.write(async (tx) => {
      const started = performance.now();
      await issueMembershipCredential(tx, h, did);
      issues.push(performance.now() - started);
    });
  }
  console.log(
    `join (POST /api/join, open community, 30 sequential): median ${fmt(median(joins))}, ` +
      `of which issuing the credential inside the transaction: median ${fmt(median(issues))}`,
  );
  assert.ok(median(issues) < 50, "issuing takes milliseconds");
  assert.ok(median(joins) < 250, "joining stays well under a second");
});

Deno.test("a status list is verified when fetched, then checks come from the cache", async () => {
  const a = await claimedInstance();
  await using _a = a.instance;
  const b = await claimedInstance({ HARMONY_ALLOW_PRIVATE_ADDRESSES: "1" });
  await using _b = b.instance;
  const issuer = (await a.owner.community() as any).did;
  const policy = { policy: "credential" as const, credentialType: "MembershipCredential", issuer };
  const member = await joinedMember(a.instance.origin, a.owner);
  const [{ credential }] = await credentialsOf(member);
  const atB = new HarmonyClient(b.instance.origin, member.signer);
  await atB.signIn();
  const h = b.instance.harmony;
  const check = async (fresh: boolean) => {
    if (fresh) clearStatusListCache(h);
    const { challenge, domain } = (await http(b.instance.origin, "POST", "/api/auth/challenge")).json;
    const presentation = await signCredentialPresentation(member.signer!, [credential], challenge, domain);
    const started = performance.now();
    await checkAdmissionPresentation(h, member.did, presentation, policy);
    return performance.now() - started;
  };
  await check(true); // warm up the code paths
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < 10; i++) cold.push(await check(true));
  for (let i = 0; i < 10; i++) warm.push(await check(false));
  console.log(
    `admission check of a presentation: status list fetched and verified ${fmt(median(cold))}, ` +
      `from the cache ${fmt(median(warm))}`,
  );
  assert.ok(median(warm) < median(cold), "the cache saves the fetch and the verification");
});
