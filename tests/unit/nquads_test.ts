import assert from "node:assert/strict";
import { NQuadsSyntaxError, parseNQuads, quadToNQuads, serializeNQuads } from "../../db/nquads.ts";
import { blank, dateTime, integer, iri, literal, type Quad, quad } from "../../db/terms.ts";

const s = iri("https://example.org/s");
const p = iri("https://example.org/p");
const G = "https://example.org/graph";

const tricky = [
  'She said "hi"',
  "back\\slash and \\n that is not a newline",
  "line one\nline two\r\nline three\ttabbed",
  "\b\f and a bell \u0007 and DEL \u007f and NEL \u0085",
  "café naïve Ωmega 日本語",
  "emoji 🎉👩‍👩‍👧 and astral 𝄞 𠜎",
  "",
  " leading and trailing spaces ",
  "a # that is not a comment",
  '"\\"',
  "ends with a backslash \\",
];

const quads: Quad[] = [
  ...tricky.map((text, i) => quad(iri(`https://example.org/m/${i}`), p, literal(text), G)),
  quad(s, p, literal("bonjour", "", "fr")),
  quad(s, p, literal("hello", "", "en-GB")),
  quad(s, p, integer(-17), G),
  quad(s, p, dateTime("2024-05-06T07:08:09.123Z"), G),
  quad(s, p, literal('{"a":"b\\n"}', "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"), G),
  quad(blank("b1"), p, blank("node-2.x_y"), G),
  quad(s, p, blank("b1")),
  quad(iri('https://example.org/päth/日本?q=a b&c=<>"{}|^`\\'), p, iri("urn:x:é🎉"), "https://ex.org/g/ü"),
  quad(s, iri("https://example.org/p#with%20escape"), literal("x"), ""),
];

Deno.test("N-Quads: tricky literals, IRIs and blank nodes survive a serialise/parse round trip", () => {
  const text = serializeNQuads(quads);
  assert.deepEqual([...parseNQuads(text)], quads);
  // Each quad is one line.
  assert.equal(text.split("\n").length, quads.length + 1);
  assert.equal(text.endsWith(" .\n"), true);
});

Deno.test("N-Quads: the writer emits pure printable ASCII", () => {
  const text = serializeNQuads(quads);
  for (const line of text.split("\n")) {
    assert.match(line, /^[\x20-\x7e]*$/, `non-ASCII or control character in: ${line}`);
  }
  assert.ok(text.includes("\\U0001F389"), "astral characters use \\U escapes");
  assert.ok(text.includes("\\u00E9"), "BMP characters use \\u escapes");
  assert.ok(text.includes('\\"') && text.includes("\\\\") && text.includes("\\n") && text.includes("\\r"));
});

Deno.test("N-Quads: IRIs with characters IRIREF forbids are written with \\u escapes", () => {
  const line = quadToNQuads(quad(iri("https://example.org/a b<c>"), p, iri('https://example.org/"q"')));
  assert.equal(
    line,
    "<https://example.org/a\\u0020b\\u003Cc\\u003E> <https://example.org/p> " +
      "<https://example.org/\\u0022q\\u0022> .\n",
  );
  assert.deepEqual([...parseNQuads(line)][0].subject, iri("https://example.org/a b<c>"));
});

Deno.test("N-Quads: the parser reads what other writers produce (raw UTF-8, comments, blank lines, ECHARs)", () => {
  const text = [
    "# a comment",
    "",
    '<https://example.org/s> <https://example.org/p> "caf\u00e9 \u{1F389} \\u00E9\\U0001F389" <https://example.org/g> .',
    "   \t",
    '<https://example.org/s> <https://example.org/p> "it\\\'s \\b\\f\\t" . # trailing comment',
    '_:a <https://example.org/p> "x"^^<http://www.w3.org/2001/XMLSchema#string> .',
    '<https://example.org/s>\t<https://example.org/p>\t"Hallo"@DE-at\t.',
  ].join("\r\n");
  const parsed = [...parseNQuads(text)];
  assert.equal(parsed.length, 4);
  assert.equal(parsed[0].object.value, "café 🎉 é🎉");
  assert.equal(parsed[0].graph, "https://example.org/g");
  assert.equal(parsed[1].object.value, "it's \b\f\t");
  assert.deepEqual(parsed[2].object, literal("x"), "xsd:string is the plain literal");
  assert.equal(parsed[2].subject.termType, "BlankNode");
  assert.deepEqual(parsed[3].object, literal("Hallo", "", "de-at"), "language tags are lower-cased");
});

function syntaxError(text: string): NQuadsSyntaxError {
  try {
    [...parseNQuads(text)];
  } catch (error) {
    assert.ok(error instanceof NQuadsSyntaxError, `expected NQuadsSyntaxError, got ${error}`);
    return error;
  }
  assert.fail(`parsed without error: ${text}`);
}

Deno.test("N-Quads: a syntax error names the line it is on", () => {
  const good = '<https://example.org/s> <https://example.org/p> "ok" .';
  const error = syntaxError(
    [good, "", good, '<https://example.org/s> <https://example.org/p> "broken .'].join("\n"),
  );
  assert.equal(error.line, 4);
  assert.match(error.message, /^N-Quads line 4: /);
});

Deno.test("N-Quads: malformed lines are refused", async (t) => {
  const S = "<https://example.org/s>";
  const P = "<https://example.org/p>";
  const cases: Array<[string, string, RegExp]> = [
    ["unterminated literal", `${S} ${P} "no end .`, /unterminated literal/],
    ["relative IRI as subject", `<s> ${P} "x" .`, /relative IRI/],
    ["relative IRI as object", `${S} ${P} <../x> .`, /relative IRI/],
    ["relative IRI as datatype", `${S} ${P} "x"^^<int> .`, /relative IRI/],
    ["missing final dot", `${S} ${P} "x"`, /expected '\.'/],
    ["missing dot before a graph", `${S} ${P} "x" <https://example.org/g>`, /expected '\.'/],
    ["bad escape in a literal", `${S} ${P} "a\\qb" .`, /bad escape/],
    ["short \\u escape", `${S} ${P} "a\\u12" .`, /bad \\u escape/],
    ["surrogate code point", `${S} ${P} "\\uD800" .`, /not a code point/],
    ["code point beyond U+10FFFF", `${S} ${P} "\\U00110000" .`, /not a code point/],
    ["space inside an IRI", `<https://example.org/a b> ${P} "x" .`, /not allowed in IRI/],
    ["unterminated IRI", `${S} ${P} <https://example.org/x`, /unterminated IRI/],
    ["literal as subject", `"x" ${P} "y" .`, /expected <IRI>/],
    ["blank node as predicate", `${S} _:p "y" .`, /expected <IRI>/],
    ["blank node graph name", `${S} ${P} "y" _:g .`, /blank node graph/],
    ["text after the dot", `${S} ${P} "y" . extra`, /unexpected text/],
    ["bad language tag", `${S} ${P} "y"@-en .`, /bad language tag/],
    ["bad blank node label", `_:-x ${P} "y" .`, /bad blank node label/],
  ];
  for (const [name, line, message] of cases) {
    await t.step(`refuses ${name}`, () => {
      const error = syntaxError(`${S} ${P} "fine" .\n${line}\n`);
      assert.equal(error.line, 2);
      assert.match(error.message, message);
    });
  }
});

Deno.test("N-Quads: a blank node label that cannot be written is refused, not mangled", () => {
  assert.throws(() => serializeNQuads([quad(blank("has space"), p, literal("x"))]), /not serialisable/);
  assert.throws(() => serializeNQuads([quad(s, p, blank("ends."))]), /not serialisable/);
});
