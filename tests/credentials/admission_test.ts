/**
 * Admission by credential: community B admits holders of a
 * MembershipCredential issued by the allied community A, checked through a
 * presentation at join time. Every refusal leaves no trace: no membership,
 * no credential issued, the challenge still unused.
 */
// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import * as vc from "@digitalbazaar/vc";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { eq } from "drizzle-orm";
import { HarmonyClient, identityFileFromMnemonic } from "../../cli/client.ts";
import { type Io } from "../../cli/commands/io.ts";
import { run } from "../../cli/harmony.ts";
import { challenges } from "../../db/schema.ts";
import { quadStore } from "../../db/quadstore.ts";
import { iri, literal, quad } from "../../db/terms.ts";
import { sign } from "../../server/crypto/dataIntegrity.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { signerFromSecret } from "../../server/crypto/signer.ts";
import { staticDocumentLoader } from "../../server/capabilities/loader.ts";
import { migrateAdmission } from "../../server/credentials/admission.ts";
import { signCredentialPresentation } from "../../server/credentials/presentation.ts";
import { clearStatusListCache, statusListStats } from "../../server/credentials/status.ts";
import { credentialsGraph } from "../../server/credentials/store.ts";
import type { Harmony } from "../../server/harmony.ts";
import { H } from "../../server/rdf/vocab.ts";
import { claimedInstance, type TestInstance } from "../helpers/instance.ts";
import {
  assertRefused,
  cookieSession,
  http,
  joinedMember,
  quickClient,
  randomSigner,
} from "../http/support.ts";
import { credentialsOf, HARMONY_CREDENTIALS_CONTEXT } from "./support.ts";

interface Community {
  instance: TestInstance;
  owner: HarmonyClient;
  did: string;
}

async function community(env: Record<string, string> = {}): Promise<Community> {
  const { instance, owner } = await claimedInstance(env);
  const { did } = await owner.community() as any;
  return { instance, owner, did };
}

/** B admits holders of `credentialType` from `issuer` (through the API). */
async function admitBy(b: Community, issuer: string, credentialType = "MembershipCredential") {
  const reply = await http(b.instance.origin, "PATCH", "/api/community", {
    token: b.owner.token!,
    body: { admission: { policy: "credential", credentialType, issuer } },
  });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(reply.json.admission, { policy: "credential", credentialType, issuer });
  assert.equal(reply.json.openJoin, false);
}

/** The same identity as `client`, signed in at `origin`. */
async function sameIdentityAt(client: HarmonyClient, origin: string): Promise<HarmonyClient> {
  const there = new HarmonyClient(origin, client.signer);
  await there.signIn();
  return there;
}

async function challengeOf(origin: string): Promise<{ challenge: string; domain: string }> {
  return (await http(origin, "POST", "/api/auth/challenge")).json;
}

function joinWith(client: HarmonyClient, presentation: unknown) {
  return http(client.server, "POST", "/api/join", { token: client.token!, body: { presentation } });
}

/** What a refused join must not have changed. */
async function traces(h: Harmony, did: string, challenge?: string) {
  const [row] = challenge ? await h.db.select().from(challenges).where(eq(challenges.nonce, challenge)) : [];
  return {
    member: (await h.snapshot()).members.has(did),
    credentialQuads: await quadStore.count(h.db, { graph: credentialsGraph(h) }),
    challengeUsed: row ? row.usedAt !== null : null,
  };
}

async function assertNoTrace(
  h: Harmony,
  did: string,
  before: Awaited<ReturnType<typeof traces>>,
  challenge?: string,
) {
  const after = await traces(h, did, challenge);
  assert.equal(after.member, false, "not a member");
  assert.equal(after.credentialQuads, before.credentialQuads, "no credential issued");
  if (challenge) assert.equal(after.challengeUsed, false, "the challenge is still unused");
}

/** A member of A holding A's membership credential. */
async function alliedMember(a: Community) {
  const member = await joinedMember(a.instance.origin, a.owner);
  const [record] = await credentialsOf(member);
  return { member, credential: record.credential };
}

/** An issuer the test controls (a plain @digitalbazaar key pair, nothing of Harmony). */
async function testIssuer() {
  const key: any = await Ed25519Multikey.generate();
  const did = `did:key:${key.publicKeyMultibase}`;
  key.controller = did;
  key.id = `${did}#${key.publicKeyMultibase}`;
  return {
    did,
    issue: (credential: Record<string, unknown>) =>
      vc.issue({
        credential: {
          "@context": ["https://www.w3.org/ns/credentials/v2", HARMONY_CREDENTIALS_CONTEXT],
          ...credential,
        },
        suite: new DataIntegrityProof({ signer: key.signer(), cryptosuite: eddsaRdfc2022 }),
        documentLoader: staticDocumentLoader,
      }) as Promise<Record<string, any>>,
  };
}

const ALLOW_PRIVATE = { HARMONY_ALLOW_PRIVATE_ADDRESSES: "1" };

Deno.test("a member of an allied community joins by presenting its membership credential", async () => {
  const a = await community();
  await using _a = a.instance;
  const b = await community(ALLOW_PRIVATE);
  await using _b = b.instance;
  await admitBy(b, a.did);
  const community_ = (await http(b.instance.origin, "GET", "/api/community")).json;
  assert.deepEqual(community_.admission, {
    policy: "credential",
    credentialType: "MembershipCredential",
    issuer: a.did,
  });

  const { member, credential } = await alliedMember(a);
  const atB = await sameIdentityAt(member, b.instance.origin);
  // Without a presentation (or an invite) the refusal says what to present.
  const plain = await http(b.instance.origin, "POST", "/api/join", { token: atB.token!, body: {} });
  assertRefused(plain, 403, "forbidden");
  assert.match(plain.json.message, /MembershipCredential/);

  clearStatusListCache(b.instance.harmony);
  const stats = { ...statusListStats };
  const joined = await atB.joinWithCredentials([credential]);
  assert.equal(joined.did, member.did);
  assert.equal(joined.role, "member");
  // B issued its own membership credential, in the same transaction.
  const [own] = await credentialsOf(atB);
  assert.equal(own.kind, "membership");
  assert.equal(own.credential.issuer, (await b.owner.community() as any).did);
  assert.equal(statusListStats.fetched - stats.fetched, 1, "A's status list fetched once");
  assert.equal(statusListStats.verified - stats.verified, 1, "and verified once");

  // A second allied member: the verified list comes from the cache, not verified again.
  const second = await alliedMember(a);
  const secondAtB = await sameIdentityAt(second.member, b.instance.origin);
  const mid = { ...statusListStats };
  await secondAtB.joinWithCredentials([second.credential]);
  assert.equal(statusListStats.fetched - mid.fetched, 0);
  assert.equal(statusListStats.verified - mid.verified, 0);
  assert.ok(statusListStats.cacheHits > mid.cacheHits);

  // The challenge admitted once: presenting it again is refused.
  const { challenge, domain } = await challengeOf(b.instance.origin);
  const third = await alliedMember(a);
  const thirdAtB = await sameIdentityAt(third.member, b.instance.origin);
  const presentation = await signCredentialPresentation(
    thirdAtB.signer!,
    [third.credential],
    challenge,
    domain,
  );
  assert.equal((await joinWith(thirdAtB, presentation)).status, 201);
  const fourth = await alliedMember(a);
  const fourthAtB = await sameIdentityAt(fourth.member, b.instance.origin);
  const replayed = await signCredentialPresentation(
    fourthAtB.signer!,
    [fourth.credential],
    challenge,
    domain,
  );
  assertRefused(await joinWith(fourthAtB, replayed), 401, "replayed_challenge");
});

Deno.test("a credential from an untrusted issuer is refused at join, with no side effect", async () => {
  const a = await community();
  await using _a = a.instance;
  const c = await community();
  await using _c = c.instance;
  const b = await community(ALLOW_PRIVATE);
  await using _b = b.instance;
  await admitBy(b, a.did);
  const h = b.instance.harmony;

  // A member of C (not allied) presents C's genuine membership credential.
  const { member, credential } = await alliedMember(c);
  const atB = await sameIdentityAt(member, b.instance.origin);
  const { challenge, domain } = await challengeOf(b.instance.origin);
  const before = await traces(h, member.did, challenge);
  const presentation = await signCredentialPresentation(atB.signer!, [credential], challenge, domain);
  const refused = await joinWith(atB, presentation);
  assertRefused(refused, 403, "untrusted_issuer");
  assert.ok(refused.json.message.includes(c.did), "names the issuer it got");
  await assertNoTrace(h, member.did, before, challenge);

  // A credential of another type from the allied issuer is refused too.
  await admitBy(b, a.did, "RoleCredential");
  const { member: m2, credential: membership } = await alliedMember(a);
  const m2AtB = await sameIdentityAt(m2, b.instance.origin);
  const second = await challengeOf(b.instance.origin);
  const wrongType = await signCredentialPresentation(
    m2AtB.signer!,
    [membership],
    second.challenge,
    second.domain,
  );
  assertRefused(await joinWith(m2AtB, wrongType), 403, "wrong_credential_type");
  // The same type given as its full IRI matches.
  await admitBy(b, a.did, "https://w3id.org/harmony/ns#MembershipCredential");
  const third = await challengeOf(b.instance.origin);
  const byIri = await signCredentialPresentation(m2AtB.signer!, [membership], third.challenge, third.domain);
  assert.equal((await joinWith(m2AtB, byIri)).status, 201);
});

Deno.test("a revoked credential from the allied community is refused", async () => {
  const a = await community();
  await using _a = a.instance;
  const b = await community(ALLOW_PRIVATE);
  await using _b = b.instance;
  await admitBy(b, a.did);
  const { member, credential } = await alliedMember(a);
  await member.leave(); // A revokes it.
  const atB = await sameIdentityAt(member, b.instance.origin);
  const { challenge, domain } = await challengeOf(b.instance.origin);
  const before = await traces(b.instance.harmony, member.did, challenge);
  const presentation = await signCredentialPresentation(atB.signer!, [credential], challenge, domain);
  const refused = await joinWith(atB, presentation);
  assertRefused(refused, 403, "credential_revoked");
  await assertNoTrace(b.instance.harmony, member.did, before, challenge);
});

Deno.test("a presentation signed by another key than its holder's, or holding someone else's credential, is refused", async () => {
  const a = await community();
  await using _a = a.instance;
  const b = await community(ALLOW_PRIVATE);
  await using _b = b.instance;
  await admitBy(b, a.did);
  const h = b.instance.harmony;
  const { member, credential } = await alliedMember(a);
  const atB = await sameIdentityAt(member, b.instance.origin);
  const attacker = await randomSigner();

  // Claims the member as holder, but the attacker's key signed it (the library alone accepts this).
  const { challenge, domain } = await challengeOf(b.instance.origin);
  const before = await traces(h, member.did, challenge);
  const forged = await sign(
    {
      "@context": ["https://www.w3.org/ns/credentials/v2"],
      type: ["VerifiablePresentation"],
      holder: member.did,
      verifiableCredential: [credential],
    },
    attacker,
    { proofPurpose: "authentication", challenge, domain, created: new Date().toISOString() },
  );
  assertRefused(await joinWith(atB, forged), 403, "holder_mismatch");
  await assertNoTrace(h, member.did, before, challenge);

  // The attacker, signed in as themselves, presents the member's credential.
  const attackerAtB = new HarmonyClient(b.instance.origin, attacker);
  await attackerAtB.signIn();
  const stolen = await signCredentialPresentation(attacker, [credential], challenge, domain);
  assertRefused(await joinWith(attackerAtB, stolen), 403, "not_your_credential");
  // ... or names the member as holder of a presentation sent on their own session.
  assertRefused(await joinWith(attackerAtB, forged), 403, "wrong_holder");
  await assertNoTrace(h, attacker.did, await traces(h, attacker.did, challenge), challenge);

  // The untouched challenge still admits the real holder.
  const genuine = await signCredentialPresentation(atB.signer!, [credential], challenge, domain);
  assert.equal((await joinWith(atB, genuine)).status, 201);
});

Deno.test("a presentation with a wrong challenge or domain, or a tampered credential, is refused", async () => {
  const a = await community();
  await using _a = a.instance;
  const b = await community(ALLOW_PRIVATE);
  await using _b = b.instance;
  await admitBy(b, a.did);
  const h = b.instance.harmony;
  const { member, credential } = await alliedMember(a);
  const atB = await sameIdentityAt(member, b.instance.origin);
  const before = await traces(h, member.did);
  const signer = atB.signer!;
  const origin = b.instance.origin;

  const unknown = await signCredentialPresentation(signer, [credential], "not-a-challenge-we-issued", origin);
  assertRefused(await joinWith(atB, unknown), 401, "unknown_challenge");

  const { challenge } = await challengeOf(origin);
  const forA = await signCredentialPresentation(signer, [credential], challenge, a.instance.origin);
  assertRefused(await joinWith(atB, forA), 401, "wrong_domain");

  // A challenge issued by A, not B.
  const fromA = await challengeOf(a.instance.origin);
  const otherChallenge = await signCredentialPresentation(signer, [credential], fromA.challenge, origin);
  assertRefused(await joinWith(atB, otherChallenge), 401, "unknown_challenge");

  // The presentation's challenge edited after signing.
  const signed = await signCredentialPresentation(signer, [credential], "x".repeat(32), origin);
  const edited = { ...signed, proof: { ...signed.proof, challenge } };
  assertRefused(await joinWith(atB, edited), 401, "bad_signature");

  const stale = await signCredentialPresentation(
    signer,
    [credential],
    challenge,
    origin,
    "2020-01-01T00:00:00.000Z",
  );
  assertRefused(await joinWith(atB, stale), 401, "stale_presentation");

  // A credential edited inside a correctly signed presentation: the credential's own proof fails.
  const tampered = structuredClone(credential);
  tampered.credentialSubject.memberOf = `${a.instance.origin}/elsewhere`;
  const withTampered = await signCredentialPresentation(signer, [tampered], challenge, origin);
  assertRefused(await joinWith(atB, withTampered), 403, "invalid_credential");

  assertRefused(await joinWith(atB, "not a presentation"), 422, "malformed_presentation");
  assertRefused(await joinWith(atB, { ...withTampered, verifiableCredential: [] }), 422, "no_credential");
  await assertNoTrace(h, member.did, before, challenge);
});

Deno.test("an expired credential is refused", async () => {
  const b = await community(ALLOW_PRIVATE);
  await using _b = b.instance;
  const issuer = await testIssuer();
  await admitBy(b, issuer.did);
  const joiner = await quickClient(b.instance.origin);
  const expired = await issuer.issue({
    type: ["VerifiableCredential", "MembershipCredential"],
    issuer: issuer.did,
    validFrom: "2024-01-01T00:00:00Z",
    validUntil: new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, "Z"),
    credentialSubject: { id: joiner.did, memberOf: "https://allied.example/community" },
  });
  const { challenge, domain } = await challengeOf(b.instance.origin);
  const before = await traces(b.instance.harmony, joiner.did, challenge);
  const presentation = await signCredentialPresentation(joiner.signer!, [expired], challenge, domain);
  assertRefused(await joinWith(joiner, presentation), 403, "credential_expired");
  await assertNoTrace(b.instance.harmony, joiner.did, before, challenge);

  // The same issuer's credential without an end date (and without a status list) admits.
  const current = await issuer.issue({
    type: ["VerifiableCredential", "MembershipCredential"],
    issuer: issuer.did,
    validFrom: "2024-01-01T00:00:00Z",
    credentialSubject: { id: joiner.did, memberOf: "https://allied.example/community" },
  });
  const fine = await signCredentialPresentation(joiner.signer!, [current], challenge, domain);
  assert.equal((await joinWith(joiner, fine)).status, 201);
});

Deno.test("a status list at a private address is not fetched unless the instance allows private addresses", async () => {
  const a = await community();
  await using _a = a.instance;
  const b = await community(); // HARMONY_ALLOW_PRIVATE_ADDRESSES unset: A lives on 127.0.0.1
  await using _b = b.instance;
  await admitBy(b, a.did);
  const { member, credential } = await alliedMember(a);
  const atB = await sameIdentityAt(member, b.instance.origin);
  const { challenge, domain } = await challengeOf(b.instance.origin);
  const before = await traces(b.instance.harmony, member.did, challenge);
  const stats = { ...statusListStats };
  const refused = await joinWith(
    atB,
    await signCredentialPresentation(atB.signer!, [credential], challenge, domain),
  );
  assertRefused(refused, 503, "status_unavailable");
  assert.match(refused.json.message, /private addresses are not allowed|private address/);
  assert.equal(statusListStats.fetched, stats.fetched, "nothing was fetched");
  await assertNoTrace(b.instance.harmony, member.did, before, challenge);
});

Deno.test("an invite admits under every policy, and the policy is set through the API, the settings page or the old openJoin", async () => {
  const b = await community();
  await using _b = b.instance;
  const h = b.instance.harmony;
  const origin = b.instance.origin;
  const issuer = await testIssuer();
  await admitBy(b, issuer.did);
  await joinedMember(origin, b.owner); // by invite, with no credential at all

  // A signed-in visitor sees what to present, and the form the browser signs the presentation from.
  const visitor = await cookieSession(await quickClient(origin));
  const [channel] = await b.owner.channels();
  const chat = await http(origin, "GET", `/channels/${channel.id}`, { headers: { cookie: visitor.cookie } });
  assert.match(chat.text, /<form id="join-credential-form"/);
  assert.ok(chat.text.includes(issuer.did));
  assert.match(chat.text, /<strong>MembershipCredential<\/strong>/);

  const patch = (body: unknown) => http(origin, "PATCH", "/api/community", { token: b.owner.token!, body });
  assertRefused(await patch({ admission: { policy: "anyone" } }), 422, "invalid_admission");
  assertRefused(
    await patch({ admission: { policy: "credential", credentialType: "X" } }),
    422,
    "invalid_issuer",
  );
  assertRefused(
    await patch({
      admission: { policy: "credential", credentialType: "VerifiableCredential", issuer: issuer.did },
    }),
    422,
    "invalid_credential_type",
  );
  assertRefused(
    await patch({ openJoin: true, admission: { policy: "invite" } }),
    422,
    "conflicting_admission",
  );
  const member = await joinedMember(origin, b.owner);
  assertRefused(
    await http(origin, "PATCH", "/api/community", { token: member.token!, body: { openJoin: true } }),
    403,
  );
  assert.equal(
    (await patch({ openJoin: true })).json.admission.policy,
    "open",
    "openJoin: true is the open policy",
  );
  const anyone = await quickClient(origin);
  assert.equal((await anyone.join()).role, "member");
  assert.equal((await patch({ openJoin: false })).json.admission.policy, "invite");
  const nobody = await quickClient(origin);
  assertRefused(await http(origin, "POST", "/api/join", { token: nobody.token!, body: {} }), 403);

  // The settings page form.
  const session = await cookieSession(b.owner);
  const form = (fields: Record<string, string>) =>
    http(origin, "POST", "/ui/community", {
      raw: new URLSearchParams(fields).toString(),
      headers: {
        cookie: session.cookie,
        "x-csrf-token": session.csrfToken,
        "hx-request": "true",
        "content-type": "application/x-www-form-urlencoded",
      },
    });
  const saved = await form({
    name: "Allies",
    admission: "credential",
    credentialType: "MembershipCredential",
    issuer: issuer.did,
  });
  assert.equal(saved.status, 200, saved.text);
  assert.match(saved.text, /Community settings saved/);
  assert.match(saved.text, /value="credential" checked/);
  assert.ok(saved.text.includes(issuer.did));
  assert.deepEqual((await b.owner.community() as any).admission, {
    policy: "credential",
    credentialType: "MembershipCredential",
    issuer: issuer.did,
  });
  const page = await http(origin, "GET", "/settings", { headers: { cookie: session.cookie } });
  assert.ok(page.text.includes((await b.owner.community() as any).did), "shows the community's own DID");
  assert.equal((await form({ name: "Allies", admission: "open" })).status, 200);
  assert.equal((await b.owner.community()).openJoin, true);
  assert.equal((await form({ name: "Allies", admission: "credential", issuer: "nope" })).status, 422);

  // A database from before admission policies: the boolean is read, then migrated once.
  await h.writeCommunity(async (tx) => {
    const community = iri(h.iris.community);
    for (const predicate of [H.admission, H.admissionType, H.admissionIssuer]) {
      await quadStore.remove(tx, { graph: h.iris.community, subject: community, predicate });
    }
    await quadStore.insert(tx, [
      quad(
        community,
        H.openJoin,
        literal("false", "http://www.w3.org/2001/XMLSchema#boolean"),
        h.iris.community,
      ),
    ]);
  });
  assert.equal(
    (await b.owner.community() as any).admission.policy,
    "invite",
    "openJoin false reads as invite",
  );
  await migrateAdmission(h);
  const props = await quadStore.match(h.db, { graph: h.iris.community, subject: iri(h.iris.community) });
  assert.ok(!props.some((q) => q.predicate.value === H.openJoin.value), "the boolean is gone");
  assert.ok(props.some((q) => q.object.value === H.InviteAdmission.value));
});

Deno.test("the CLI joins by presenting a credential file", async () => {
  const a = await community();
  await using _a = a.instance;
  const b = await community(ALLOW_PRIVATE);
  await using _b = b.instance;
  await admitBy(b, a.did);
  const dir = await Deno.makeTempDir({ prefix: "harmony-cli-credentials-" });
  try {
    const identity = await identityFileFromMnemonic(generateMnemonic());
    await Deno.writeTextFile(`${dir}/me.json`, JSON.stringify(identity));
    let output = "";
    const io: Io = {
      out: (text) => Promise.resolve(void (output += text)),
      err: (text) => Promise.resolve(void (output += text)),
      stdout: new WritableStream(),
      readInput: () => Promise.resolve(""),
      env: () => undefined,
    };
    const harmony = (...args: string[]) => run(["--identity", `${dir}/me.json`, ...args], io);
    const invite = await a.owner.createInvite({ maxUses: 1 });
    assert.equal(await harmony("--server", a.instance.origin, "join", invite.code), 0, output);
    output = "";
    assert.equal(
      await harmony("--server", a.instance.origin, "credentials", "--out", `${dir}/creds`),
      0,
      output,
    );
    assert.match(output, /membership\s+valid/);
    const [file] = [...Deno.readDirSync(`${dir}/creds`)].map((e) => e.name);
    output = "";
    assert.equal(
      await harmony("--server", b.instance.origin, "join", "--credential", `${dir}/creds/${file}`),
      0,
      output,
    );
    assert.match(output, /You are a member/);
    assert.ok((await b.instance.harmony.snapshot()).members.has(identity.did));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a presentation made by a standard wallet library (eddsa-rdfc-2022) is accepted like the browser's", async () => {
  const b = await community(ALLOW_PRIVATE);
  await using _b = b.instance;
  const issuer = await testIssuer();
  await admitBy(b, issuer.did);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const holderKey: any = await Ed25519Multikey.generate({ seed: secret });
  const holder = `did:key:${holderKey.publicKeyMultibase}`;
  holderKey.controller = holder;
  holderKey.id = `${holder}#${holderKey.publicKeyMultibase}`;
  const joiner = new HarmonyClient(b.instance.origin, await signerFromSecret(holder, secret));
  await joiner.signIn();
  const credential = await issuer.issue({
    type: ["VerifiableCredential", "MembershipCredential"],
    issuer: issuer.did,
    validFrom: "2024-01-01T00:00:00Z",
    credentialSubject: { id: holder, memberOf: "https://allied.example/community" },
  });
  const { challenge, domain } = await challengeOf(b.instance.origin);
  const presentation = await vc.signPresentation({
    presentation: vc.createPresentation({ verifiableCredential: [credential], holder }),
    suite: new DataIntegrityProof({ signer: holderKey.signer(), cryptosuite: eddsaRdfc2022 }),
    challenge,
    domain,
    documentLoader: staticDocumentLoader,
  });
  assert.equal(presentation.proof.cryptosuite, "eddsa-rdfc-2022");
  const joined = await joinWith(joiner, presentation);
  assert.equal(joined.status, 201, joined.text);
});
