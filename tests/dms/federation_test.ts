/**
 * DMs between two real Harmony instances on loopback ports, each behind a
 * recording proxy that is its public origin: every byte of every request
 * and response between the instances (and of the API calls) is kept, and
 * so are the libSQL files. The plaintext is never in any of them.
 */
import assert from "node:assert/strict";
import type { HarmonyClient } from "../../cli/client.ts";
import { actorUri, INSTANCE, memberIdentifier } from "../../federation/uris.ts";
import { actorKeys, rsaKeyId } from "../../federation/keys.ts";
import { dmActivity } from "../../federation/dms.ts";
import { queueJobs } from "../../db/schema.ts";
import { signRequest } from "@fedify/fedify";
import { base64urlnopad } from "@scure/base";
import { eq } from "drizzle-orm";
import { assertRefused, http } from "../http/support.ts";
import { eventually, federatedInstance } from "../federation/support.ts";
import { platformFetch } from "../../server/net/outbound.ts";
import { type DmMember, dmMember, joinedMember } from "./support.ts";

interface Recorded {
  url: string;
  request: string;
  response: string;
}

/**
 * Records every HTTP exchange made in this process while `work` runs: both
 * instances' outgoing requests (deliveries, actor and NodeInfo fetches) and
 * the test's API calls go through `fetch`; their answers are recorded
 * decoded (after any content encoding is undone).
 */
async function recordingFetch<T>(traffic: Recorded[], work: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const body = request.body ? await request.clone().text() : "";
    const response = await original(request);
    const type = response.headers.get("content-type") ?? "";
    const answer = type.includes("event-stream") ? "" : await response.clone().text();
    traffic.push({ url: request.url, request: body, response: answer });
    return response;
  };
  try {
    return await work();
  } finally {
    globalThis.fetch = original;
  }
}

interface RecordedNode {
  origin: string;
  dir: string;
  owner: HarmonyClient;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What an instance sends to other servers, recorded as it leaves (server/net/outbound.ts's transport). */
function recordingTransport(traffic: Recorded[]): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const body = request.body ? await request.clone().text() : "";
    const response = await platformFetch(request, init);
    traffic.push({ url: request.url, request: body, response: await response.clone().text() });
    return response;
  };
}

async function recordedNode(traffic?: Recorded[]): Promise<RecordedNode> {
  const transport = traffic && recordingTransport(traffic);
  const { instance, owner } = await federatedInstance({}, { outbound: { transport } });
  return {
    origin: instance.origin,
    dir: instance.dir,
    owner,
    [Symbol.asyncDispose]: () => instance[Symbol.asyncDispose](),
  };
}

const enc = encodeURIComponent;

async function history(node: RecordedNode, me: DmMember, peer: string) {
  return (await http(node.origin, "GET", `/api/dms/${enc(peer)}`, { token: me.client.token! })).json;
}

/** Every byte of the instance's libSQL files (database, WAL, shared memory), as Latin-1 text. */
async function databaseBytes(dir: string): Promise<string> {
  let all = "";
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.startsWith("harmony.db")) continue;
    const bytes = await Deno.readFile(`${dir}/${entry.name}`);
    all += new TextDecoder("latin1").decode(bytes);
  }
  return all;
}

Deno.test({
  name:
    "DMs travel between two Harmony instances as ciphertext both ways; no database file, wire body or API answer holds the plaintext",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const traffic: Recorded[] = [];
    await recordingFetch(traffic, () => dmsBothWays(traffic));
  },
});

async function dmsBothWays(traffic: Recorded[]): Promise<void> {
  await using a = await recordedNode(traffic);
  await using b = await recordedNode(traffic);
  const alice = await joinedMember(a.origin, a.owner);
  const bob = await joinedMember(b.origin, b.owner);
  const bobActor = actorUri(b.origin, memberIdentifier(bob.did));
  const aliceActor = actorUri(a.origin, memberIdentifier(alice.did));
  const markers = [`PLAINTEXT-MARKER-${crypto.randomUUID()}`, `REPLY-MARKER-${crypto.randomUUID()}`];

  // Alice finds Bob by his actor URL on B (a Harmony member actor whose alsoKnownAs is his did:key).
  const resolved = await http(a.origin, "GET", `/api/dms/resolve?actor=${enc(bobActor)}`, {
    token: alice.client.token!,
  });
  assert.equal(resolved.status, 200, resolved.text);
  assert.equal(resolved.json.did, bob.did);

  const first = await alice.seal(bob.did, `hello Bob ${markers[0]}`);
  const sent = await http(a.origin, "POST", "/api/dms", {
    body: { envelope: first, actor: bobActor },
    token: alice.client.token!,
  });
  assert.equal(sent.status, 201, sent.text);

  const atB = await eventually(async () => {
    const page = await history(b, bob, alice.did);
    return page.messages.length === 1 ? page : undefined;
  }, "the DM to arrive on B");
  assert.equal(await bob.open(atB.messages[0].envelope), `hello Bob ${markers[0]}`);
  assert.equal(atB.peerActor, aliceActor);
  const bobList = (await http(b.origin, "GET", "/api/dms", { token: bob.client.token! })).json;
  assert.equal(bobList.unread, 1);

  // Bob answers; B knows Alice's actor from her message, so no actor is needed.
  const reply = await bob.seal(alice.did, `hi Alice ${markers[1]}`);
  const replied = await http(b.origin, "POST", "/api/dms", {
    body: { envelope: reply },
    token: bob.client.token!,
  });
  assert.equal(replied.status, 201, replied.text);
  const atA = await eventually(async () => {
    const page = await history(a, alice, bob.did);
    return page.messages.length === 2 ? page : undefined;
  }, "the reply to arrive on A");
  assert.deepEqual(
    await Promise.all(atA.messages.map((m: { envelope: unknown }) => alice.open(m.envelope))),
    [`hello Bob ${markers[0]}`, `hi Alice ${markers[1]}`],
  );

  // The wire carried the activities (the recording works) ...
  const wire = traffic;
  const creates = wire.filter((r) => r.request.includes('"EncryptedMessage"'));
  assert.ok(creates.length >= 2, "both Creates were recorded");
  assert.ok(creates.some((r) => r.request.includes(first.ciphertext)));
  for (const r of creates) assert.ok(!r.request.includes('"content"'), "the Create has no readable content");
  // ... and neither it, nor any API answer, nor any database file holds the plaintext.
  for (const marker of markers) {
    for (const r of wire) {
      assert.ok(!r.request.includes(marker), `plaintext in a request to ${r.url}`);
      assert.ok(!r.response.includes(marker), `plaintext in the response of ${r.url}`);
    }
    for (const node of [a, b]) {
      assert.ok(
        !(await databaseBytes(node.dir)).includes(marker),
        `plaintext in the database files of ${node.origin}`,
      );
    }
  }
  // The ciphertext itself is stored (the scan reads the right files).
  assert.ok((await databaseBytes(b.dir)).includes(first.ciphertext.slice(0, 40)));
}

Deno.test({
  name:
    "refuses to send a DM to an actor that is not a Harmony member (a channel Group) and to a wrong recipient",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await recordedNode();
    await using b = await recordedNode();
    const alice = await joinedMember(a.origin, a.owner);
    const bob = await joinedMember(b.origin, b.owner);
    const channels = (await http(b.origin, "GET", "/api/channels")).json as Array<{ id: string }>;
    const group = actorUri(b.origin, channels[0].id);
    assertRefused(
      await http(a.origin, "GET", `/api/dms/resolve?actor=${enc(group)}`, { token: alice.client.token! }),
      422,
      "not_a_member_actor",
    );
    const envelope = await alice.seal(bob.did, "hi");
    assertRefused(
      await http(a.origin, "POST", "/api/dms", {
        body: { envelope, actor: group },
        token: alice.client.token!,
      }),
      422,
      "not_a_member_actor",
    );
    // Bob's actor, but an envelope for someone else.
    const carol = await dmMember(b.origin, false);
    const misdirected = await alice.seal(carol.did, "hi");
    assertRefused(
      await http(a.origin, "POST", "/api/dms", {
        body: { envelope: misdirected, actor: actorUri(b.origin, memberIdentifier(bob.did)) },
        token: alice.client.token!,
      }),
      422,
      "recipient_mismatch",
    );
  },
});

Deno.test({
  name:
    "an inbox drops DMs whose envelope is not signed by the actor's did:key or was altered, and keeps a genuine one",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance: a, owner: ownerA } = await federatedInstance();
    await using _a = a;
    const { instance: b, owner: ownerB } = await federatedInstance();
    await using _b = b;
    const alice = await joinedMember(a.origin, ownerA);
    const mallory = await joinedMember(a.origin, ownerA);
    const bob = await joinedMember(b.origin, ownerB);
    const bobActor = actorUri(b.origin, memberIdentifier(bob.did));
    const inbox = `${bobActor}/inbox`;
    // Deliveries signed exactly as A signs them (its instance actor's RSA key), with crafted contents.
    const { rsa } = await actorKeys(a.harmony, INSTANCE);
    const deliver = async (activity: Record<string, unknown>) => {
      const request = await signRequest(
        new Request(inbox, {
          method: "POST",
          headers: { "content-type": "application/activity+json" },
          body: JSON.stringify(activity),
        }),
        rsa.privateKey,
        new URL(rsaKeyId(actorUri(a.origin, INSTANCE))),
      );
      const response = await fetch(request);
      await response.body?.cancel();
      return response.status;
    };

    // Mallory's envelope presented as coming from Alice's actor.
    const forged = dmActivity(a.origin, await mallory.seal(bob.did, "forged"), bobActor);
    (forged.object as Record<string, unknown>).attributedTo = actorUri(a.origin, memberIdentifier(alice.did));
    assert.equal(await deliver(forged), 202);
    // Alice's envelope with one ciphertext byte changed.
    const genuine = await alice.seal(bob.did, "altered");
    const bytes = base64urlnopad.decode(genuine.ciphertext);
    bytes[3] ^= 1;
    assert.equal(
      await deliver(dmActivity(a.origin, { ...genuine, ciphertext: base64urlnopad.encode(bytes) }, bobActor)),
      202,
    );
    // An unsigned request is refused outright.
    const unsigned = await fetch(inbox, {
      method: "POST",
      headers: { "content-type": "application/activity+json" },
      body: JSON.stringify(dmActivity(a.origin, await alice.seal(bob.did, "unsigned"), bobActor)),
    });
    await unsigned.body?.cancel();
    assert.equal(unsigned.status, 401);
    // A genuine one goes through.
    const real = await alice.seal(bob.did, "real");
    assert.equal(await deliver(dmActivity(a.origin, real, bobActor)), 202);

    await eventually(async () => {
      const page =
        (await http(b.origin, "GET", `/api/dms/${enc(alice.did)}`, { token: bob.client.token! })).json;
      return page.messages.length === 1 ? page : undefined;
    }, "the genuine DM");
    await eventually(
      async () => (await b.harmony.db.$count(queueJobs, eq(queueJobs.queue, "fedify"))) === 0,
      "B's inbox queue to drain",
    );
    const list = (await http(b.origin, "GET", "/api/dms", { token: bob.client.token! })).json;
    assert.equal(list.conversations.length, 1, "nothing from Mallory");
    const page =
      (await http(b.origin, "GET", `/api/dms/${enc(alice.did)}`, { token: bob.client.token! })).json;
    assert.deepEqual(page.messages.map((m: { envelope: { id: string } }) => m.envelope.id), [real.id]);
  },
});
