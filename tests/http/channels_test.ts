import assert from "node:assert/strict";
import type { ChannelJson } from "../../cli/client.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { assertRefused, http, joinedMember, quickClient } from "./support.ts";

Deno.test("channels: admins manage channels; members-only channels stay closed to outsiders", async (t) => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const origin = instance.origin;
  const member = await joinedMember(origin, owner);
  const outsider = await quickClient(origin);
  const adminToken = owner.token!;
  const list = async (
    token?: string,
  ) => ((await http(origin, "GET", "/api/channels", { token })).json as ChannelJson[]);

  let created: ChannelJson;

  await t.step("an admin creates a channel; its name is normalised", async () => {
    const reply = await http(origin, "POST", "/api/channels", {
      body: { name: "Off Topic", topic: "anything goes" },
      token: adminToken,
    });
    assert.equal(reply.status, 201, reply.text);
    created = reply.json;
    assert.equal(created.name, "off-topic");
    assert.equal(created.topic, "anything goes");
    assert.equal(created.visibility, "public");
    assert.ok((await list()).some((c) => c.id === created.id));
  });

  await t.step("refuses a second channel with the same name (409)", async () => {
    assertRefused(
      await http(origin, "POST", "/api/channels", { body: { name: "off-topic" }, token: adminToken }),
      409,
      "channel_exists",
    );
    assertRefused(
      await http(origin, "POST", "/api/channels", { body: { name: "#OFF topic" }, token: adminToken }),
      409,
      "channel_exists",
    );
    assert.equal((await list()).filter((c) => c.name === "off-topic").length, 1);
  });

  await t.step("an admin renames a channel and sets its topic", async () => {
    const reply = await http(origin, "PATCH", `/api/channels/${created.id}`, {
      body: { name: "random", topic: "new topic" },
      token: adminToken,
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.name, "random");
    assert.equal(reply.json.topic, "new topic");
    const fetched = (await http(origin, "GET", `/api/channels/${created.id}`)).json;
    assert.deepEqual([fetched.name, fetched.topic], ["random", "new topic"]);
  });

  await t.step("refuses renaming onto another channel's name (409)", async () => {
    assertRefused(
      await http(origin, "PATCH", `/api/channels/${created.id}`, {
        body: { name: "general" },
        token: adminToken,
      }),
      409,
      "channel_exists",
    );
    assert.equal((await http(origin, "GET", `/api/channels/${created.id}`)).json.name, "random");
  });

  await t.step("refuses invalid channel names and visibilities (422)", async () => {
    for (const name of ["", "a b/c", "x".repeat(33), "<script>"]) {
      assertRefused(
        await http(origin, "POST", "/api/channels", { body: { name }, token: adminToken }),
        422,
        "invalid_channel_name",
      );
    }
    assertRefused(
      await http(origin, "POST", "/api/channels", {
        body: { name: "ok", visibility: "secret" },
        token: adminToken,
      }),
      422,
      "invalid_visibility",
    );
  });

  await t.step("an admin reorders channels", async () => {
    const third =
      (await http(origin, "POST", "/api/channels", { body: { name: "third" }, token: adminToken })).json;
    const before = (await list()).map((c) => c.id);
    const wanted = [third.id, created.id];
    const reply = await http(origin, "PUT", "/api/channels/order", {
      body: { order: wanted },
      token: adminToken,
    });
    assert.equal(reply.status, 200, reply.text);
    const after = (await list()).map((c) => c.id);
    assert.deepEqual(after, [...wanted, ...before.filter((id) => !wanted.includes(id))]);
    assertRefused(
      await http(origin, "PUT", "/api/channels/order", {
        body: { order: [third.id, third.id] },
        token: adminToken,
      }),
      422,
      "invalid_order",
    );
    assertRefused(
      await http(origin, "PUT", "/api/channels/order", { body: { order: ["nope"] }, token: adminToken }),
      404,
    );
  });

  await t.step("refuses channel management by a plain member (403)", async () => {
    const token = member.token!;
    assertRefused(
      await http(origin, "POST", "/api/channels", { body: { name: "mine" }, token }),
      403,
      "forbidden",
    );
    assertRefused(
      await http(origin, "PATCH", `/api/channels/${created.id}`, { body: { topic: "hijack" }, token }),
      403,
    );
    assertRefused(
      await http(origin, "PUT", "/api/channels/order", { body: { order: [created.id] }, token }),
      403,
    );
    assertRefused(await http(origin, "DELETE", `/api/channels/${created.id}`, { token }), 403);
    assert.equal((await http(origin, "GET", `/api/channels/${created.id}`)).json.topic, "new topic");
  });

  await t.step(
    "refuses channel management by a signed-in non-member (403) and when signed out (401)",
    async () => {
      assertRefused(
        await http(origin, "POST", "/api/channels", { body: { name: "mine" }, token: outsider.token! }),
        403,
      );
      assertRefused(
        await http(origin, "POST", "/api/channels", { body: { name: "mine" } }),
        401,
        "unauthenticated",
      );
      assertRefused(
        await http(origin, "PATCH", `/api/channels/${created.id}`, { body: { topic: "x" } }),
        401,
      );
      assertRefused(await http(origin, "PUT", "/api/channels/order", { body: { order: [] } }), 401);
      assertRefused(await http(origin, "DELETE", `/api/channels/${created.id}`), 401);
      assert.ok(!(await list()).some((c) => c.name === "mine"));
    },
  );

  await t.step("an admin deletes a channel with its messages", async () => {
    await owner.post(created.id, "soon gone");
    assert.equal(
      (await http(origin, "DELETE", `/api/channels/${created.id}`, { token: adminToken })).status,
      204,
    );
    assert.ok(!(await list()).some((c) => c.id === created.id));
    assertRefused(await http(origin, "GET", `/api/channels/${created.id}/messages`), 404);
    const rows = await instance.harmony.database.client.execute({
      sql: "select count(*) as n from quads where graph = ?",
      args: [created.iri],
    });
    assert.equal(rows.rows[0].n, 0, "the channel's messages are gone from the quads");
  });

  await t.step("members-only channel: signed out 401, non-member 403, member 200", async () => {
    const secret = (await http(origin, "POST", "/api/channels", {
      body: { name: "staff", topic: "private talk", visibility: "members" },
      token: adminToken,
    })).json as ChannelJson;
    assert.equal(secret.visibility, "members");
    await owner.post(secret.id, "the secret plan");

    // Signed out.
    assertRefused(await http(origin, "GET", `/api/channels/${secret.id}/messages`), 401);
    assertRefused(await http(origin, "GET", `/api/channels/${secret.id}`), 401);
    const page = await http(origin, "GET", `/channels/${secret.id}`);
    assert.equal(page.status, 401);
    assert.doesNotMatch(page.text, /the secret plan/);
    assertRefused(await http(origin, "GET", `/api/channels/${secret.id}/events`), 401);

    // Signed in, not a member.
    const token = outsider.token!;
    assertRefused(await http(origin, "GET", `/api/channels/${secret.id}/messages`, { token }), 403);
    const outsiderPage = await http(origin, "GET", `/channels/${secret.id}`, { token });
    assert.equal(outsiderPage.status, 403);
    assert.doesNotMatch(outsiderPage.text, /the secret plan/);
    assertRefused(await http(origin, "GET", `/channels/${secret.id}/older`, { token }), 403);

    // A member.
    const history = await http(origin, "GET", `/api/channels/${secret.id}/messages`, {
      token: member.token!,
    });
    assert.equal(history.status, 200);
    assert.deepEqual(history.json.messages.map((m: { content: string }) => m.content), ["the secret plan"]);
    const memberPage = await http(origin, "GET", `/channels/${secret.id}`, { token: member.token! });
    assert.equal(memberPage.status, 200);
    assert.match(memberPage.text, /the secret plan/);

    // Not listed to outsiders, listed to members.
    assert.ok(!(await list()).some((c) => c.id === secret.id), "hidden when signed out");
    assert.ok(!(await list(token)).some((c) => c.id === secret.id), "hidden from a non-member");
    assert.ok((await list(member.token!)).some((c) => c.id === secret.id), "listed to members");
    const general = (await list()).find((c) => c.name === "general")!;
    const publicPage = await http(origin, "GET", `/channels/${general.id}`);
    assert.doesNotMatch(publicPage.text, new RegExp(`/channels/${secret.id}|>staff<|private talk`));
  });

  await t.step("a public channel is readable signed out, as HTML and through the API", async () => {
    const general = (await list()).find((c) => c.name === "general")!;
    await owner.post(general.id, "hello, world & friends");
    const page = await http(origin, "GET", `/channels/${general.id}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(page.text, /hello, world &amp; friends/);
    const history = await http(origin, "GET", `/api/channels/${general.id}/messages`);
    assert.equal(history.status, 200);
    assert.ok(history.json.messages.some((m: { content: string }) => m.content === "hello, world & friends"));
    const root = await http(origin, "GET", "/");
    assert.equal(root.status, 302);
    assert.equal(
      root.headers.get("location"),
      `/channels/${(await list())[0].id}`,
      "/ opens the first channel",
    );
  });

  await t.step("the last channel cannot be deleted (409)", async () => {
    for (const c of await list(adminToken)) {
      if (c.name !== "general") {
        assert.equal(
          (await http(origin, "DELETE", `/api/channels/${c.id}`, { token: adminToken })).status,
          204,
        );
      }
    }
    const [last] = await list(adminToken);
    assertRefused(
      await http(origin, "DELETE", `/api/channels/${last.id}`, { token: adminToken }),
      409,
      "last_channel",
    );
  });
});
