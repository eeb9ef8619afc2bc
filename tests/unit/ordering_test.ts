import assert from "node:assert/strict";
import { messageIndex } from "../../db/schema.ts";
import { decodeCursor, encodeCursor, readHistory } from "../../server/messages/messages.ts";
import { tempDatabase } from "./support.ts";

const CHANNEL = "https://harmony.test/channels/aaaaaaaaaa";
const OTHER = "https://harmony.test/channels/bbbbbbbbbb";

type Row = typeof messageIndex.$inferInsert;

// Authors chosen so that code-unit order differs from a case-insensitive or
// locale order ("Z" < "a" in code units).
const authors = [
  "did:key:z6MkAAAA",
  "did:key:z6MkZzzz",
  "did:key:z6Mkaaaa",
  "did:key:z6Mkzzzz",
];

function rows(): Row[] {
  const out: Row[] = [];
  let revision = 0;
  // Lamport times repeat: concurrent messages from several authors, and the
  // same author twice at one time (ordered by id then).
  for (let lamport = 1; lamport <= 9; lamport++) {
    const count = lamport % 3 === 0 ? 5 : lamport % 2 === 0 ? 1 : 3;
    for (let k = 0; k < count; k++) {
      const author = authors[(lamport * 7 + k * 3) % authors.length];
      const id = `urn:uuid:${
        String((lamport * 37 + k * 11) % 97).padStart(8, "0")
      }-0000-4000-8000-00000000000${k}`;
      out.push({
        id,
        channel: CHANNEL,
        lamport,
        author,
        content: `m${lamport}.${k}`,
        published: "2024-01-01T00:00:00Z",
        updated: null,
        deleted: false,
        revision: ++revision,
      });
    }
  }
  return out;
}

const key = (r: { lamport: number; author: string; id: string }) => [r.lamport, r.author, r.id] as const;

function compare(a: Row, b: Row): number {
  const [la, aa, ia] = key(a);
  const [lb, ab, ib] = key(b);
  if (la !== lb) return la - lb;
  if (aa !== ab) return aa < ab ? -1 : 1;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

Deno.test("history is in total (Lamport, author DID, id) order and keyset pages return every message once", async (t) => {
  await using database = await tempDatabase();
  const all = rows();
  const deleted: Row = {
    ...all[4],
    id: "urn:uuid:ffffffff-0000-4000-8000-000000000000",
    deleted: true,
    content: "",
  };
  const elsewhere: Row = { ...all[0], id: "urn:uuid:eeeeeeee-0000-4000-8000-000000000000", channel: OTHER };
  // Insert in a shuffled order: storage order must not leak into history order.
  const shuffled = [...all, deleted, elsewhere].sort((a, b) => (a.id < b.id ? 1 : -1));
  await database.write((tx) => tx.insert(messageIndex).values(shuffled));
  const expected = [...all].sort(compare).map((r) => r.id);
  // Sanity: the fixture has equal Lamport times with different authors and
  // with one author and different ids.
  assert.ok(all.some((a) => all.some((b) => a !== b && a.lamport === b.lamport && a.author !== b.author)));
  assert.ok(all.some((a) => all.some((b) => a !== b && a.lamport === b.lamport && a.author === b.author)));

  await t.step("one page holding everything lists messages oldest first in total order", async () => {
    const page = await readHistory(database.db, CHANNEL, { limit: 200 });
    assert.deepEqual(page.messages.map((m) => m.id), expected);
    assert.equal(page.before, null, "no older page at the beginning of the channel");
  });

  for (const limit of [1, 2, 3, 4, 7, expected.length - 1, expected.length]) {
    await t.step(`paging backwards ${limit} at a time returns every message exactly once`, async () => {
      const seen: string[] = [];
      let before: string | null = null;
      let pages = 0;
      do {
        const page = await readHistory(database.db, CHANNEL, { before, limit });
        assert.ok(page.messages.length <= limit);
        const ids = page.messages.map((m) => m.id);
        // Each page is itself in order and entirely older than the pages already read.
        seen.unshift(...ids);
        before = page.before;
        pages++;
        assert.ok(pages <= expected.length + 1, "paging does not terminate");
      } while (before);
      assert.deepEqual(seen, expected);
      assert.equal(pages, Math.ceil(expected.length / limit));
    });
  }

  await t.step("deleted messages and other channels' messages stay out of history", async () => {
    const page = await readHistory(database.db, CHANNEL, { limit: 200 });
    assert.equal(page.messages.some((m) => m.id === deleted.id), false);
    assert.equal(page.messages.some((m) => m.id === elsewhere.id), false);
    const other = await readHistory(database.db, OTHER, { limit: 200 });
    assert.deepEqual(other.messages.map((m) => m.id), [elsewhere.id]);
  });

  await t.step("a cursor at a message returns exactly the messages ordered before it", async () => {
    const sorted = [...all].sort(compare);
    for (const at of [1, 5, 13, sorted.length - 1]) {
      const page = await readHistory(database.db, CHANNEL, {
        before: encodeCursor(sorted[at]),
        limit: 200,
      });
      assert.deepEqual(page.messages.map((m) => m.id), sorted.slice(0, at).map((r) => r.id));
    }
  });

  await t.step("the page size is clamped to 1..200", async () => {
    assert.equal((await readHistory(database.db, CHANNEL, { limit: 0 })).messages.length, 1);
    assert.equal((await readHistory(database.db, CHANNEL, { limit: -5 })).messages.length, 1);
  });
});

Deno.test("a paging cursor round-trips and a forged one is refused with invalid_cursor", () => {
  const position = { lamport: 12, author: "did:key:z6Mkabc", id: "urn:uuid:1" };
  assert.deepEqual(decodeCursor(encodeCursor(position)), position);
  for (
    const bad of ["", "not base64!", btoa("[1,2]"), encodeCursor({ lamport: 1.5, author: "a", id: "b" })]
  ) {
    assert.throws(() => decodeCursor(bad), (error: { code?: string; status?: number }) => {
      assert.equal(error.code, "invalid_cursor");
      assert.equal(error.status, 422);
      return true;
    });
  }
});
