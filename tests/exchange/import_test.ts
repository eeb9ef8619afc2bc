/**
 * An import verifies what it loads: the export's signature by the
 * community key, and each item in it (capability chains up to the
 * community key, signed documents, the audit chain, credentials). A
 * tampered export is refused with an error naming what failed, and leaves
 * the database empty; a genuine one imports, and the moved community keeps
 * working under its own key.
 *
 * Each tampering is tried twice: as an outsider would leave it (the
 * export's signature no longer matches), and signed again with the
 * community key, as someone holding the keys could (then the item's own
 * check must catch it).
 */
import assert from "node:assert/strict";
import { parseNQuads, quadToNQuads } from "../../db/nquads.ts";
import { openDatabase } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { actorKeys } from "../../db/schema.ts";
import { dateTime, iri, literal, type Quad, quad } from "../../db/terms.ts";
import { BUILT_IN_ROLES } from "../../server/authority/actions.ts";
import { delegate, rootCapabilityId } from "../../server/capabilities/zcap.ts";
import { suiteSigner } from "../../server/capabilities/signer.ts";
import { didFromPublicKey, verificationMethodOf } from "../../server/crypto/didkey.ts";
import { importNQuads, ImportRefusedError } from "../../server/exchange/exchange.ts";
import { communityKeyIn, type InstanceKeys, readInstanceKeys } from "../../server/exchange/keys.ts";
import { ExportSigner, splitSignature } from "../../server/exchange/signature.ts";
import { AS, H, RDF, RDF_JSON } from "../../server/rdf/vocab.ts";
import { R } from "../../server/recovery/vocab.ts";
import { claimedInstance, startTestInstance } from "../helpers/instance.ts";
import { HarmonyClient } from "../../cli/client.ts";
import { richCommunity } from "./community.ts";

type Tamper = (quads: Quad[], origin: string) => Promise<Quad[]> | Quad[];

const toText = (quads: Quad[]) => quads.map(quadToNQuads).join("");

/** The export's quads changed by `tamper`, with its original signature line kept. */
async function tampered(text: string, origin: string, tamper: Tamper): Promise<string> {
  const { body, line } = splitSignature(text);
  return toText(await tamper([...parseNQuads(body)], origin)) + `${line}\n`;
}

/** The export's quads changed by `tamper`, signed again with the community key. */
async function resigned(text: string, origin: string, keys: InstanceKeys, tamper: Tamper): Promise<string> {
  const body = toText(await tamper([...parseNQuads(splitSignature(text).body)], origin));
  const signer = new ExportSigner(origin, (await communityKeyIn(keys.keys))!);
  const bytes = new TextEncoder().encode(body);
  signer.add(bytes, body.split("\n").filter(Boolean).length);
  return body + await signer.line();
}

/** Imports into a fresh database; returns the refusal's message (or null) and what the database holds after. */
async function importFresh(text: string, origin: string, keys: InstanceKeys | null) {
  const dir = await Deno.makeTempDir({ prefix: "harmony-import-" });
  const database = await openDatabase(`file:${dir}/imported.db`);
  try {
    let refusal: string | null = null;
    try {
      await importNQuads(database, text, { origin, keys });
    } catch (error) {
      if (!(error instanceof ImportRefusedError)) throw error;
      refusal = error.message;
    }
    return {
      refusal,
      quads: await quadStore.count(database.db),
      keys: (await database.db.select().from(actorKeys)).length,
      dir,
      databaseUrl: `file:${dir}/imported.db`,
      close: () => database.close(),
      async [Symbol.asyncDispose]() {
        database.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (error) {
    database.close();
    throw error;
  }
}

const bySubjectAndPredicate = (quads: Quad[], subject: string, predicate: { value: string }) =>
  quads.find((q) => q.subject.value === subject && q.predicate.value === predicate.value);

/** A second owner: the owner's capability, copied for another DID (its signature cannot follow). */
const addedOwnerGrant: Tamper = (quads, origin) => {
  const mallory = "did:key:z6MkmaLLoRyxyzSJKqM7s7CMpNu3rvaNUwvqWaDtdGjPc1M3";
  const ownerRole = `${origin}/roles/owner`;
  const owners = quads.filter((q) =>
    q.predicate.value === H.grantedRole.value && q.object.value === ownerRole
  );
  const subject = owners[0].subject.value;
  const copyId = "urn:uuid:00000000-0000-4000-8000-000000000bad";
  const copied = quads.filter((q) => q.subject.value === subject).map((q) => {
    if (q.predicate.value === H.holder.value) return quad(iri(copyId), q.predicate, iri(mallory), q.graph);
    if (q.predicate.value === H.capability.value) {
      const capability = JSON.parse(q.object.value);
      const forged = { ...capability, id: copyId, controller: mallory };
      return quad(iri(copyId), q.predicate, literal(JSON.stringify(forged), RDF_JSON), q.graph);
    }
    return { ...q, subject: iri(copyId) };
  });
  const community = `${origin}/community`;
  return [
    ...quads.filter((q) => !(q.subject.value === community && q.predicate.value === H.owner.value)),
    quad(iri(community), H.owner, iri(mallory), community),
    ...copied,
  ];
};

/** A capability for every action, delegated from the community's root by a key that is not the community's. */
const forgedCapability: Tamper = async (quads, origin) => {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const did = didFromPublicKey(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)));
  const target = `${origin}/community`;
  const capability = await delegate({
    parent: rootCapabilityId(target),
    controller: did,
    invocationTarget: target,
    allowedAction: [...BUILT_IN_ROLES.owner.actions],
    expires: new Date(Date.now() + 86_400_000),
    signer: suiteSigner(verificationMethodOf(did), pair.privateKey),
  });
  const g = `${origin}/authority`;
  const s = iri(capability.id);
  return [
    ...quads,
    quad(s, RDF.type, H.HeldCapability, g),
    quad(s, H.holder, iri(did), g),
    quad(s, H.delegatedBy, iri(did), g),
    quad(s, H.parentCapability, iri(rootCapabilityId(target)), g),
    quad(s, H.capability, literal(JSON.stringify(capability), RDF_JSON), g),
    quad(s, AS.published, dateTime(new Date()), g),
    quad(s, H.expires, dateTime(capability.expires), g),
    quad(s, H.revoked, literal("false"), g),
    quad(s, H.grantedRole, iri(`${origin}/roles/admin`), g),
  ];
};

/** The recovery request whose status is `status`, and its graph. */
function requestWith(quads: Quad[], status: string) {
  const q = quads.find((q) => q.predicate.value === R.recoveryStatus.value && q.object.value === status)!;
  return { request: q.subject, graph: q.graph };
}

/** Made due at once: `request` locked an hour ago, due a second ago. */
function madeDue(quads: Quad[], { request, graph }: ReturnType<typeof requestWith>): Quad[] {
  const timing = [R.recoveryStatus.value, R.lockedAt.value, R.dueAt.value];
  return [
    ...quads.filter((q) => !(q.subject.value === request.value && timing.includes(q.predicate.value))),
    quad(request, R.recoveryStatus, literal("locked"), graph),
    quad(request, R.lockedAt, dateTime(new Date(Date.now() - 3_600_000)), graph),
    quad(request, R.dueAt, dateTime(new Date(Date.now() - 1000)), graph),
  ];
}

/** The request still waiting for a guardian, made due at once. */
const pendingRecoveryMadeDue: Tamper = (quads) => madeDue(quads, requestWith(quads, "pending"));

/** The request whose time lock runs (its guardians approved a moment ago), made due at once. */
const lockedRecoveryMadeDue: Tamper = (quads) => madeDue(quads, requestWith(quads, "locked"));

/** Alice's first message says something she never signed. */
function editedMessage(messageId: string): Tamper {
  return (quads) =>
    quads.map((q) =>
      q.subject.value === messageId && q.predicate.value === AS.content.value
        ? quad(q.subject, q.predicate, literal("send your recovery phrase to mallory"), q.graph)
        : q
    );
}

/** The signed post itself, its text changed inside the operation's document. */
function editedPost(messageId: string): Tamper {
  return (quads) =>
    quads.map((q) => {
      if (q.predicate.value !== H.document.value || !q.object.value.includes(messageId)) return q;
      const doc = JSON.parse(q.object.value);
      if (doc.type !== "Message" || doc.id !== messageId) return q;
      return quad(
        q.subject,
        q.predicate,
        literal(JSON.stringify({ ...doc, content: "forged" }), RDF_JSON),
        q.graph,
      );
    });
}

Deno.test({
  name:
    "an import refuses tampered exports, naming what failed, and imports a genuine one that keeps working",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner, first } = await richCommunity();
    const origin = instance.origin;
    const port = instance.port;
    const exported = await new Response(await owner.exportNQuads()).text();
    const keys = await readInstanceKeys(instance.harmony.database);
    await instance[Symbol.asyncDispose]();
    assert.ok(
      bySubjectAndPredicate([...parseNQuads(exported)], first.id, AS.content),
      "the export holds the message",
    );

    const cases: Array<[string, Tamper, RegExp]> = [
      [
        "an added owner grant",
        addedOwnerGrant,
        /capability urn:uuid:0{8}-0{4}-4000-8000-000000000bad .*does not verify up to the community key/,
      ],
      ["a forged capability", forgedCapability, /does not verify up to the community key/],
      [
        "a recovery made due before its guardians approved",
        pendingRecoveryMadeDue,
        /time-locked with 1 guardian approval\(s\) of the 2 it needs/,
      ],
      [
        "a recovery made due by starting its time lock early",
        lockedRecoveryMadeDue,
        /its time lock starts before enough guardians approved/,
      ],
      [
        "an edited signed message",
        editedMessage(first.id),
        /its text is not the text of its author's signed edit/,
      ],
      ["an edited signed post", editedPost(first.id), /signature check failed/],
    ];
    for (const [name, tamper, itemReason] of cases) {
      await t.step(`${name}: refused by the export's signature, nothing written`, async () => {
        await using result = await importFresh(await tampered(exported, origin, tamper), origin, keys);
        assert.match(
          result.refusal ?? "imported",
          /the export (was signed with \d+ quads; it holds|was changed after)/,
        );
        assert.equal(result.quads, 0);
        assert.equal(result.keys, 0);
      });
      await t.step(
        `${name}: signed again with the community key, refused by the item's own check`,
        async () => {
          await using result = await importFresh(
            await resigned(exported, origin, keys, tamper),
            origin,
            keys,
          );
          assert.match(result.refusal ?? "imported", itemReason);
          assert.equal(result.quads, 0);
          assert.equal(result.keys, 0);
        },
      );
    }

    await t.step(
      "an export with no signature, or another community's key, or another origin is refused",
      async () => {
        const unsigned = splitSignature(exported).body;
        await using a = await importFresh(unsigned, origin, keys);
        assert.match(a.refusal ?? "", /the export is not signed/);
        const other = await startTestInstance();
        const otherKeys = await readInstanceKeys(other.harmony.database);
        await other[Symbol.asyncDispose]();
        await using b = await importFresh(exported, origin, otherKeys);
        assert.match(b.refusal ?? "", /signed by did:key:\w+, not by the community key/);
        await using c = await importFresh(exported, "https://elsewhere.example", keys);
        assert.match(c.refusal ?? "", /not for a community at https:\/\/elsewhere\.example/);
        await using d = await importFresh(exported, origin, null);
        assert.match(d.refusal ?? "", /the community key is needed/);
        for (const result of [a, b, c, d]) assert.equal(result.quads + result.keys, 0);
      },
    );

    await t.step("the genuine export imports, and the moved community works under its own key", async () => {
      await using result = await importFresh(exported, origin, keys);
      assert.equal(result.refusal, null);
      assert.equal(result.quads, [...parseNQuads(exported)].length - 1);
      result.close();
      const moved = await startTestInstance({
        PORT: String(port),
        HARMONY_ORIGIN: origin,
        DATABASE_URL: result.databaseUrl,
      });
      try {
        const again = new HarmonyClient(origin, owner.signer);
        await again.signIn();
        // Only a capability that verifies up to the community key allows this.
        const channel = await again.createChannel("after-the-move");
        assert.equal(channel.name, "after-the-move");
        assert.equal((await again.request<{ did: string }>("GET", "/community")).did, keys.community);
        const history = await again.history("general");
        assert.ok(history.messages.some((m) => m.content === "hello everyone (edited)"));
      } finally {
        await moved.close();
      }
    });
  },
});

Deno.test({
  name:
    "deno task export-keys and deno task import move a community; a tampered export is refused with exit 1",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const message = await owner.post("general", "moving house");
    const exported = await new Response(await owner.exportNQuads()).text();
    const dir = await Deno.makeTempDir({ prefix: "harmony-move-" });
    try {
      const run = async (script: string, args: string[], databaseUrl: string) => {
        const output = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", new URL(`../../server/exchange/${script}`, import.meta.url).pathname, ...args],
          env: { DATABASE_URL: databaseUrl, HARMONY_ORIGIN: instance.origin, NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
        return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
      };
      const keysFile = `${dir}/keys.json`;
      const keysRun = await run("exportKeys.ts", ["--out", keysFile], instance.databaseUrl);
      assert.equal(keysRun.code, 0, keysRun.stderr);
      assert.equal((await Deno.stat(keysFile)).mode! & 0o777, 0o600, "the keys file is private");
      await Deno.writeTextFile(`${dir}/genuine.nq`, exported);
      await Deno.writeTextFile(
        `${dir}/tampered.nq`,
        exported.replace('"moving house"', '"moving to mallory\'s"'),
      );

      const target = `file:${dir}/moved.db`;
      const refused = await run("import.ts", [`${dir}/tampered.nq`, "--keys", keysFile], target);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^import refused: the export was changed after it was signed/);
      const empty = await openDatabase(target);
      assert.equal(await quadStore.count(empty.db), 0, "nothing was written");
      empty.close();

      const imported = await run("import.ts", [`${dir}/genuine.nq`, "--keys", keysFile], target);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /imported \d+ quads .*every signature verified/);
      const moved = await openDatabase(target);
      const content = await quadStore.match(moved.db, { subject: iri(message.id), predicate: AS.content });
      assert.equal(content[0]?.object.value, "moving house");
      moved.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
