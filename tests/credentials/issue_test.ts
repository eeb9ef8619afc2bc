/**
 * Membership and role credentials: issued with the membership change that
 * causes them, verifiable by a plain verifier with only the public contexts,
 * revoked through the Bitstring Status List when the member leaves or loses
 * a role, and all of it surviving a restart.
 */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { quadStore } from "../../db/quadstore.ts";
import { HarmonyClient } from "../../cli/client.ts";
import {
  issueRoleCredential,
  revokeMemberCredentials,
  STATUS_LIST_LENGTH,
  syncRoleCredentials,
} from "../../server/credentials/issue.ts";
import { credentialsGraph, credentialsOf as credentialsOfDid } from "../../server/credentials/store.ts";
import { moveIdentity } from "../../server/identity/move.ts";
import { claimedInstance, startTestInstance } from "../helpers/instance.ts";
import {
  assertRefused,
  cookieSession,
  freePort,
  http,
  joinedMember,
  quickClient,
  randomSigner,
} from "../http/support.ts";
import { bitsOf, credentialsOf, HARMONY_CREDENTIALS_CONTEXT, plainVerifier } from "./support.ts";

Deno.test("joining issues a membership credential that a plain verifier accepts offline", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const community = await owner.community() as any;

  // The owner got theirs on claiming the instance: membership and the owner role.
  const mine = await credentialsOf(owner);
  assert.deepEqual(mine.map((c) => [c.kind, c.role, c.revoked]).sort(), [
    ["membership", null, false],
    ["role", "owner", false],
  ]);

  const member = await joinedMember(instance.origin, owner);
  const [record, ...more] = await credentialsOf(member);
  assert.equal(more.length, 0, "a plain member holds one credential");
  const vc = record.credential;
  assert.deepEqual(vc["@context"], ["https://www.w3.org/ns/credentials/v2", HARMONY_CREDENTIALS_CONTEXT]);
  assert.deepEqual(vc.type, ["VerifiableCredential", "MembershipCredential"]);
  assert.equal(vc.issuer, community.did, "issued by the community's did:key");
  assert.deepEqual(vc.credentialSubject, { id: member.did, memberOf: community.iri });
  assert.equal(vc.proof.cryptosuite, "eddsa-rdfc-2022");
  assert.equal(vc.proof.proofPurpose, "assertionMethod");
  assert.equal(vc.credentialStatus.type, "BitstringStatusListEntry");
  assert.equal(vc.credentialStatus.statusListCredential, `${instance.origin}/credentials/status/1`);

  const verifier = await plainVerifier(instance.origin);
  const result = await verifier.verify(vc);
  assert.equal(result.verified, true, verifier.why(result));
  // The status list is the same issuer's, at its stable URL, and verifies on its own.
  const list = (await http(instance.origin, "GET", "/credentials/status/1")).json;
  assert.equal(list.issuer, community.did);
  assert.equal((await verifier.verify(list)).verified, true);

  // The download is the credential itself.
  const download = await http(instance.origin, "GET", `/api/credentials/${encodeURIComponent(record.id)}`, {
    token: member.token!,
  });
  assert.equal(download.status, 200);
  assert.deepEqual(download.json, vc);
});

Deno.test("a tampered credential fails verification", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const member = await joinedMember(instance.origin, owner);
  const [{ credential }] = await credentialsOf(member);
  const [ownerRole] = (await credentialsOf(owner)).filter((c) => c.kind === "role");
  const verifier = await plainVerifier(instance.origin);

  const otherSubject = structuredClone(credential);
  otherSubject.credentialSubject.id = owner.did;
  const promoted = structuredClone(ownerRole.credential);
  promoted.credentialSubject.id = member.did;
  const backdated = structuredClone(credential);
  backdated.validFrom = "2020-01-01T00:00:00Z";
  const otherStatus = structuredClone(credential);
  otherStatus.credentialStatus.statusListIndex = "7";
  otherStatus.credentialStatus.id = `${otherStatus.credentialStatus.statusListCredential}#7`;
  for (const [what, forged] of Object.entries({ otherSubject, promoted, backdated, otherStatus })) {
    const result = await verifier.verify(forged);
    assert.equal(result.verified, false, `${what} must not verify`);
    assert.match(verifier.why(result), /Invalid signature/, what);
  }
});

Deno.test("leaving revokes the membership credential: its status bit is set and verification fails", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const stays = await joinedMember(instance.origin, owner);
  const leaves = await joinedMember(instance.origin, owner);
  const [kept] = await credentialsOf(stays);
  const [gone] = await credentialsOf(leaves);
  const verifier = await plainVerifier(instance.origin);
  const before = (await http(instance.origin, "GET", "/credentials/status/1")).json;
  assert.deepEqual(await bitsOf(before, [kept.status.statusListIndex, gone.status.statusListIndex]), [
    false,
    false,
  ]);

  await leaves.leave();

  const after = (await http(instance.origin, "GET", "/credentials/status/1")).json;
  assert.deepEqual(await bitsOf(after, [kept.status.statusListIndex, gone.status.statusListIndex]), [
    false,
    true,
  ]);
  assert.notEqual(after.proof.proofValue, before.proof.proofValue, "the list was signed again");
  assert.equal((await verifier.verify(after)).verified, true, "the re-signed list verifies");
  const result = await verifier.verify(gone.credential);
  assert.equal(result.verified, false);
  assert.match(verifier.why(result), /revoked/);
  assert.equal((await verifier.verify(kept.credential)).verified, true, "other members are not touched");

  // The former member still sees the credential, marked revoked.
  const [seen] = await credentialsOf(leaves);
  assert.equal(seen.revoked, true);
  assert.ok(seen.revokedAt);
  // Joining again issues a new credential at a new index; the old one stays revoked.
  const invite = await owner.createInvite({ maxUses: 1 });
  await leaves.join(invite.code);
  const again = await credentialsOf(leaves);
  assert.equal(again.length, 2);
  const fresh = again.find((c) => !c.revoked)!;
  assert.notEqual(fresh.status.statusListIndex, gone.status.statusListIndex, "indexes are never reused");
  assert.equal((await verifier.verify(fresh.credential)).verified, true);
  assert.equal((await verifier.verify(gone.credential)).verified, false);
});

Deno.test("losing a role revokes that role's credential and nothing else", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const h = instance.harmony;
  const member = await joinedMember(instance.origin, owner);
  const verifier = await plainVerifier(instance.origin);

  // Handing ownership over: the old owner's owner credential is revoked, the new owner gets one.
  await owner.transferOwnership(member.did);
  const formerOwner = await credentialsOf(owner);
  const ownerRole = formerOwner.find((c) => c.role === "owner")!;
  assert.equal(ownerRole.revoked, true);
  assert.equal((await verifier.verify(ownerRole.credential)).verified, false);
  const admin = formerOwner.find((c) => c.role === "admin" && !c.revoked)!;
  assert.equal((await verifier.verify(admin.credential)).verified, true);
  assert.equal(formerOwner.find((c) => c.kind === "membership")!.revoked, false, "still a member");
  const newOwner = (await credentialsOf(member)).find((c) => c.role === "owner")!;
  assert.equal((await verifier.verify(newOwner.credential)).verified, true);

  // The functions the role and moderation code call, inside their own transaction.
  await h.database.write((tx) => issueRoleCredential(tx, h, member.did, "moderator"));
  const issuedTwice = await h.database.write((tx) => issueRoleCredential(tx, h, member.did, "moderator"));
  const moderator = (await credentialsOf(member)).find((c) => c.role === "moderator")!;
  assert.equal(issuedTwice.id, moderator.id, "issuing a role held already returns the live credential");
  const revoked = await h.database.write((tx) =>
    revokeMemberCredentials(tx, h, member.did, { role: "moderator" })
  );
  assert.deepEqual(revoked.map((r) => r.id), [moderator.id]);
  const now = await credentialsOf(member);
  assert.equal(now.find((c) => c.id === moderator.id)!.revoked, true);
  assert.equal((await verifier.verify(moderator.credential)).verified, false);
  assert.ok(
    now.filter((c) => c.id !== moderator.id).every((c) => !c.revoked),
    "other credentials stay valid",
  );

  // A failing transaction takes its revocation with it.
  const listBefore = (await http(instance.origin, "GET", "/credentials/status/1")).text;
  await assert.rejects(h.database.write(async (tx) => {
    await revokeMemberCredentials(tx, h, member.did, "membership");
    throw new Error("rolled back");
  }));
  assert.ok((await credentialsOf(member)).filter((c) => c.id !== moderator.id).every((c) => !c.revoked));
  assert.equal((await http(instance.origin, "GET", "/credentials/status/1")).text, listBefore);
});

Deno.test("members see only their own credentials", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const member = await joinedMember(instance.origin, owner);
  const [theirs] = await credentialsOf(member);
  const path = `/api/credentials/${encodeURIComponent(theirs.id)}`;
  assertRefused(await http(instance.origin, "GET", path, { token: owner.token! }), 404, "not_found");
  assertRefused(await http(instance.origin, "GET", path), 401);
  assertRefused(await http(instance.origin, "GET", "/api/credentials"), 401);
  const bare = theirs.id.replace("urn:uuid:", "");
  assert.equal(
    (await http(instance.origin, "GET", `/api/credentials/${bare}`, { token: member.token! })).status,
    200,
  );
  const stranger = await quickClient(instance.origin);
  assert.deepEqual(await credentialsOf(stranger), [], "not a member: nothing issued");
  assertRefused(await http(instance.origin, "GET", "/credentials/status/2"), 404);
  assertRefused(await http(instance.origin, "GET", "/credentials/status/x"), 404);
});

Deno.test("the profile page lists the member's credentials with download links", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const member = await joinedMember(instance.origin, owner);
  const [record] = await credentialsOf(member);
  const session = await cookieSession(member);
  const page = await http(instance.origin, "GET", "/profile", { headers: { cookie: session.cookie } });
  assert.equal(page.status, 200);
  assert.match(page.text, /<h2 id="credentials-heading">Your credentials<\/h2>/);
  assert.match(page.text, /Member of Harmony/);
  assert.ok(page.text.includes(`href="/api/credentials/${encodeURIComponent(record.id)}"`), "download link");
  assert.match(page.text, /download="harmony-membership-[0-9a-f]{12}\.json"/);
  const download = await http(instance.origin, "GET", `/api/credentials/${encodeURIComponent(record.id)}`, {
    headers: { cookie: session.cookie },
  });
  assert.deepEqual(
    download.json,
    record.credential,
    "the link serves the credential JSON to the signed-in member",
  );
});

Deno.test("credentials and the status list survive a restart with the same bits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-credentials-" });
  const port = freePort();
  const env = {
    DATABASE_URL: `file:${dir}/harmony.db`,
    PORT: String(port),
    HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
  };
  try {
    let ownerToken: string;
    let member: HarmonyClient;
    let records: Awaited<ReturnType<typeof credentialsOf>>;
    let list: any;
    {
      await using instance = await startTestInstance(env);
      const owner = await quickClient(instance.origin);
      await owner.claim(instance.claimUrl!.split("/claim/")[1]);
      ownerToken = owner.token!;
      member = await joinedMember(instance.origin, owner);
      const leaver = await joinedMember(instance.origin, owner);
      await leaver.leave();
      records = [...await credentialsOf(member), ...await credentialsOf(leaver)];
      list = (await http(instance.origin, "GET", "/credentials/status/1")).json;
    }
    await using instance = await startTestInstance(env);
    const same = (await http(instance.origin, "GET", "/credentials/status/1")).json;
    assert.deepEqual(same, list, "the signed list is served as it was");
    const indexes = records.map((r) => r.status.statusListIndex);
    assert.deepEqual(await bitsOf(same, indexes), records.map((r) => r.revoked));
    assert.deepEqual(records.map((r) => r.revoked), [false, true]);
    const again = await credentialsOf(member);
    assert.deepEqual(again, records.slice(0, 1), "the member's credential is unchanged");
    const verifier = await plainVerifier(instance.origin);
    assert.equal((await verifier.verify(records[0].credential)).verified, true);
    assert.equal((await verifier.verify(records[1].credential)).verified, false);
    // The allocation counter survived too: the next credential takes a new index.
    const owner = new HarmonyClient(instance.origin);
    owner.token = ownerToken;
    const next = await joinedMember(instance.origin, owner);
    const [fresh] = await credentialsOf(next);
    assert.ok(!indexes.includes(fresh.status.statusListIndex));
    const h = instance.harmony;
    const count = await quadStore.count(h.db, { graph: credentialsGraph(h) });
    assert.ok(count > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("status list indexes are spread over the list and never handed out twice", async () => {
  const { instance } = await claimedInstance();
  await using _ = instance;
  const h = instance.harmony;
  const dids = Array.from(
    { length: 40 },
    (_, i) => `did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2do${i}`,
  );
  // Issue and revoke directly (the DIDs need not be valid keys for the store), as the role code does.
  const indexes: number[] = [];
  for (const did of dids) {
    const record = await h.database.write((tx) => issueRoleCredential(tx, h, did, "tester"));
    indexes.push(record.statusIndex);
    await h.database.write((tx) => revokeMemberCredentials(tx, h, did, { role: "tester" }));
  }
  assert.equal(new Set(indexes).size, indexes.length, "no index reused");
  assert.ok(indexes.every((i) => Number.isInteger(i) && i >= 0 && i < STATUS_LIST_LENGTH));
  const sorted = [...indexes].sort((a, b) => a - b);
  assert.notDeepEqual(indexes, sorted, "not handed out in order");
  const list = (await http(instance.origin, "GET", "/credentials/status/1")).json;
  assert.ok((await bitsOf(list, indexes)).every(Boolean));
});

Deno.test("role credentials follow the roles held, and a recovered identity gets its credentials moved", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const h = instance.harmony;
  const member = await joinedMember(instance.origin, owner);
  const live = async (did: string) =>
    (await h.database.write((tx) => credentialsOfDid(tx, h, did))).filter((r) => !r.revoked)
      .map((r) => r.role ?? r.kind).sort();

  await h.database.write((tx) => syncRoleCredentials(tx, h, member.did, ["member", "moderator", "helper"]));
  assert.deepEqual(await live(member.did), ["helper", "membership", "moderator"]);
  await h.database.write((tx) => syncRoleCredentials(tx, h, member.did, ["member", "helper"]));
  assert.deepEqual(await live(member.did), ["helper", "membership"]);

  // Social recovery moves the member to a new DID: the old credentials are revoked, the new DID holds the same kinds.
  const successor = await randomSigner();
  await moveIdentity(h, member.did, successor.did);
  assert.deepEqual(await live(member.did), []);
  assert.deepEqual(await live(successor.did), ["helper", "membership"]);
  const verifier = await plainVerifier(instance.origin);
  const [old] = await credentialsOf(member);
  assert.equal(
    (await verifier.verify(old.credential)).verified,
    false,
    "the old DID's credential is revoked",
  );
});
