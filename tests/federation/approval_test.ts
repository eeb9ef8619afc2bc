/** Who may follow: channels that approve followers manually, and members-only channels. */
import assert from "node:assert/strict";
import { assertNoInjectedMarkup, cookieSession, http, joinedMember } from "../http/support.ts";
import { MastodonPeer } from "./mastodon_peer.ts";
import {
  createChannel,
  eventually,
  federatedInstance,
  followersOf,
  getAp,
  groupOf,
  sleep,
} from "./support.ts";

Deno.test("a follow of a channel that approves followers stays pending until an admin decides", async (t) => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await using alice = await MastodonPeer.start({ name: "alice" });
  await using bob = await MastodonPeer.start({ name: "bob" });
  const origin = instance.origin;
  const channel = await createChannel(origin, owner, { name: "curated", approveFollowers: true });
  assert.equal(channel.approveFollowers, true);
  const group = groupOf(origin, channel.id);
  const requests = async () =>
    (await http(origin, "GET", `/api/channels/${channel.id}/followers`, { token: owner.token! })).json;

  await t.step("the Group says it approves followers manually", async () => {
    assert.equal((await getAp(group)).json.manuallyApprovesFollowers, true);
  });

  await t.step("the Follow is pending: no Accept, not in the followers collection", async () => {
    const { reply } = await alice.follow(group);
    assert.equal(reply.status, 202);
    const pending = await eventually(async () => (await requests()).pending[0], "the pending request");
    assert.equal(pending.actor, alice.actorId);
    await sleep(300);
    assert.equal(alice.find((b) => b.type === "Accept" || b.type === "Reject").length, 0);
    assert.deepEqual(await followersOf(origin, channel.id), []);
    await owner.post("curated", "not for pending followers");
    await sleep(300);
    assert.equal(alice.find((b) => b.type === "Announce").length, 0);
  });

  await t.step("a member who is not an admin cannot answer it (403)", async () => {
    const member = await joinedMember(origin, owner);
    const reply = await http(origin, "POST", `/api/channels/${channel.id}/followers/approve`, {
      body: { actor: alice.actorId },
      token: member.token!,
    });
    assert.equal(reply.status, 403);
    assert.equal((await requests()).pending.length, 1);
  });

  await t.step("an admin approves it: the peer gets the Accept and becomes a follower", async () => {
    const reply = await http(origin, "POST", `/api/channels/${channel.id}/followers/approve`, {
      body: { actor: alice.actorId },
      token: owner.token!,
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.state, "accepted");
    await alice.waitFor((b) => b.type === "Accept", "the Accept");
    assert.deepEqual(await followersOf(origin, channel.id), [alice.actorId]);
    await owner.post("curated", "for approved followers");
    await alice.waitFor((b) => b.type === "Announce" && b.object?.content?.includes("approved"), "the post");
  });

  await t.step("an admin rejects another request: the peer gets a Reject and is not a follower", async () => {
    await bob.follow(group);
    await eventually(async () => (await requests()).pending.length === 1, "bob's request");
    const reply = await http(origin, "POST", `/api/channels/${channel.id}/followers/reject`, {
      body: { actor: bob.actorId },
      token: owner.token!,
    });
    assert.equal(reply.status, 200, reply.text);
    const reject = await bob.waitFor((b) => b.type === "Reject", "the Reject");
    assert.equal(reject.body.actor, group);
    assert.equal((await getAp(reject.body.id)).json.type, "Reject");
    assert.deepEqual(await followersOf(origin, channel.id), [alice.actorId]);
    assert.deepEqual((await requests()).pending, []);
  });
});

Deno.test("a members-only channel takes no followers and publishes nothing", async () => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await using peer = await MastodonPeer.start({ name: "carol" });
  const origin = instance.origin;
  const secret = await createChannel(origin, owner, { name: "staff", visibility: "members" });
  const group = groupOf(origin, secret.id);

  // Its Group is not there for the outside (tests/federation/members_only_test.ts has the rest)…
  assert.equal((await getAp(group)).status, 404);
  // …a Follow sent anyway gets no answer at all, not even a Reject that would tell it exists,
  const follow = peer.mint("follows", { type: "Follow", actor: peer.actorId, object: group });
  assert.equal((await peer.post(`${origin}/ap/inbox`, follow)).status, 202);
  // and its messages, outbox and followers are not served.
  const message = await owner.post("staff", "members only");
  assert.equal((await getAp(`${origin}/ap/notes/${message.id.replace("urn:uuid:", "")}`)).status, 404);
  assert.equal((await getAp(`${group}/outbox`)).status, 404);
  assert.equal((await getAp(`${group}/followers`)).status, 404);
  await sleep(300);
  assert.equal(peer.find((b) => b.type === "Announce" || b.type === "Reject").length, 0);
});

Deno.test("a public channel made members-only stops federating to its followers", async () => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await using peer = await MastodonPeer.start({ name: "dave" });
  const origin = instance.origin;
  const channel = await createChannel(origin, owner, { name: "closing" });
  await peer.follow(groupOf(origin, channel.id));
  await peer.waitFor((b) => b.type === "Accept", "the Accept");
  const reply = await http(origin, "PATCH", `/api/channels/${channel.id}`, {
    body: { visibility: "members" },
    token: owner.token!,
  });
  assert.equal(reply.status, 200);
  await owner.post("closing", "now private");
  await sleep(400);
  assert.equal(peer.find((b) => b.type === "Announce").length, 0);
});

Deno.test("admins set a channel's fediverse policy and answer follow requests in the settings page", async () => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await using peer = await MastodonPeer.start({ name: "erin" });
  const origin = instance.origin;
  const channel = await createChannel(origin, owner, { name: "townhall" });
  const browser = await cookieSession(owner);
  const form = ({ path = "", ...fields }: Record<string, string>) =>
    http(origin, "POST", `/ui/channels/${channel.id}${path}`, {
      raw: new URLSearchParams({ ...fields, _csrf: browser.csrfToken }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: browser.cookie },
    });

  const saved = await form({
    name: "townhall",
    topic: "",
    visibility: "public",
    fediverse: "1",
    approveFollowers: "true",
    fediverseReplies: "open",
  });
  assert.equal(saved.status, 200, saved.text);
  let current = (await http(origin, "GET", `/api/channels/${channel.id}`)).json;
  assert.equal(current.approveFollowers, true);
  assert.equal(current.fediverseReplies, "open");

  await peer.follow(groupOf(origin, channel.id));
  const page = await eventually(async () => {
    const reply = await http(origin, "GET", "/settings", { headers: { cookie: browser.cookie } });
    return reply.text.includes(`erin@127.0.0.1:${peer.port}`) ? reply.text : undefined;
  }, "the request in the settings page");
  assert.match(page, /1 waiting for approval/);
  assertNoInjectedMarkup(page, "settings with a follow request");

  const approved = await form({ path: "/followers/approve", actor: peer.actorId });
  assert.equal(approved.status, 200, approved.text);
  await peer.waitFor((b) => b.type === "Accept", "the Accept");
  assert.match(approved.text, /1 fediverse follower\b/);

  // Unchecking the box (the browser sends nothing for it) turns approval off again.
  await form({
    name: "townhall",
    topic: "",
    visibility: "public",
    fediverse: "1",
    fediverseReplies: "members",
  });
  current = (await http(origin, "GET", `/api/channels/${channel.id}`)).json;
  assert.equal(current.approveFollowers, false);
  assert.equal(current.fediverseReplies, "members");
});
