/** The search query language: parsing, and how user text is written into FTS5 (always quoted). */
import assert from "node:assert/strict";
import { MAX_QUERY_LENGTH, parseQuery, QueryError } from "../../server/search/query.ts";
import {
  authorToken,
  channelToken,
  dayKey,
  ftsString,
  hexUtf8,
  matchExpression,
} from "../../server/search/fts.ts";
import { escapeHtml, highlightHtml, MARK_END, MARK_START } from "../../server/search/highlight.ts";
import { SEARCH_MAX_LENGTH } from "../../views/search.tsx";

function refused(input: string, code: string, status = 400): QueryError {
  try {
    parseQuery(input);
  } catch (error) {
    assert.ok(error instanceof QueryError, `expected a QueryError for ${JSON.stringify(input)}`);
    assert.equal(error.code, code, `${JSON.stringify(input)}: ${error.message}`);
    assert.equal(error.status, status);
    assert.ok(error.message.length > 10, "the refusal explains itself");
    return error;
  }
  assert.fail(`${JSON.stringify(input)} was accepted`);
}

Deno.test("words, phrases and the prefix of the last word", () => {
  const q = parseQuery(`deploy "release notes" fail`);
  assert.deepEqual(q.terms, [
    { text: "deploy", phrase: false, prefix: false },
    { text: "release notes", phrase: true, prefix: false },
    { text: "fail", phrase: false, prefix: true },
  ]);
  // A trailing space ends the word: no prefix.
  assert.equal(parseQuery("fail ").terms[0].prefix, false);
  // One letter is too short to expand.
  assert.equal(parseQuery("x").terms[0].prefix, false);
  // An explicit star anywhere.
  assert.deepEqual(parseQuery("deplo* ok ").terms[0], { text: "deplo", phrase: false, prefix: true });
  // A phrase last is never a prefix.
  assert.equal(parseQuery(`"release notes"`).terms[0].prefix, false);
});

Deno.test("every operator", () => {
  const q = parseQuery(
    `from:alice from:did:key:z6MkTest in:#general in:random before:2026-02-01 after:2026-01-01 has:link has:FILE hello`,
  );
  assert.deepEqual(q.from, ["alice", "did:key:z6MkTest"]);
  assert.deepEqual(q.in, ["general", "random"]);
  assert.equal(q.before, "2026-02-01");
  assert.equal(q.after, "2026-01-01");
  assert.deepEqual(q.has, ["link", "file"]);
  assert.deepEqual(q.terms.map((t) => t.text), ["hello"]);
  // Quoted values, @names, operator names in any case.
  const quoted = parseQuery(`FROM:"Ada Lovelace" from:@bob IN:"general"`);
  assert.deepEqual(quoted.from, ["Ada Lovelace", "bob"]);
  assert.deepEqual(quoted.in, ["general"]);
  // The tightest date bounds win.
  const dates = parseQuery("before:2026-03-01 before:2026-02-01 after:2025-01-01 after:2025-06-01 x");
  assert.equal(dates.before, "2026-02-01");
  assert.equal(dates.after, "2025-06-01");
  // Filters alone are a search.
  assert.deepEqual(parseQuery("has:link").has, ["link"]);
  assert.equal(parseQuery("before:2026-01-01").terms.length, 0);
  // A URL and a time are words, not operators.
  assert.deepEqual(parseQuery("https://example.org 12:30").terms.map((t) => t.text), [
    "https://example.org",
    "12:30",
  ]);
});

Deno.test("syntax errors are refused with a code and a sentence", () => {
  refused("", "empty_query");
  refused("   ", "empty_query");
  refused("*** --- ^", "empty_query");
  refused(`"unclosed phrase`, "unbalanced_quote");
  refused(`hello "world`, "unbalanced_quote");
  refused(`from:"Ada`, "unbalanced_quote");
  assert.match(refused("title:hello", "unknown_operator").message, /"title:"/);
  refused("before:yesterday", "invalid_date");
  refused("before:2026-02-30", "invalid_date");
  refused("after:2026-1-1", "invalid_date");
  refused("after:1969-12-31", "invalid_date");
  refused("has:image", "invalid_filter");
  refused("t*", "prefix_too_short");
  refused("from: alice", "missing_value");
  refused(`in:""`, "missing_value");
  refused("in:#", "missing_value");
  refused("x".repeat(MAX_QUERY_LENGTH + 1), "query_too_long", 422);
  refused(Array.from({ length: 17 }, (_, i) => `w${i}`).join(" "), "too_many_terms", 422);
  refused(Array.from({ length: 9 }, (_, i) => `from:m${i}`).join(" "), "too_many_filters", 422);
  assert.equal(SEARCH_MAX_LENGTH, MAX_QUERY_LENGTH, "the search box's maxlength is the server's limit");
});

Deno.test("FTS5 syntax in user text stays text: every term is a quoted string", () => {
  const specials = ["xy*", "NEAR", "AND", "OR", "NOT", "-foo", "col:umn", "^start", "(paren)", "{a b}", "+1"];
  for (const word of specials) {
    // Quoted, and bare (a bare word:with:colon is an operator, refused when unknown: quoting is the way).
    const bare = /^[a-z]+:/.test(word) ? "" : word;
    const q = parseQuery(`"${word}" ${bare} z `);
    const expr = matchExpression({ terms: q.terms, authors: [], channels: [], has: [] });
    // Outside the quoted strings only our own syntax remains.
    const outside = expr.replace(/"(?:[^"]|"")*"/g, "S");
    assert.match(outside, /^body : \(S( \*)?( AND S( \*)?)*\)$/, `${word} -> ${expr}`);
  }
  assert.equal(ftsString(`say "hi"`), `"say ""hi"""`);
  // A quote inside a term (never produced by the parser, which reads quotes as phrase marks) is doubled.
  assert.equal(
    matchExpression({
      terms: [{ text: `a" OR "b`, phrase: true, prefix: false }],
      authors: [],
      channels: [],
      has: [],
    }),
    `body : ("a"" OR ""b")`,
  );
  // A quote in the middle of a word opens a phrase.
  assert.deepEqual(parseQuery(`a"b c"`).terms.map((t) => [t.text, t.phrase]), [["a", false], ["b c", true]]);
  const q = parseQuery(`NEAR(a b) AND cc`);
  const expr = matchExpression({ terms: q.terms, authors: [], channels: [], has: [] });
  assert.equal(expr, `body : ("NEAR(a" AND "b)" AND "AND" AND "cc" *)`);
});

Deno.test("filters become meta tokens", () => {
  assert.equal(hexUtf8("é/"), "C3A92F");
  const expr = matchExpression({
    terms: [],
    authors: ["did:key:zA"],
    channels: ["https://h/channels/x", "https://h/channels/y"],
    has: ["link", "file"],
  });
  assert.equal(
    expr,
    `(meta : ("${authorToken("did:key:zA")}")) AND (meta : ("${channelToken("https://h/channels/x")}" OR "${
      channelToken("https://h/channels/y")
    }")) AND (meta : "haslink") AND (meta : "hasfile")`,
  );
  assert.equal(matchExpression({ terms: [], authors: [], channels: [], has: [] }), `meta : "msg"`);
  assert.equal(dayKey("1970-01-02"), 86_400_000 * 1024);
  assert.equal(dayKey("1970-01-01", 1), dayKey("1970-01-02"));
  assert.ok(Number.isSafeInteger(dayKey("2200-01-01")));
});

Deno.test("highlights: text escaped, markers become balanced <mark>", () => {
  const s = (text: string) => text.replaceAll("[", MARK_START).replaceAll("]", MARK_END);
  assert.equal(highlightHtml(s("a [<script>] b")), "a <mark>&lt;script&gt;</mark> b");
  assert.equal(highlightHtml(`"'&`), "&quot;&#39;&amp;");
  // Stray or nested markers (the text may contain the marker characters) stay balanced.
  assert.equal(highlightHtml(s("]x[[y]]z[")), "x<mark>y</mark>z<mark></mark>");
  assert.equal(escapeHtml("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
});
