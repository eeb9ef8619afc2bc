import assert from "node:assert/strict";
import { asc } from "drizzle-orm";
import type { ChannelJson, MessageJson } from "../../cli/client.ts";
import { type Database, openDatabase } from "../../db/client.ts";
import { parseNQuads, quadToNQuads } from "../../db/nquads.ts";
import { quadStore } from "../../db/quadstore.ts";
import { actorKeys, messageIndex } from "../../db/schema.ts";
import { importNQuads, ImportRefusedError } from "../../server/exchange/exchange.ts";
import { readInstanceKeys } from "../../server/exchange/keys.ts";
import { splitSignature } from "../../server/exchange/signature.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { assertRefused, http, joinedMember } from "./support.ts";

async function sortedLines(database: Database): Promise<string[]> {
  return (await quadStore.match(database.db)).map(quadToNQuads).sort();
}

async function indexRows(database: Database) {
  const rows = await database.db.select().from(messageIndex).orderBy(asc(messageIndex.id));
  return rows.map(({ revision: _revision, ...rest }) => rest);
}

Deno.test("export/import: an N-Quads export rebuilds an identical community in an empty database", async (t) => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const origin = instance.origin;
  const alice = await joinedMember(origin, owner);
  const [general] = (await http(origin, "GET", "/api/channels")).json as ChannelJson[];
  const staff = await owner.request<ChannelJson>("POST", "/channels", {
    name: "staff",
    topic: '«private» "topic"',
    visibility: "members",
  });
  await alice.setProfile('Ålice "the" 🦊');
  const tricky = [
    "quotes \"double\" and 'single' and a backslash \\ and \\n literally",
    "line one\nline two\r\nline three\ttabbed",
    "non-ASCII: café, 日本語, Ωmega, emoji 🎉👩‍👩‍👧, astral 𝄞",
    "markup <b>bold</b> & entities &amp;",
  ];
  const posted: MessageJson[] = [];
  for (const text of tricky) posted.push(await alice.post(general.id, text));
  posted.push(await owner.post(staff.id, "members-only note ✓"));
  await alice.edit(posted[0], 'edited: "still" tricky\n✓');
  await alice.delete(posted[3]);
  await owner.request("POST", "/invites", { maxUses: 3, expiresIn: 3600 });

  let exported = "";
  const keys = await readInstanceKeys(instance.harmony.database);

  await t.step("only the owner may export (403 for a member, 401 signed out)", async () => {
    assertRefused(await http(origin, "GET", "/api/export", { token: alice.token! }), 403, "forbidden");
    assertRefused(await http(origin, "GET", "/api/export"), 401);
    const reply = await http(origin, "GET", "/api/export", { token: owner.token! });
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get("content-type") ?? "", /application\/n-quads/);
    assert.match(reply.headers.get("content-disposition") ?? "", /attachment/);
    exported = reply.text;
  });

  await t.step("the export is pure ASCII, holds every quad of the database, and is signed", async () => {
    assert.match(exported, /^[\x20-\x7e\n]*$/);
    const lines = exported.split("\n").filter(Boolean);
    const signature = lines.pop()!;
    assert.equal(lines.length, await quadStore.count(instance.harmony.db));
    assert.deepEqual([...lines.map((l) => `${l}\n`)].sort(), await sortedLines(instance.harmony.database));
    assert.ok(exported.includes("\\U0001F389"), "emoji escaped");
    // The last line is a quad too: the community key's signature over everything before it.
    const [statement] = [...parseNQuads(signature)];
    assert.equal(statement.graph, `${origin}/export`);
    const signed = JSON.parse(statement.object.value);
    assert.equal(signed.quads, lines.length);
    assert.equal(signed.community, keys.community);
  });

  await t.step(
    "importing into a fresh database reproduces the quads and the message index",
    async (inner) => {
      const dir = await Deno.makeTempDir({ prefix: "harmony-import-" });
      const fresh = await openDatabase(`file:${dir}/imported.db`);
      try {
        const count = await importNQuads(fresh, exported, { origin, keys });
        assert.equal(count, await quadStore.count(instance.harmony.db));
        assert.deepEqual(await sortedLines(fresh), await sortedLines(instance.harmony.database));
        const original = await indexRows(instance.harmony.database);
        assert.equal(original.length, posted.length);
        assert.deepEqual(await indexRows(fresh), original);
        const edited = (await indexRows(fresh)).find((r) => r.id === posted[0].id)!;
        assert.equal(edited.content, 'edited: "still" tricky\n✓');
        assert.ok(edited.updated);
        assert.equal((await indexRows(fresh)).find((r) => r.id === posted[3].id)!.deleted, true);

        await inner.step("refuses to import into a database that already holds quads", async () => {
          const before = await quadStore.count(fresh.db);
          await assert.rejects(() => importNQuads(fresh, exported, { origin, keys }), ImportRefusedError);
          assert.equal(await quadStore.count(fresh.db), before);
        });
      } finally {
        fresh.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );

  await t.step("an import with a bad line leaves the database empty", async () => {
    const dir = await Deno.makeTempDir({ prefix: "harmony-import-" });
    const fresh = await openDatabase(`file:${dir}/imported.db`);
    try {
      const { body, line: signature } = splitSignature(exported);
      const broken = `${body}<https://example.org/s> <https://example.org/p> "unterminated .\n${signature}\n`;
      const line = body.split("\n").length;
      await assert.rejects(() => importNQuads(fresh, broken, { origin, keys }), new RegExp(`line ${line}:`));
      assert.equal(await quadStore.count(fresh.db), 0);
      assert.equal(await fresh.db.$count(messageIndex), 0);
      // And the parser agrees with the writer on every exported line.
      assert.equal([...parseNQuads(exported)].length, exported.split("\n").filter(Boolean).length);
      assert.equal(await fresh.db.$count(actorKeys), 0);
    } finally {
      fresh.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});
