import assert from "node:assert/strict";
import { claimedInstance } from "../helpers/instance.ts";
import { assertRefused, http } from "../http/support.ts";
import { dmMember, joinedMember } from "./support.ts";
import { base64urlnopad } from "@scure/base";

async function setup() {
  const { instance, owner } = await claimedInstance();
  const a = await joinedMember(instance.origin, owner);
  const b = await joinedMember(instance.origin, owner);
  const c = await joinedMember(instance.origin, owner);
  return { instance, owner, a, b, c };
}

const enc = encodeURIComponent;

Deno.test("a member sends a DM; both participants read and decrypt it, unread counts follow", async () => {
  const { instance, a, b } = await setup();
  await using _ = instance;
  const envelope = await a.seal(b.did, "hello B");
  const sent = await http(instance.origin, "POST", "/api/dms", {
    body: { envelope },
    token: a.client.token!,
  });
  assert.equal(sent.status, 201, sent.text);
  assert.equal(sent.json.id, envelope.id);

  const page = await http(instance.origin, "GET", `/api/dms/${enc(a.did)}`, { token: b.client.token! });
  assert.equal(page.status, 200, page.text);
  assert.equal(page.json.messages.length, 1);
  assert.equal(await b.open(page.json.messages[0].envelope), "hello B");
  const mine = await http(instance.origin, "GET", `/api/dms/${enc(b.did)}`, { token: a.client.token! });
  assert.equal(await a.open(mine.json.messages[0].envelope), "hello B");

  const list = await http(instance.origin, "GET", "/api/dms", { token: b.client.token! });
  assert.equal(list.json.unread, 1);
  assert.equal(list.json.conversations[0].peer, a.did);
  const read = await http(instance.origin, "POST", `/api/dms/${enc(a.did)}/read`, {
    body: { position: sent.json.position },
    token: b.client.token!,
  });
  assert.equal(read.status, 204);
  assert.equal((await http(instance.origin, "GET", "/api/dms", { token: b.client.token! })).json.unread, 0);
  // The sender has nothing unread: her own messages do not count.
  assert.equal((await http(instance.origin, "GET", "/api/dms", { token: a.client.token! })).json.unread, 0);
});

Deno.test("history is keyset-paged by position, oldest first within a page", async () => {
  const { instance, a, b } = await setup();
  await using _ = instance;
  for (let i = 0; i < 5; i++) {
    const envelope = await (i % 2 ? b.seal(a.did, `m${i}`) : a.seal(b.did, `m${i}`));
    const sender = i % 2 ? b : a;
    assert.equal(
      (await http(instance.origin, "POST", "/api/dms", { body: { envelope }, token: sender.client.token! }))
        .status,
      201,
    );
  }
  const first = await http(instance.origin, "GET", `/api/dms/${enc(b.did)}?limit=2`, {
    token: a.client.token!,
  });
  assert.deepEqual(
    await Promise.all(first.json.messages.map((m: { envelope: unknown }) => a.open(m.envelope))),
    ["m3", "m4"],
  );
  const second = await http(
    instance.origin,
    "GET",
    `/api/dms/${enc(b.did)}?limit=2&before=${first.json.before}`,
    { token: a.client.token! },
  );
  assert.deepEqual(
    await Promise.all(second.json.messages.map((m: { envelope: unknown }) => a.open(m.envelope))),
    ["m1", "m2"],
  );
  const third = await http(
    instance.origin,
    "GET",
    `/api/dms/${enc(b.did)}?limit=2&before=${second.json.before}`,
    { token: a.client.token! },
  );
  assert.equal(third.json.messages.length, 1);
  assert.equal(third.json.before, null);
});

Deno.test("refuses an envelope signed by someone other than the signed-in member (403)", async () => {
  const { instance, a, b, c } = await setup();
  await using _ = instance;
  const envelope = await a.seal(b.did, "from a");
  assertRefused(
    await http(instance.origin, "POST", "/api/dms", { body: { envelope }, token: c.client.token! }),
    403,
    "not_sender",
  );
  assert.equal(
    (await http(instance.origin, "GET", `/api/dms/${enc(a.did)}`, { token: b.client.token! })).json.messages
      .length,
    0,
  );
});

Deno.test("refuses oversized, malformed and tampered envelopes, writing nothing", async () => {
  const { instance, a, b } = await setup();
  await using _ = instance;
  const envelope = await a.seal(b.did, "x");
  const post = (body: unknown, raw?: string) =>
    http(
      instance.origin,
      "POST",
      "/api/dms",
      raw
        ? { raw, headers: { "content-type": "application/json" }, token: a.client.token! }
        : { body, token: a.client.token! },
    );
  assertRefused(await post({ envelope: { ...envelope, ciphertext: "A".repeat(30_000) } }), 413, "too_large");
  assertRefused(await post(null, JSON.stringify({ envelope, pad: "x".repeat(70_000) })), 413);
  assertRefused(await post(null, "{not json"), 400, "malformed_json");
  assertRefused(await post({ envelope: { ...envelope, type: "Message" } }), 422, "malformed_envelope");
  assertRefused(await post({ envelope: "text" }), 422, "malformed_envelope");
  assertRefused(await post({}), 422, "malformed_envelope");
  const bytes = base64urlnopad.decode(envelope.ciphertext);
  bytes[0] ^= 0xff;
  assertRefused(
    await post({ envelope: { ...envelope, ciphertext: base64urlnopad.encode(bytes) } }),
    401,
    "bad_signature",
  );
  const stale = await a.seal(b.did, "old", { published: new Date(Date.now() - 3600_000).toISOString() });
  assertRefused(await post({ envelope: stale }), 422, "clock_skew");
  assert.equal(
    (await http(instance.origin, "GET", "/api/dms", { token: a.client.token! })).json.conversations.length,
    0,
  );
});

Deno.test("refuses a replayed message id (409) and keeps one copy", async () => {
  const { instance, a, b } = await setup();
  await using _ = instance;
  const envelope = await a.seal(b.did, "once");
  assert.equal(
    (await http(instance.origin, "POST", "/api/dms", { body: { envelope }, token: a.client.token! })).status,
    201,
  );
  assertRefused(
    await http(instance.origin, "POST", "/api/dms", { body: { envelope }, token: a.client.token! }),
    409,
    "duplicate_message",
  );
  assert.equal(
    (await http(instance.origin, "GET", `/api/dms/${enc(a.did)}`, { token: b.client.token! })).json.messages
      .length,
    1,
  );
});

Deno.test("a third member cannot read a conversation between two others; visitors get 401", async () => {
  const { instance, a, b, c } = await setup();
  await using _ = instance;
  const envelope = await a.seal(b.did, "private");
  await http(instance.origin, "POST", "/api/dms", { body: { envelope }, token: a.client.token! });
  // C asking for "the conversation with A" gets C's own conversation with A: empty.
  assert.equal(
    (await http(instance.origin, "GET", `/api/dms/${enc(a.did)}`, { token: c.client.token! })).json.messages
      .length,
    0,
  );
  assert.equal(
    (await http(instance.origin, "GET", `/api/dms/${enc(b.did)}`, { token: c.client.token! })).json.messages
      .length,
    0,
  );
  assertRefused(
    await http(instance.origin, "GET", `/api/dms/messages/${enc(envelope.id)}`, { token: c.client.token! }),
    404,
  );
  assert.equal(
    (await http(instance.origin, "GET", `/api/dms/messages/${enc(envelope.id)}`, { token: b.client.token! }))
      .status,
    200,
  );
  assert.equal(
    (await http(instance.origin, "GET", "/api/dms", { token: c.client.token! })).json.conversations.length,
    0,
  );
  // Even with the ciphertext C cannot decrypt it.
  await assert.rejects(c.open(envelope));
  for (
    const path of [
      "/api/dms",
      `/api/dms/${enc(a.did)}`,
      "/api/dms/live",
      `/api/dms/messages/${enc(envelope.id)}`,
    ]
  ) {
    assertRefused(await http(instance.origin, "GET", path), 401);
  }
  assertRefused(await http(instance.origin, "POST", "/api/dms", { body: { envelope } }), 401);
  // A signed-in non-member cannot use DMs here.
  const stranger = await dmMember(instance.origin);
  assertRefused(await http(instance.origin, "GET", "/api/dms", { token: stranger.client.token! }), 403);
  const toStranger = await a.seal(stranger.did, "hi");
  assertRefused(
    await http(instance.origin, "POST", "/api/dms", {
      body: { envelope: toStranger },
      token: a.client.token!,
    }),
    404,
  );
});

Deno.test("the live stream delivers a DM to its recipient and not to a third member", async () => {
  const { instance, a, b, c } = await setup();
  await using _ = instance;
  const open = async (token: string) => {
    const controller = new AbortController();
    const response = await fetch(`${instance.origin}/api/dms/live`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    const next = async (event: string) => {
      while (true) {
        const at = buffer.indexOf(`event: ${event}\n`);
        if (at >= 0) {
          const end = buffer.indexOf("\n\n", at);
          if (end >= 0) {
            const block = buffer.slice(at, end);
            buffer = buffer.slice(end + 2);
            return JSON.parse(block.split("\n").find((l) => l.startsWith("data: "))!.slice(6));
          }
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += value;
      }
    };
    return { next, buffered: () => buffer, close: () => controller.abort() };
  };
  const bStream = await open(b.client.token!);
  const cStream = await open(c.client.token!);
  await bStream.next("ready");
  await cStream.next("ready");
  const envelope = await a.seal(b.did, "live one");
  await http(instance.origin, "POST", "/api/dms", { body: { envelope }, token: a.client.token! });
  const event = await bStream.next("dm");
  assert.equal(await b.open(event.envelope), "live one");
  // C's stream got nothing but its ready event (a DM C could see would have arrived in the same turn).
  const ping = await c.seal(a.did, "ping");
  await http(instance.origin, "POST", "/api/dms", { body: { envelope: ping }, token: c.client.token! });
  const own = await cStream.next("dm");
  assert.equal(own.envelope.id, ping.id, "C's first DM event is its own message, not A's to B");
  bStream.close();
  cStream.close();
});

Deno.test("dm_index is derived: rebuilt from the quads it gives the same conversation", async () => {
  const { instance, a, b } = await setup();
  await using _ = instance;
  for (const text of ["one", "two"]) {
    const envelope = await a.seal(b.did, text);
    await http(instance.origin, "POST", "/api/dms", { body: { envelope }, token: a.client.token! });
  }
  const { rebuildDmIndex } = await import("../../server/dms/store.ts");
  assert.equal(await instance.harmony.database.write((tx) => rebuildDmIndex(tx)), 2);
  const page = await http(instance.origin, "GET", `/api/dms/${enc(a.did)}`, { token: b.client.token! });
  assert.deepEqual(
    await Promise.all(page.json.messages.map((m: { envelope: unknown }) => b.open(m.envelope))),
    ["one", "two"],
  );
});

Deno.test("the conversation list names the other participant when both have written (whichever DID sorts first)", async () => {
  const { instance, a, b } = await setup();
  await using _ = instance;
  await http(instance.origin, "POST", "/api/dms", {
    body: { envelope: await a.seal(b.did, "1") },
    token: a.client.token!,
  });
  await http(instance.origin, "POST", "/api/dms", {
    body: { envelope: await b.seal(a.did, "2") },
    token: b.client.token!,
  });
  for (const [me, other] of [[a, b], [b, a]]) {
    const list = (await http(instance.origin, "GET", "/api/dms", { token: me.client.token! })).json;
    assert.equal(list.conversations.length, 1);
    assert.equal(list.conversations[0].peer, other.did);
    assert.equal(list.conversations[0].messages, 2);
  }
});
