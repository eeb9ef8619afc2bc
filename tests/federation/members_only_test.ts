/**
 * A members-only channel does not exist for the outside: every ActivityPub
 * and well-known URL that could name it answers as it would for a channel
 * that was never created, except its actor document for a request signed
 * by one of its bridge peers (which need its keys).
 */
import assert from "node:assert/strict";
import { signRequest } from "@fedify/fedify";
import { signedByInstance } from "../../federation/keys.ts";
import { quadStore } from "../../db/quadstore.ts";
import { bridge, claimNode, eventually as until, joinNode, startNode } from "../bridges/support.ts";
import { AP_JSON, MastodonPeer } from "./mastodon_peer.ts";
import { createChannel, federatedInstance, getAp, sleep } from "./support.ts";

const BROWSER = "text/html,application/xhtml+xml";
/** A channel id that was never minted. */
const UNKNOWN_ID = "qqqqqqqqqq";
const UNKNOWN_NAME = "nosuchchannel";
const UNKNOWN_MESSAGE = "urn:uuid:0190d7c2-0000-7000-8000-000000000000";

Deno.test("a members-only channel answers every ActivityPub and well-known URL as an unknown one", async (t) => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await using mallory = await MastodonPeer.start({ name: "mallory" });
  const origin = instance.origin;
  const host = new URL(origin).host;
  const secret = await createChannel(origin, owner, {
    name: "staff",
    topic: "the secret plans",
    visibility: "members",
  });
  const open = await createChannel(origin, owner, { name: "lobby", topic: "all welcome" });
  const hidden = await owner.post(secret.id, "members only, please");
  await owner.post(secret.id, "another one");
  await owner.post(open.id, "hello world");

  /** Every URL under /ap/ and /.well-known/ that names a channel by id or name, or one of its messages. */
  const urls = (id: string, name: string, message: string) => {
    const uuid = message.replace("urn:uuid:", "");
    const actor = `${origin}/ap/actors/${id}`;
    return [
      [actor, AP_JSON],
      [actor, BROWSER],
      [`${actor}/outbox`, AP_JSON],
      [`${actor}/outbox?cursor=top`, AP_JSON],
      [`${actor}/followers`, AP_JSON],
      [`${actor}/followers?cursor=0`, AP_JSON],
      [`${actor}/channels`, AP_JSON],
      [`${actor}/inbox`, AP_JSON],
      [`${origin}/ap/notes/${uuid}`, AP_JSON],
      [`${origin}/ap/notes/${uuid}`, BROWSER],
      [`${origin}/.well-known/webfinger?resource=acct:${name}@${host}`, "application/jrd+json"],
      [`${origin}/.well-known/webfinger?resource=${encodeURIComponent(actor)}`, "application/jrd+json"],
    ] as const;
  };
  const answer = async (url: string, accept: string, id: string, name: string) => {
    const reply = await getAp(url, accept);
    return {
      status: reply.status,
      location: reply.headers.get("location"),
      body: reply.text.replaceAll(id, "ID").replaceAll(name, "NAME"),
    };
  };

  await t.step("GETs answer exactly as for a channel that does not exist", async () => {
    const mine = urls(secret.id, "staff", hidden.id);
    const none = urls(UNKNOWN_ID, UNKNOWN_NAME, UNKNOWN_MESSAGE);
    for (const [i, [url, accept]] of mine.entries()) {
      const got = await answer(url, accept, secret.id, "staff");
      const expected = await answer(none[i][0], accept, UNKNOWN_ID, UNKNOWN_NAME);
      assert.deepEqual(got, expected, `${url} (${accept})`);
      assert.notEqual(got.status, 200, `${url} (${accept})`);
      assert.doesNotMatch(got.body, /secret plans|members only/, url);
    }
  });

  await t.step("the public channel next to it is found, so the probe can tell", async () => {
    assert.equal((await getAp(`${origin}/ap/actors/${open.id}`)).status, 200);
    const finger = await getAp(
      `${origin}/.well-known/webfinger?resource=acct:lobby@${host}`,
      "application/jrd+json",
    );
    assert.equal(finger.status, 200);
  });

  await t.step("the instance's list of channels and NodeInfo leave it out", async () => {
    const list = await getAp(`${origin}/ap/actors/instance/channels`);
    assert.equal(list.status, 200);
    assert.doesNotMatch(list.text, new RegExp(`${secret.id}|staff`));
    const wellKnown = await getAp(`${origin}/.well-known/nodeinfo`, "application/json");
    const link = wellKnown.json.links.find((l: { rel: string }) => l.rel.endsWith("/2.1"));
    const nodeinfo = await getAp(link.href, "application/json");
    // Only the public channels' messages count: the members-only channel's volume stays inside.
    const publicMessages = (await owner.history(open.id)).messages.length +
      (await owner.history("general")).messages.length;
    assert.ok(publicMessages >= 1);
    assert.equal(nodeinfo.json.usage.localPosts, publicMessages);
  });

  await t.step("a signed Follow gets no answer, through its inbox or the shared inbox", async () => {
    const actor = `${origin}/ap/actors/${secret.id}`;
    const follow = mallory.mint("follows", { type: "Follow", actor: mallory.actorId, object: actor });
    const direct = await mallory.post(`${actor}/inbox`, follow);
    const unknown = await mallory.post(`${origin}/ap/actors/${UNKNOWN_ID}/inbox`, {
      ...follow,
      object: `${origin}/ap/actors/${UNKNOWN_ID}`,
    });
    assert.equal(direct.status, unknown.status);
    assert.equal(direct.text.replaceAll(secret.id, "ID"), unknown.text.replaceAll(UNKNOWN_ID, "ID"));
    const shared = mallory.mint("follows", { type: "Follow", actor: mallory.actorId, object: actor });
    assert.equal((await mallory.post(`${origin}/ap/inbox`, shared)).status, 202);
    await sleep(600);
    assert.deepEqual(mallory.find((b) => b.type === "Reject" || b.type === "Accept"), []);
    const h = instance.harmony;
    assert.deepEqual(await quadStore.match(h.db, { graph: h.iris.followers }), [], "no follower recorded");
  });

  await t.step("a GET signed by a server that is no bridge peer of it is still a 404", async () => {
    const request = await signRequest(
      new Request(`${origin}/ap/actors/${secret.id}`, { headers: { accept: AP_JSON } }),
      mallory.keys.privateKey,
      new URL(mallory.keyId),
    );
    assert.equal((await fetch(request)).status, 404);
  });

  await t.step("a capability invocation at its inbox is refused as at an unknown inbox", async () => {
    const invocation = (id: string) => ({
      type: "Create",
      actor: mallory.actorId,
      object: { type: "Message" },
      proof: { type: "DataIntegrityProof", proofPurpose: "capabilityInvocation", proofValue: "z1" },
      to: `${origin}/ap/actors/${id}`,
    });
    const send = async (id: string) => {
      const response = await fetch(`${origin}/ap/actors/${id}/inbox`, {
        method: "POST",
        headers: { "content-type": "application/activity+json" },
        body: JSON.stringify(invocation(id)),
      });
      return { status: response.status, body: (await response.text()).replaceAll(id, "ID") };
    };
    assert.deepEqual(await send(secret.id), await send(UNKNOWN_ID));
  });
});

Deno.test({
  name: "a bridged members-only channel shows its actor to its bridge peers only, and still replicates",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await startNode("a");
    await using b = await startNode("b");
    await using c = await startNode("c");
    const ownerA = await claimNode(a);
    const ownerB = await claimNode(b);
    await claimNode(c);
    const channelA = await ownerA.createChannel("council", { visibility: "members" });
    const channelB = await ownerB.createChannel("council", { visibility: "members" });
    await bridge(
      { node: a, owner: ownerA, channel: channelA },
      { node: b, owner: ownerB, channel: channelB },
    );
    const actorA = `${a.link.origin}/ap/actors/${channelA.id}`;
    const fetchAs = async (signer: typeof a | null) => {
      const request = new Request(actorA, { headers: { accept: AP_JSON } });
      const response = await fetch(
        signer ? await signedByInstance(signer.instance.harmony, request) : request,
      );
      return { status: response.status, text: await response.text() };
    };

    assert.equal((await fetchAs(null)).status, 404, "unsigned: unknown");
    assert.equal((await fetchAs(c)).status, 404, "signed by an instance that is no peer: unknown");
    const seen = await fetchAs(b);
    assert.equal(seen.status, 200, "signed by the bridge peer: its Group");
    assert.equal(JSON.parse(seen.text).id, actorA);

    // The peers verify each other's invocations with those keys: messages cross both ways.
    const alice = await joinNode(a, ownerA);
    const bob = await joinNode(b, ownerB);
    await alice.post("council", "from a");
    await bob.post("council", "from b");
    for (const client of [alice, bob]) {
      await until(`${client.server} to see both messages`, async () => {
        return (await client.history("council")).messages.length === 2;
      });
    }
  },
});
