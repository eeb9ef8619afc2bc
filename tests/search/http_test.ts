/** Search over HTTP: the API, the page and its fragments, every filter, visibility and refusals. */
import assert from "node:assert/strict";
import type { ChannelJson, MessageJson } from "../../cli/client.ts";
import { checkSearchIndex } from "../../server/search/rebuild.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { assertRefused, http, joinedMember, quickClient } from "../http/support.ts";

interface Hit {
  id: string;
  url: string;
  channel: { id: string; name: string };
  author: { did: string; name: string | null };
  published: string;
  updated: string | null;
  text: string;
  highlight: string;
}
interface Page {
  query: string;
  results: Hit[];
  nextCursor: string | null;
}

const day = (iso: string, plus = 0) =>
  new Date(Date.parse(iso.slice(0, 10)) + plus * 86_400_000).toISOString().slice(0, 10);

Deno.test("search: words, phrases, filters, edits and deletions, visibility, refusals", async (t) => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const h = instance.harmony;
  const origin = instance.origin;
  const alice = await joinedMember(origin, owner);
  await alice.setProfile("Alice Liddell");
  const outsider = await quickClient(origin);
  const [general] = (await http(origin, "GET", "/api/channels")).json as ChannelJson[];
  const random =
    (await http(origin, "POST", "/api/channels", { body: { name: "random" }, token: owner.token! }))
      .json as ChannelJson;
  const staff = (await http(origin, "POST", "/api/channels", {
    body: { name: "staff", visibility: "members" },
    token: owner.token!,
  })).json as ChannelJson;

  const deploy = await alice.post(general.id, "The deploy failed again, see https://ci.example.org/runs/1");
  const lunch = await owner.post(random.id, "Lunch plans for Friday: the deploy party");
  const secret = await owner.post(staff.id, "the secret deploy plan for the staff only");
  const xss = await alice.post(general.id, "try <script>alert('boom')</script> & <b>bold</b> in search");

  const find = async (q: string, token?: string, extra = "") => {
    const reply = await http(origin, "GET", `/api/search?q=${encodeURIComponent(q)}${extra}`, { token });
    assert.equal(reply.status, 200, reply.text);
    return reply.json as Page;
  };
  const ids = async (q: string, token?: string) => (await find(q, token)).results.map((r) => r.id);

  await t.step("words: newest first, with author, channel, time and a link to the message", async () => {
    const page = await find("deploy");
    assert.deepEqual(page.results.map((r) => r.id), [lunch.id, deploy.id]);
    const hit = page.results[1];
    assert.equal(hit.url, `/channels/${general.id}/messages/${deploy.id.replace("urn:uuid:", "")}`);
    assert.deepEqual(hit.channel, { id: general.id, name: "general" });
    assert.deepEqual(hit.author, { did: alice.did, name: "Alice Liddell" });
    assert.equal(hit.published, deploy.published);
    assert.match(hit.highlight, /<mark>deploy<\/mark>/);
    assert.match(hit.text, /The deploy failed/);
    // Case and accents fold; several words must all match.
    assert.deepEqual(await ids("DÉPLOY FAILED"), [deploy.id]);
    assert.deepEqual(await ids("deploy lunch"), [lunch.id]);
    assert.deepEqual(await ids("nothingmatchesthis"), []);
  });

  await t.step("phrases, and the last word as a prefix", async () => {
    assert.deepEqual(await ids(`"deploy failed"`), [deploy.id]);
    assert.deepEqual(await ids(`"failed deploy"`), []);
    assert.deepEqual(await ids("depl"), [lunch.id, deploy.id]);
    assert.deepEqual(await ids("depl "), [], "a finished word is not a prefix");
    assert.deepEqual(await ids("fri* plans"), [lunch.id]);
  });

  await t.step("from: by name, @name or DID; in: by name, #name or id", async () => {
    assert.deepEqual(
      await ids("deploy from:alice liddell"),
      [],
      "an unquoted two-word name is a name and a word",
    );
    assert.deepEqual(await ids(`deploy from:"alice liddell"`), [deploy.id]);
    assert.deepEqual(await ids(`from:${alice.did}`), [xss.id, deploy.id]);
    assert.deepEqual(await ids(`deploy from:${owner.did}`), [lunch.id]);
    assert.deepEqual(await ids(`deploy from:${owner.did} from:${alice.did}`), [lunch.id, deploy.id]);
    assert.deepEqual(await ids("deploy from:nobody"), []);
    assert.deepEqual(await ids("deploy in:random"), [lunch.id]);
    assert.deepEqual(await ids("deploy in:#general"), [deploy.id]);
    assert.deepEqual(await ids(`deploy in:${general.id} in:random`), [lunch.id, deploy.id]);
    assert.deepEqual(await ids("deploy in:nowhere"), []);
  });

  await t.step("before: and after: by day (UTC)", async () => {
    const today = deploy.published;
    assert.deepEqual(await ids(`deploy before:${day(today, 1)}`), [lunch.id, deploy.id]);
    assert.deepEqual(await ids(`deploy before:${day(today)}`), []);
    assert.deepEqual(await ids(`deploy after:${day(today, -1)}`), [lunch.id, deploy.id]);
    assert.deepEqual(await ids(`deploy after:${day(today)}`), []);
    assert.deepEqual(await ids(`after:${day(today, -1)} before:${day(today, 1)} in:general`), [
      xss.id,
      deploy.id,
    ]);
    assert.deepEqual(await ids(`after:${day(today, 1)} before:${day(today)} deploy`), [], "an empty range");
  });

  await t.step("has:link and has:file", async () => {
    assert.deepEqual(await ids("has:link"), [deploy.id]);
    assert.deepEqual(await ids("has:file"), []);
    // Attachments are another module's; the index follows the column.
    await h.database.writeSql((sql) =>
      sql.run("UPDATE message_index SET attachments = ? WHERE id = ?", ['[{"name":"plan.pdf"}]', lunch.id])
    );
    assert.deepEqual(await ids("has:file"), [lunch.id]);
    assert.deepEqual(await ids("has:file has:link"), []);
    await h.database.writeSql((sql) =>
      sql.run("UPDATE message_index SET attachments = NULL WHERE id = ?", [lunch.id])
    );
    assert.deepEqual(await ids("has:file"), []);
  });

  await t.step("an edit replaces the old words; a deletion removes the message", async () => {
    const edited = await alice.edit(deploy, "The rollout succeeded after all");
    assert.deepEqual(await ids("failed"), []);
    assert.deepEqual(await ids("rollout"), [deploy.id]);
    assert.deepEqual(await ids("has:link"), [], "the edit removed the link");
    const hit = (await find("rollout")).results[0];
    assert.equal(hit.updated, edited.updated);
    await alice.delete(edited);
    assert.deepEqual(await ids("rollout"), []);
    assert.deepEqual(await ids(`from:${alice.did}`), [xss.id]);
    await checkSearchIndex(h.db);
    const rows = await h.database.client.execute({
      sql: "SELECT count(*) AS n FROM search_docs WHERE message_id = ?",
      args: [deploy.id],
    });
    assert.equal(rows.rows[0].n, 0);
  });

  await t.step(
    "members-only channels: never shown to visitors or non-members, not even as counts",
    async () => {
      const member = alice.token!;
      assert.deepEqual(await ids("secret"), []);
      assert.deepEqual(await ids("secret", outsider.token!), []);
      assert.deepEqual(await ids("secret", member), [secret.id]);
      assert.deepEqual(await ids("deploy", member), [secret.id, lunch.id]);
      // in: a hidden channel answers exactly like a channel that does not exist.
      const hidden = await find("deploy in:staff", outsider.token!);
      const missing = await find("deploy in:nosuchchannel", outsider.token!);
      assert.deepEqual(hidden.results, []);
      assert.deepEqual({ ...hidden, query: "" }, { ...missing, query: "" });
      assert.deepEqual(await ids(`in:${staff.id}`), []);
      assert.deepEqual(await ids("from:" + owner.did), [lunch.id], "the owner's hidden message stays hidden");
      // The page neither.
      const page = await http(origin, "GET", "/search?q=secret", { token: outsider.token! });
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, /secret deploy plan/);
      assert.doesNotMatch(page.text, new RegExp(secret.id.replace("urn:uuid:", "")));
      assert.doesNotMatch(page.text, />#?staff</, "nor the channel's name");
    },
  );

  await t.step("highlights are escaped: the text is never HTML", async () => {
    const hit = (await find("alert")).results[0];
    assert.equal(hit.id, xss.id);
    assert.doesNotMatch(hit.highlight, /<script|<b>/);
    assert.match(
      hit.highlight,
      /&lt;script&gt;<mark>alert<\/mark>\(&#39;boom&#39;\)&lt;\/script&gt; &amp; &lt;b&gt;/,
    );
    const page = await http(origin, "GET", "/search?q=alert");
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /<script>alert/);
    assert.match(page.text, /&lt;script&gt;<mark>alert<\/mark>/);
  });

  await t.step("syntax errors and oversized queries: 4xx with a clear message, JSON and page", async () => {
    const cases: Array<[string, number, string]> = [
      ["", 400, "empty_query"],
      [`"unclosed`, 400, "unbalanced_quote"],
      ["subject:hello", 400, "unknown_operator"],
      ["before:2026-13-01", 400, "invalid_date"],
      ["has:pictures", 400, "invalid_filter"],
      ["x".repeat(257), 422, "query_too_long"],
    ];
    for (const [q, status, code] of cases) {
      const reply = await http(origin, "GET", `/api/search?q=${encodeURIComponent(q)}`);
      assertRefused(reply, status, code);
      assert.ok(reply.json.message.length > 10);
    }
    assertRefused(await http(origin, "GET", "/api/search"), 400, "empty_query");
    assertRefused(await http(origin, "GET", "/api/search?q=a&cursor=abc"), 400, "invalid_cursor");
    assertRefused(await http(origin, "GET", "/api/search?q=a&limit=500"), 400, "invalid_limit");
    const page = await http(origin, "GET", `/search?q=${encodeURIComponent(`"unclosed`)}`);
    assert.equal(page.status, 400);
    assert.match(page.text, /class="search-error"/);
    assert.match(page.text, /never closed/);
    const fragment = await http(origin, "GET", "/search?q=subject:x", {
      headers: { "hx-request": "true", "hx-target": "search-results" },
    });
    assert.equal(fragment.status, 400);
    assert.doesNotMatch(fragment.text, /<html/);
    assert.match(fragment.text, /no &quot;subject:&quot; filter|no "subject:" filter/);
  });

  await t.step("FTS5 syntax typed by a user is never a server error", async () => {
    const nasty = [
      `NEAR(a b, 2)`,
      `a AND OR NOT b`,
      `"a" * ^b -c`,
      `body:secret`,
      `meta:msg`,
      `{body meta}: x`,
      `x" OR "y`,
      `(((`,
      `*`,
      `a*b*c`,
      `"" ""`,
      `'; DROP TABLE message_index; --`,
      `\u0000 \uE000 \uE001`,
      `in:"a"b"`,
      `from:"`,
    ];
    for (const q of nasty) {
      const reply = await http(origin, "GET", `/api/search?q=${encodeURIComponent(q)}`, {
        token: alice.token!,
      });
      assert.ok(reply.status === 200 || reply.status === 400 || reply.status === 422, `${q}: ${reply.text}`);
      if (reply.status === 200) {
        for (const r of reply.json.results as Hit[]) assert.notEqual(r.id, secret.id + "x");
      }
    }
    // The meta column cannot be reached by typing its tokens.
    assert.deepEqual(await ids("msg"), []);
    assert.deepEqual(await ids("haslink"), []);
  });

  await t.step("deleting a channel removes its messages from the index", async () => {
    const temp =
      (await http(origin, "POST", "/api/channels", { body: { name: "temp" }, token: owner.token! }))
        .json as ChannelJson;
    const note = await owner.post(temp.id, "ephemeral scratchpad words");
    assert.deepEqual(await ids("ephemeral"), [note.id]);
    const removed = await http(origin, "DELETE", `/api/channels/${temp.id}`, { token: owner.token! });
    assert.ok(removed.status < 300, removed.text);
    assert.deepEqual(await ids("ephemeral"), []);
    await checkSearchIndex(h.db);
  });

  await t.step("pages: a keyset cursor, newest first, no repeats", async () => {
    const posted: MessageJson[] = [];
    for (let i = 0; i < 5; i++) posted.push(await owner.post(random.id, `paging test number ${i}`));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await find("paging", undefined, `&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      assert.ok(page.results.length <= 2);
      seen.push(...page.results.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(seen, posted.map((m) => m.id).reverse());
    assert.equal(pages, 3);
  });

  await t.step("the page, its htmx fragments and the box in the chat header", async () => {
    const page = await http(origin, "GET", "/search?q=paging");
    assert.equal(page.status, 200);
    assert.match(page.text, /<html/);
    assert.match(page.text, new RegExp(`href="/channels/${random.id}/messages/[0-9a-f-]{36}"`));
    const fragment = await http(origin, "GET", "/search?q=paging", {
      headers: { "hx-request": "true", "hx-target": "search-results" },
    });
    assert.equal(fragment.status, 200);
    assert.doesNotMatch(fragment.text, /<html/);
    assert.match(fragment.text, /class="search-hits"/);
    const first = await find("paging", undefined, "&limit=20");
    assert.equal(first.results.length, 5);
    const empty = await http(origin, "GET", "/search");
    assert.equal(empty.status, 200);
    assert.match(empty.text, /class="search-help"/);
    const chat = await http(origin, "GET", `/channels/${general.id}`);
    assert.match(chat.text, /<form class="search-box" role="search" action="\/search" method="get">/);
  });
});

Deno.test("search: a reader who sees few channels gets only theirs (the channel list goes into the MATCH)", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const origin = instance.origin;
  const [general] = await owner.channels();
  const hidden: string[] = [];
  for (const name of ["council", "finance", "security"]) {
    const c = (await http(origin, "POST", "/api/channels", {
      body: { name, visibility: "members" },
      token: owner.token!,
    })).json as ChannelJson;
    hidden.push((await owner.post(c.id, `quarterly budget talk in ${name}`)).id);
  }
  const open = await owner.post(general.id, "quarterly budget talk for everyone");
  const visitor = (await http(origin, "GET", "/api/search?q=quarterly")).json as Page;
  assert.deepEqual(visitor.results.map((r) => r.id), [open.id]);
  const member = (await http(origin, "GET", "/api/search?q=quarterly", { token: owner.token! })).json as Page;
  assert.deepEqual(member.results.map((r) => r.id).sort(), [open.id, ...hidden].sort());
});
