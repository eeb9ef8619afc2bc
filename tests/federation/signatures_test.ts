/**
 * Every inbound activity must carry a valid HTTP signature by a key its
 * actor owns: anything else is refused with 401 and changes nothing.
 */
import assert from "node:assert/strict";
import { signRequest } from "@fedify/fedify";
import { quadStore } from "../../db/quadstore.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { AP_JSON, MastodonPeer } from "./mastodon_peer.ts";
import { channelNamed, eventually, federatedInstance, followersOf, groupOf, sleep } from "./support.ts";

Deno.test("inbox POSTs without a valid signature of the actor's own key are refused (401) with no effect", async (t) => {
  const { instance } = await federatedInstance();
  await using _instance = instance;
  await using alice = await MastodonPeer.start({ name: "alice" });
  await using mallory = await MastodonPeer.start({ name: "mallory" });
  const origin = instance.origin;
  const general = await channelNamed(origin, "general");
  const group = groupOf(origin, general.id);
  const inbox = `${group}/inbox`;
  const h = instance.harmony;
  const followersGraph = () => quadStore.count(h.db, { graph: h.iris.followers });
  const followOf = (peer: MastodonPeer) =>
    peer.mint("follows", { type: "Follow", actor: alice.actorId, object: group });

  await t.step("an unsigned Follow is refused", async () => {
    const reply = await alice.post(inbox, followOf(alice), { unsigned: true });
    assert.equal(reply.status, 401, reply.text);
  });

  await t.step("a Follow whose Digest does not match its body is refused", async () => {
    const reply = await alice.post(inbox, followOf(alice), { tamper: "digest" });
    assert.equal(reply.status, 401, reply.text);
  });

  await t.step("a Follow whose signature was altered is refused", async () => {
    const reply = await alice.post(inbox, followOf(alice), { tamper: "signature" });
    assert.equal(reply.status, 401, reply.text);
  });

  await t.step("a Follow signed with another key under the actor's key id is refused", async () => {
    const reply = await alice.post(`${origin}/ap/inbox`, followOf(alice), {
      privateKey: mallory.keys.privateKey,
      keyId: alice.keyId,
    });
    assert.equal(reply.status, 401, reply.text);
  });

  await t.step("a Follow in the actor's name signed by someone else's own key is refused", async () => {
    // Mallory signs correctly with her own key, but the activity claims to come from Alice.
    const reply = await mallory.post(inbox, followOf(mallory));
    assert.equal(reply.status, 401, reply.text);
    assert.match(reply.text, /signer and the actor do not match/);
  });

  await t.step("none of them had any effect", async () => {
    await sleep(300);
    assert.equal(await followersGraph(), 0);
    assert.deepEqual(await followersOf(origin, general.id), []);
    assert.equal(alice.received.length, 0);
  });

  await t.step("the same Follow, properly signed (draft-cavage, RSA), is accepted", async () => {
    const reply = await alice.post(inbox, followOf(alice));
    assert.equal(reply.status, 202, reply.text);
    await alice.waitFor((b) => b.type === "Accept", "the Accept");
    assert.deepEqual(await followersOf(origin, general.id), [alice.actorId]);
  });

  await t.step("an activity signed with RFC 9421 HTTP Message Signatures is accepted too", async () => {
    const follow = mallory.mint("follows", { type: "Follow", actor: mallory.actorId, object: group });
    const body = JSON.stringify(follow);
    const request = new Request(inbox, {
      method: "POST",
      headers: { "content-type": AP_JSON, date: new Date().toUTCString() },
      body,
    });
    const signed = await signRequest(request, mallory.keys.privateKey, new URL(mallory.keyId), {
      spec: "rfc9421",
      body: new TextEncoder().encode(body).buffer,
    });
    assert.ok(signed.headers.get("signature-input"));
    const response = await fetch(signed);
    assert.equal(response.status, 202, await response.text());
    await mallory.waitFor((b) => b.type === "Accept", "the Accept");
  });
});

Deno.test("without HARMONY_ALLOW_PRIVATE_ADDRESSES a loopback peer's key is not fetched: its Follow is refused", async () => {
  const { instance } = await claimedInstance();
  await using _instance = instance;
  await using peer = await MastodonPeer.start({ name: "local" });
  const general = await channelNamed(instance.origin, "general");
  const group = groupOf(instance.origin, general.id);
  const follow = peer.mint("follows", { type: "Follow", actor: peer.actorId, object: group });
  const reply = await peer.post(`${group}/inbox`, follow);
  assert.equal(reply.status, 401, reply.text);
  await sleep(200);
  assert.equal(peer.received.length, 0);
  assert.equal(await eventually(() => peer.keyFetches === 0, "no key fetch"), true);
});
