import assert from "node:assert/strict";
import { describe, Description, quadStore } from "../../db/quadstore.ts";
import { blank, dateTime, integer, iri, literal, type Quad, quad, XSD_STRING } from "../../db/terms.ts";
import { tempDatabase } from "./support.ts";

const ex = (name: string) => iri(`https://example.org/${name}`);
const G1 = "https://example.org/graph/1";
const G2 = "https://example.org/graph/2";
const name = ex("name");
const knows = ex("knows");
const age = ex("age");

const sorted = (items: Quad[]) => items.map((q) => JSON.stringify(q)).sort();

Deno.test("quad store: pattern matching, set semantics and writes over a real libSQL file", async (t) => {
  await using database = await tempDatabase();
  const db = database.db;
  const alice = ex("alice");
  const bob = ex("bob");
  const node = blank("b0");
  const fixtures: Quad[] = [
    quad(alice, name, literal("Alice"), G1),
    quad(alice, name, literal("Alice", "", "en"), G1),
    quad(alice, name, literal("Alice", "https://example.org/Nick"), G1),
    quad(alice, knows, bob, G1),
    quad(alice, knows, node, G1),
    quad(alice, age, integer(42), G1),
    quad(bob, name, literal("Bob"), G2),
    quad(bob, knows, alice, G2),
    quad(node, name, literal("anonymous"), G1),
    quad(alice, name, literal("Alice"), ""),
  ];
  await database.write((tx) => quadStore.insert(tx, fixtures));

  await t.step("inserting a quad that is already stored is ignored (RDF sets)", async () => {
    const before = await quadStore.count(db);
    assert.equal(before, fixtures.length);
    await database.write((tx) => quadStore.insert(tx, [fixtures[0], fixtures[3], fixtures[0]]));
    assert.equal(await quadStore.count(db), before);
    // xsd:string written out is the same literal as a plain one.
    await database.write((tx) => quadStore.insert(tx, [quad(alice, name, literal("Alice", XSD_STRING), G1)]));
    assert.equal(await quadStore.count(db), before);
  });

  await t.step("literals differing only in language or datatype are distinct quads", async () => {
    assert.equal(await quadStore.count(db, { subject: alice, predicate: name, graph: G1 }), 3);
  });

  await t.step("match binds the subject, predicate, object and graph positions", async () => {
    assert.deepEqual(
      sorted(await quadStore.match(db, { subject: bob })),
      sorted([fixtures[6], fixtures[7]]),
    );
    assert.deepEqual(
      sorted(await quadStore.match(db, { predicate: knows })),
      sorted([fixtures[3], fixtures[4], fixtures[7]]),
    );
    assert.deepEqual(await quadStore.match(db, { object: bob }), [fixtures[3]]);
    assert.deepEqual(await quadStore.match(db, { object: node }), [fixtures[4]]);
    assert.deepEqual(await quadStore.match(db, { subject: node }), [fixtures[8]]);
    assert.deepEqual(await quadStore.match(db, { graph: "" }), [fixtures[9]]);
    assert.equal((await quadStore.match(db, { graph: G2 })).length, 2);
    assert.equal((await quadStore.match(db)).length, fixtures.length);
  });

  await t.step("an IRI object does not match a literal with the same text, nor the reverse", async () => {
    assert.deepEqual(await quadStore.match(db, { object: literal("https://example.org/bob") }), []);
    assert.deepEqual(await quadStore.match(db, { object: iri("Bob") }), []);
    assert.deepEqual(await quadStore.match(db, { object: iri("b0") }), []);
  });

  await t.step("a literal object matches only with its own datatype and language", async () => {
    const plain = await quadStore.match(db, { object: literal("Alice"), graph: G1 });
    assert.deepEqual(plain, [fixtures[0]]);
    const tagged = await quadStore.match(db, { object: literal("Alice", "", "EN") });
    assert.deepEqual(tagged, [fixtures[1]]);
    assert.equal(tagged[0].object.termType === "Literal" && tagged[0].object.language, "en");
    const typed = await quadStore.match(db, { object: literal("Alice", "https://example.org/Nick") });
    assert.deepEqual(typed, [fixtures[2]]);
    assert.deepEqual(await quadStore.match(db, { object: literal("Alice", "", "fr") }), []);
    assert.deepEqual(await quadStore.match(db, { object: literal("42") }), []);
    assert.deepEqual(await quadStore.match(db, { object: integer(42) }), [fixtures[5]]);
  });

  await t.step("rows read back as the same terms (blank nodes, datatypes, languages)", async () => {
    const [typed] = await quadStore.match(db, { subject: alice, predicate: age });
    assert.deepEqual(typed.object, {
      termType: "Literal",
      value: "42",
      datatype: integer(0).datatype,
      language: "",
    });
    const [tagged] = await quadStore.match(db, { object: literal("Alice", "", "en") });
    assert.deepEqual(tagged.object, { termType: "Literal", value: "Alice", datatype: "", language: "en" });
    assert.equal((await quadStore.match(db, { subject: node }))[0].subject.termType, "BlankNode");
  });

  await t.step("remove deletes exactly the matching quads and reports how many", async () => {
    const removed = await database.write((tx) =>
      quadStore.remove(tx, { subject: alice, predicate: name, object: literal("Alice", "", "en") })
    );
    assert.equal(removed, 1);
    assert.equal(await quadStore.count(db, { subject: alice, predicate: name }), 3);
    assert.equal(await database.write((tx) => quadStore.remove(tx, { subject: ex("nobody") })), 0);
    assert.equal(await database.write((tx) => quadStore.remove(tx, { graph: G2 })), 2);
    assert.equal(await quadStore.count(db, { graph: G2 }), 0);
    assert.equal(await quadStore.count(db, { subject: alice, graph: "" }), 1, "other graphs untouched");
  });

  await t.step("remove refuses a pattern that would delete the whole store", async () => {
    await assert.rejects(
      () => database.write((tx) => quadStore.remove(tx, { object: literal("Alice") })),
      /unbounded pattern/,
    );
    await assert.rejects(() => database.write((tx) => quadStore.remove(tx, {})), /unbounded pattern/);
    assert.equal(await quadStore.count(db, { object: literal("Alice") }), 2);
  });

  await t.step("set replaces every object of (subject, predicate) in one graph only", async () => {
    await database.write((tx) => quadStore.set(tx, G1, alice, name, [literal("Al"), literal("Ally")]));
    assert.deepEqual(
      (await quadStore.match(db, { subject: alice, predicate: name, graph: G1 })).map((q) => q.object.value)
        .sort(),
      ["Al", "Ally"],
    );
    assert.equal(await quadStore.count(db, { subject: alice, predicate: name, graph: "" }), 1);
    await database.write((tx) => quadStore.set(tx, G1, alice, age, integer(43)));
    assert.deepEqual(await quadStore.match(db, { subject: alice, predicate: age }), [
      quad(alice, age, integer(43), G1),
    ]);
    await database.write((tx) => quadStore.set(tx, G1, alice, age, null));
    assert.equal(await quadStore.count(db, { subject: alice, predicate: age }), 0);
  });

  await t.step("inserts larger than one INSERT statement all land", async () => {
    const many = Array.from({ length: 1234 }, (_, i) => quad(ex(`item/${i}`), name, literal(`n${i}`), G2));
    await database.write((tx) => quadStore.insert(tx, many));
    assert.equal(await quadStore.count(db, { graph: G2 }), 1234);
  });

  await t.step("a failing write leaves nothing behind", async () => {
    const before = await quadStore.count(db);
    await assert.rejects(() =>
      database.write(async (tx) => {
        await quadStore.insert(tx, [quad(ex("ghost"), name, literal("boo"), G1)]);
        throw new Error("abort");
      }), /abort/);
    assert.equal(await quadStore.count(db), before);
    assert.equal(await quadStore.count(db, { subject: ex("ghost") }), 0);
  });

  await t.step("describe groups one subject's quads by predicate", async () => {
    const d = await describe(db, alice, G1);
    assert.equal(d.size, 2);
    assert.deepEqual(d.all(name).map((t) => t.value).sort(), ["Al", "Ally"]);
    assert.equal(d.has(knows, bob), true);
    assert.equal(d.has(knows, node), true);
    assert.equal(d.has(knows, ex("carol")), false);
    assert.equal(d.has(age), false);
  });
});

Deno.test("Description: one, string, number and has read the grouped values", () => {
  const s = iri("https://example.org/s");
  const d = new Description(s, [
    quad(s, age, integer(7)),
    quad(s, name, literal("first")),
    quad(s, name, literal("second")),
    quad(s, ex("when"), dateTime("2024-01-02T03:04:05Z")),
  ]);
  assert.equal(d.size, 3);
  assert.equal(d.number(age), 7);
  assert.equal(d.string(name), "first");
  assert.equal(d.one(name)?.value, "first");
  assert.equal(d.all(name).length, 2);
  assert.equal(d.string(ex("when")), "2024-01-02T03:04:05Z");
  assert.equal(d.number(ex("missing")), undefined);
  assert.equal(d.string(ex("missing")), undefined);
  assert.deepEqual(d.all(ex("missing")), []);
  assert.equal(d.has(name, literal("second")), true);
  assert.equal(d.has(name, iri("second")), false, "an IRI is not the literal with the same text");
  assert.equal(d.has(ex("missing")), false);
});
