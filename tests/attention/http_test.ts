import assert from "node:assert/strict";
import type { ChannelJson, HarmonyClient, MessageJson } from "../../cli/client.ts";
import { signMessage } from "../../server/documents/documents.ts";
import { attentionOf, type Timers } from "../../server/attention/live.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { assertRefused, http, joinedMember, randomSigner } from "../http/support.ts";
import { eventually, Sse } from "./support.ts";

interface Summary {
  channels: Record<string, { messages: number; mentions: number }>;
  mentions: number;
  roles: string[];
}

const summary = (client: HarmonyClient) => client.request<Summary>("GET", "/attention");

async function setup() {
  const { instance, owner } = await claimedInstance();
  const origin = instance.origin;
  const ada = await joinedMember(origin, owner);
  await ada.setProfile("Ada");
  const bob = await joinedMember(origin, owner);
  await bob.setProfile("Bob");
  const [general] = await owner.channels() as ChannelJson[];
  return { instance, owner, ada, bob, general, origin };
}

/** A signed Message posted as-is (bypassing the client's resolver). */
async function postRaw(client: HarmonyClient, channel: ChannelJson, content: string, mentions: string[]) {
  const message = await signMessage(client.signer!, channel.iri, content, undefined, undefined, { mentions });
  return await http(client.server, "POST", `/api/channels/${channel.id}/messages`, {
    token: client.token!,
    body: { message },
  });
}

Deno.test("a mention resolves @name to the member's DID, which the signature binds, and notifies them", async () => {
  const { instance, ada, bob, general, origin } = await setup();
  await using _ = instance;
  const posted = await bob.post(general.id, "hello @Ada, welcome");
  assert.equal(posted.content, `hello <@${ada.did}>, welcome`);
  const signed = await bob.request<{ signed: { message: { mentions?: string[] } } }>(
    "GET",
    `/messages/${encodeURIComponent(posted.id)}`,
  );
  assert.deepEqual(signed.signed.message.mentions, [ada.did], "the signed document lists the DID");

  const forAda = await summary(ada);
  assert.equal(forAda.mentions, 1);
  assert.deepEqual(forAda.channels[general.id], { messages: 1, mentions: 1 });
  assert.equal((await summary(bob)).mentions, 0, "the author is not notified");

  // Ada renames herself: the message shows her current name.
  await ada.setProfile("Ada L.");
  const page = await http(origin, "GET", `/channels/${general.id}`, { token: bob.token! });
  assert.match(page.text, new RegExp(`<span class="mention" data-mention="${ada.did}">@Ada L\\.</span>`));
  const list = await ada.request<
    { notifications: Array<{ message: string; permalink: string; unread: boolean }> }
  >(
    "GET",
    "/notifications",
  );
  assert.equal(list.notifications.length, 1);
  assert.equal(list.notifications[0].permalink, `/channels/${general.id}/messages/${posted.id.slice(9)}`);
  assert.equal(list.notifications[0].unread, true);
});

Deno.test("refuses a mention of a DID that is not a member, and writes nothing", async () => {
  const { instance, bob, general } = await setup();
  await using _ = instance;
  const stranger = (await randomSigner()).did;
  const reply = await postRaw(bob, general, `hi <@${stranger}>`, [stranger]);
  assertRefused(reply, 422, "unknown_mention");
  assert.match(reply.json.message, /not a member/);
  const history = await bob.history(general.id);
  assert.equal(history.messages.length, 0);
  // A role IRI of another community is refused too.
  const foreign = await postRaw(bob, general, "hi <@&helpers>", ["https://elsewhere.example/roles/helpers"]);
  assertRefused(foreign, 422, "unknown_mention");
});

Deno.test("refuses an oversized or inconsistent mentions list", async () => {
  const { instance, ada, bob, general } = await setup();
  await using _ = instance;
  const dids = await Promise.all(
    Array.from({ length: 21 }, async () => (await randomSigner()).did),
  );
  const many = await postRaw(bob, general, dids.map((d) => `<@${d}>`).join(" "), dids);
  assertRefused(many, 422, "too_many_mentions");
  const huge = Array.from({ length: 101 }, () => dids[0]);
  assertRefused(await postRaw(bob, general, "x", huge), 422, "malformed_document");
  // The list must be exactly the tokens of the text: no silent mentions, no unlisted tokens.
  assertRefused(await postRaw(bob, general, "no tokens here", [ada.did]), 422, "mentions_mismatch");
  assertRefused(await postRaw(bob, general, `hi <@${ada.did}>`, []), 422, "mentions_mismatch");
  assertRefused(await postRaw(bob, general, `<@${ada.did}>`, [ada.did, ada.did]), 422, "duplicate_mentions");
  assert.equal((await bob.history(general.id)).messages.length, 0);
  assert.equal((await summary(ada)).mentions, 0);
});

Deno.test("read markers are kept per member: one member reading leaves another's unread", async () => {
  const { instance, owner, ada, bob, general } = await setup();
  await using _ = instance;
  for (const text of ["one", "two", "three"]) await owner.post(general.id, text);
  assert.equal((await summary(ada)).channels[general.id].messages, 3);
  const marked = await ada.request<{ lamport: number }>("POST", `/channels/${general.id}/read`, {});
  assert.ok(marked.lamport >= 3);
  assert.equal((await summary(ada)).channels[general.id].messages, 0);
  assert.equal((await summary(bob)).channels[general.id].messages, 3, "Bob's marker did not move");
  // Markers only move forward.
  await ada.request("POST", `/channels/${general.id}/read`, { lamport: 0 });
  assert.equal((await summary(ada)).channels[general.id].messages, 0);
  assertRefused(
    await http(ada.server, "POST", `/api/channels/${general.id}/read`, {
      token: ada.token!,
      body: { lamport: -1 },
    }),
    422,
    "invalid_marker",
  );
  // Signed out: refused.
  assertRefused(await http(ada.server, "POST", `/api/channels/${general.id}/read`, { body: {} }), 401);
  // Own messages are never unread.
  await bob.post(general.id, "mine");
  assert.equal((await summary(bob)).channels[general.id].messages, 3);
});

Deno.test("unread and mention counts follow edits and deletions", async () => {
  const { instance, owner, ada, general } = await setup();
  await using _ = instance;
  const first = await owner.post(general.id, "ping @Ada");
  const second = await owner.post(general.id, "again @Ada");
  assert.deepEqual((await summary(ada)).channels[general.id], { messages: 2, mentions: 2 });

  await owner.edit(first, "ping nobody");
  assert.deepEqual((await summary(ada)).channels[general.id], { messages: 2, mentions: 1 });
  await owner.delete(second);
  assert.deepEqual((await summary(ada)).channels[general.id], { messages: 1, mentions: 0 });
  const edited = await owner.edit(first as MessageJson, "ping @Ada after all");
  assert.equal(edited.content, `ping <@${ada.did}> after all`);
  assert.deepEqual((await summary(ada)).channels[general.id], { messages: 1, mentions: 1 });
  // The derived table is rebuilt from the quads to the same rows.
  const h = instance.harmony;
  const before = await h.database.client.execute("SELECT message, target FROM mentions ORDER BY message");
  const { rebuildIndexes } = await import("../../server/exchange/indexes.ts");
  await h.database.write((tx) => rebuildIndexes(tx));
  const after = await h.database.client.execute("SELECT message, target FROM mentions ORDER BY message");
  assert.deepEqual(
    after.rows.map((r) => [r.message, r.target]),
    before.rows.map((r) => [r.message, r.target]),
  );
  assert.equal(after.rows.length, 1);
});

Deno.test("a role mention notifies the members holding the role; mark read and mark all read", async () => {
  const { instance, owner, ada, bob, general } = await setup();
  await using _ = instance;
  await owner.createRole("Helpers", ["post"]);
  await owner.assignRole(ada.did, "helpers");
  const posted = await bob.post(general.id, "calling @helpers");
  assert.equal(posted.content, "calling <@&helpers>");
  assert.equal((await summary(ada)).mentions, 1, "Ada holds the role");
  assert.equal((await summary(owner)).mentions, 0, "the owner does not");

  await owner.post(general.id, "and @Ada directly");
  assert.equal((await summary(ada)).mentions, 2);
  await ada.request("POST", "/notifications/read", { message: posted.id });
  assert.equal((await summary(ada)).mentions, 1);
  assert.equal((await summary(ada)).channels[general.id].messages, 2, "the channel itself stays unread");
  assert.deepEqual(await ada.request("POST", "/notifications/read-all"), { marked: 1 });
  assert.equal((await summary(ada)).mentions, 0);
  assertRefused(
    await http(ada.server, "POST", "/api/notifications/read", { token: ada.token!, body: { message: "x" } }),
    422,
    "invalid_message",
  );
});

Deno.test("typing: needs a session and the post authority, and is rate limited", async () => {
  const { instance, ada, general, origin } = await setup();
  await using _ = instance;
  let now = 1_000_000;
  attentionOf(instance.harmony).configure({ now: () => now });
  const path = `/api/channels/${general.id}/typing`;
  assertRefused(await http(origin, "POST", path), 401);
  const outsider = await (await import("../http/support.ts")).quickClient(origin);
  assertRefused(await http(origin, "POST", path, { token: outsider.token! }), 403);
  assert.equal((await http(origin, "POST", path, { token: ada.token! })).status, 204);
  assertRefused(await http(origin, "POST", path, { token: ada.token! }), 429, "rate_limited");
  now += 3_000;
  assert.equal((await http(origin, "POST", path, { token: ada.token! })).status, 204);
  assert.deepEqual(attentionOf(instance.harmony).typing.list(general.iri), [ada.did]);
  now += 6_000;
  assert.deepEqual(attentionOf(instance.harmony).typing.list(general.iri), [], "the signal expired");
});

/** Timers fired by hand: the presence grace period without waiting. */
function manualTimers(): Timers & { fire(): void; count(): number } {
  const due = new Map<number, () => void>();
  let next = 1;
  return {
    set(fn) {
      due.set(next, fn);
      return next++;
    },
    clear(handle) {
      due.delete(handle as number);
    },
    fire() {
      const fns = [...due.values()];
      due.clear();
      for (const fn of fns) fn();
    },
    count: () => due.size,
  };
}

Deno.test("presence: an open stream is online, idle on report, offline once the grace period after the last close runs out", async () => {
  const { instance, ada, bob, general, origin } = await setup();
  await using _ = instance;
  const timers = manualTimers();
  const hub = attentionOf(instance.harmony);
  hub.configure({ timers, coalesceMs: 0 });
  assert.equal(hub.presence.statusOf(ada.did), "offline");

  const watcher = await Sse.open(`${origin}/channels/${general.id}/live`, {
    authorization: `Bearer ${bob.token}`,
  });
  try {
    const stream = await Sse.open(`${origin}/channels/${general.id}/live`, {
      authorization: `Bearer ${ada.token}`,
    });
    try {
      await stream.next(["presence"]);
      assert.equal(hub.presence.statusOf(ada.did), "online");
      const seen = await watcher.next(["presence"]);
      assert.ok(seen.data.all || seen.data.presence[ada.did] === "online");
      assert.equal(
        (await ada.request<{ presence: Record<string, string> }>("GET", "/presence")).presence[ada.did],
        "online",
      );
      await ada.request("POST", "/presence", { status: "idle" });
      assert.equal(hub.presence.statusOf(ada.did), "idle");
      await ada.request("POST", "/presence", { status: "online" });
      assertRefused(
        await http(origin, "POST", "/api/presence", { token: ada.token!, body: { status: "away" } }),
        422,
        "invalid_status",
      );
    } finally {
      await stream.close();
    }
    await eventually(() => hub.presence.pending(ada.did), "the server saw the stream close");
    assert.equal(hub.presence.statusOf(ada.did), "online", "still online during the grace period");
    timers.fire();
    assert.equal(hub.presence.statusOf(ada.did), "offline");
    // The watcher saw every change in order (online, idle, online); the last one is offline.
    let change = await watcher.next(["presence"]);
    while (change.data.presence[ada.did] !== "offline") change = await watcher.next(["presence"]);
  } finally {
    await watcher.close();
  }
});

Deno.test("live: one shared rendering per message; pages open elsewhere get a small activity event", async () => {
  const { instance, owner, ada, bob, general, origin } = await setup();
  await using _ = instance;
  const other = await owner.request<ChannelJson>("POST", "/channels", { name: "other" });
  const here = await Sse.open(`${origin}/channels/${general.id}/live`, {
    authorization: `Bearer ${bob.token}`,
  });
  const elsewhere = await Sse.open(`${origin}/channels/${other.id}/live`, {
    authorization: `Bearer ${ada.token}`,
  });
  try {
    await here.next(["presence"]);
    await elsewhere.next(["presence"]);
    const posted = await owner.post(general.id, "hey @Ada");
    const change = await here.next(["change"]);
    assert.match(change.data.html, /data-shared="1"/, "viewer-neutral HTML");
    assert.match(change.data.html, /data-action="edit"/, "the page's script keeps what its viewer may use");
    const activity = await elsewhere.next(["activity"]);
    assert.deepEqual(activity.data, {
      kind: "created",
      channel: general.id,
      id: posted.id,
      author: owner.did,
      lamport: posted.lamport,
      mentions: [ada.did],
    });
    // Visitors see messages, never who is online (only members see the member list).
    const visitor = await Sse.open(`${origin}/channels/${general.id}/live`);
    try {
      await owner.post(general.id, "for everyone");
      const first = await visitor.next(["change", "presence"]);
      assert.equal(first.event, "change");
    } finally {
      await visitor.close();
    }
    // Typing shows on the channel's own pages, coalesced.
    await ada.request("POST", `/channels/${general.id}/typing`);
    const typing = await here.next(["typing"]);
    assert.deepEqual(typing.data, { channel: general.id, typing: [{ did: ada.did, name: "Ada" }] });
  } finally {
    await here.close();
    await elsewhere.close();
  }
});
