/**
 * One request is bounded: the search walks back through windows of time and,
 * past its budget, answers with what it found and a cursor below what it has
 * searched. Paging on finds everything, newest first, exactly once.
 */
import assert from "node:assert/strict";
import { search, searchSettings } from "../../server/search/search.ts";
import { anonymous } from "../../server/model.ts";
import { claimedInstance } from "../helpers/instance.ts";

const columns = "id, channel, lamport, author, content, published, deleted, revision";

Deno.test("a search past its time budget returns a cursor that continues below what it searched", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const h = instance.harmony;
  const [general] = await owner.channels();
  const latest = await owner.post(general.id, "needle in the newest message");
  const day = 86_400_000;
  const ages = [3, 30, 90, 400, 2000];
  await h.database.writeSql(async (sql) => {
    for (const [i, age] of ages.entries()) {
      await sql.run(`INSERT INTO message_index (${columns}) VALUES (?, ?, ?, ?, ?, ?, 0, ?)`, [
        `urn:uuid:00000000-0000-4000-8000-00000000000${i}`,
        general.iri,
        100 + i,
        owner.did,
        `an old needle, ${age} days old`,
        new Date(Date.now() - age * day).toISOString(),
        100 + i,
      ]);
    }
  });
  const expected = [latest.id, ...ages.map((_, i) => `urn:uuid:00000000-0000-4000-8000-00000000000${i}`)];

  // With time to spare, one request finds all of them.
  const saved = searchSettings.budgetMs;
  searchSettings.budgetMs = 60_000;
  const all = await search(h, anonymous, "needle");
  searchSettings.budgetMs = saved;
  assert.deepEqual(all.hits.map((x) => x.id), expected);
  assert.equal(all.nextCursor, null);
  assert.equal(all.searchedBack, null);

  // With no time at all, each request searches one window and says how far back it went.
  searchSettings.budgetMs = -1;
  try {
    const seen: string[] = [];
    let cursor: string | null = null;
    let requests = 0;
    let partial = 0;
    do {
      const page = await search(h, anonymous, "needle", { cursor, limit: 2 });
      requests++;
      seen.push(...page.hits.map((x) => x.id));
      if (page.searchedBack) {
        partial++;
        assert.ok(page.nextCursor);
        // Everything published since `searchedBack` and matching was returned by now.
        const since = Date.parse(page.searchedBack);
        for (const [i, age] of ages.entries()) {
          if (Date.now() - age * day >= since) assert.ok(seen.includes(expected[i + 1]), `${age} days`);
        }
      }
      cursor = page.nextCursor;
    } while (cursor && requests < 1000);
    assert.deepEqual(seen, expected, "every hit once, newest first");
    assert.ok(partial >= 2, "some answers were cut by the budget");
  } finally {
    searchSettings.budgetMs = saved;
  }

  // The page says how far it searched and offers to go on.
  searchSettings.budgetMs = -1;
  try {
    const html = await (await fetch(`${instance.origin}/search?q=${encodeURIComponent("old needle")}`))
      .text();
    assert.match(html, /Searched messages back to \d{4}-\d{2}-\d{2}/);
    assert.match(html, /Search older messages/);
  } finally {
    searchSettings.budgetMs = saved;
  }
});
