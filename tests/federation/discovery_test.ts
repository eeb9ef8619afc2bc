/** Actors and discovery: WebFinger, NodeInfo, actor documents, pages for browsers, keys, outbox paging. */
import assert from "node:assert/strict";
import { actorKeys, channelActorUri, ed25519KeyId } from "../../federation/keys.ts";
import { ed25519Multibase } from "../../server/crypto/didkey.ts";
import { newClient, startTestInstance } from "../helpers/instance.ts";
import { freePort } from "../http/support.ts";
import { channelNamed, federatedInstance, getAp, groupOf } from "./support.ts";

const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

Deno.test("channels, members and the instance are discoverable ActivityPub actors", async (t) => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  const origin = instance.origin;
  const host = new URL(origin).host;
  const general = await channelNamed(origin, "general");
  const group = groupOf(origin, general.id);
  const memberId = owner.did.replace("did:key:", "");
  const person = `${origin}/ap/actors/${memberId}`;

  await t.step("WebFinger resolves acct:general@host to the channel's Group", async () => {
    const reply = await getAp(
      `${origin}/.well-known/webfinger?resource=acct:general@${host}`,
      "application/jrd+json",
    );
    assert.equal(reply.status, 200);
    const self = reply.json.links.find((l: { rel: string }) => l.rel === "self");
    assert.equal(self.href, group);
    assert.equal(self.type, "application/activity+json");
  });

  await t.step(
    "WebFinger resolves a member's handle (their did:key's multibase) to their Person",
    async () => {
      const reply = await getAp(
        `${origin}/.well-known/webfinger?resource=acct:${memberId}@${host}`,
        "application/jrd+json",
      );
      assert.equal(reply.status, 200);
      assert.equal(reply.json.links.find((l: { rel: string }) => l.rel === "self").href, person);
      const unknown = await getAp(
        `${origin}/.well-known/webfinger?resource=acct:nobody@${host}`,
        "application/jrd+json",
      );
      assert.equal(unknown.status, 404);
    },
  );

  await t.step("NodeInfo 2.1 is linked from /.well-known/nodeinfo and names the software", async () => {
    const wellKnown = await getAp(`${origin}/.well-known/nodeinfo`, "application/json");
    const link = wellKnown.json.links.find((l: { rel: string }) => l.rel.endsWith("/2.1"));
    const nodeinfo = await getAp(link.href, "application/json");
    assert.equal(nodeinfo.status, 200);
    assert.equal(nodeinfo.json.version, "2.1");
    assert.equal(nodeinfo.json.software.name, "harmony");
    assert.deepEqual(nodeinfo.json.protocols, ["activitypub"]);
    assert.equal(nodeinfo.json.usage.users.total, 1);
  });

  await t.step("the channel is a Group with an RSA-2048 publicKey and an Ed25519 Multikey", async () => {
    const { json } = await getAp(group);
    assert.equal(json.type, "Group");
    assert.equal(json.id, group);
    assert.equal(json.preferredUsername, "general");
    assert.match(json.name, /#general/);
    assert.equal(json.summary, "<p>Say hello</p>");
    assert.equal(json.inbox, `${group}/inbox`);
    assert.equal(json.outbox, `${group}/outbox`);
    assert.equal(json.followers, `${group}/followers`);
    assert.equal(json.endpoints.sharedInbox, `${origin}/ap/inbox`);
    assert.equal(json.manuallyApprovesFollowers, false);
    assert.equal(json.publicKey.id, `${group}#main-key`);
    assert.equal(json.publicKey.owner, group);
    const spki = Uint8Array.from(
      atob(json.publicKey.publicKeyPem.replace(/-----[^-]+-----|\s/g, "")),
      (c) => c.charCodeAt(0),
    );
    const rsa = await crypto.subtle.importKey(
      "spki",
      spki,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      true,
      [
        "verify",
      ],
    );
    assert.equal((rsa.algorithm as RsaHashedKeyAlgorithm).modulusLength, 2048);
    const methods = [json.assertionMethod].flat();
    assert.equal(methods.length, 1);
    assert.equal(methods[0].type, "Multikey");
    assert.equal(methods[0].id, ed25519KeyId(group));
    assert.equal(methods[0].controller, group);
    // The key the bridge layer signs with is the one the document lists.
    const keys = await actorKeys(instance.harmony, general.id);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", keys.ed25519.publicKey));
    assert.equal(methods[0].publicKeyMultibase, ed25519Multibase(raw));
    assert.equal(channelActorUri(instance.harmony, general.id), group);
  });

  await t.step("a member is a Person: alsoKnownAs their did:key, whose key is their Multikey", async () => {
    const { json } = await getAp(person);
    assert.equal(json.type, "Person");
    assert.equal(json.alsoKnownAs, owner.did);
    const [method] = [json.assertionMethod].flat();
    assert.equal(method.type, "Multikey");
    assert.equal(method.publicKeyMultibase, memberId);
    assert.equal(method.controller, person);
    assert.equal(json.publicKey, undefined, "the instance holds no key for a member");
    assert.equal(
      (await getAp(`${origin}/ap/actors/z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK`)).status,
      404,
    );
  });

  await t.step("the instance is an Application listing the public channels", async () => {
    const { json } = await getAp(`${origin}/ap/actors/instance`);
    assert.equal(json.type, "Application");
    assert.ok(json.publicKey.publicKeyPem);
    const channels = await getAp([json.streams].flat()[0]);
    const items = channels.json.orderedItems ?? channels.json.items;
    assert.deepEqual([items].flat().map((g: { id: string }) => g.id), [group]);
  });

  await t.step("a browser asking for an actor or a Note is redirected to its page", async () => {
    const message = await owner.post("general", "see me in a browser");
    const key = message.id.replace("urn:uuid:", "");
    const cases: Array<[string, string]> = [
      [group, `/channels/${general.id}`],
      [person, `/members/${encodeURIComponent(owner.did)}`],
      [`${origin}/ap/actors/instance`, "/"],
      [`${origin}/ap/notes/${key}`, `/channels/${general.id}#m-${key}`],
    ];
    for (const [url, page] of cases) {
      const reply = await getAp(url, BROWSER);
      assert.equal(reply.status, 303, url);
      assert.equal(reply.headers.get("location"), page);
    }
    // The JSON is still served to ActivityPub clients at the same URL.
    assert.equal(
      (await getAp(
        `${origin}/ap/notes/${key}`,
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
      )).json.type,
      "Note",
    );
  });

  await t.step("the outbox pages the channel's Announces, newest first", async () => {
    for (let i = 0; i < 22; i++) await owner.post("general", `message ${i}`);
    const outbox = await getAp(`${group}/outbox`);
    assert.equal(outbox.json.type, "OrderedCollection");
    assert.equal(outbox.json.totalItems, 23);
    const first = await getAp(outbox.json.first);
    assert.equal(first.json.type, "OrderedCollectionPage");
    assert.equal(first.json.orderedItems.length, 20);
    assert.equal(first.json.orderedItems[0].type, "Announce");
    assert.equal(first.json.orderedItems[0].object.type, "Create");
    assert.equal(first.json.orderedItems[0].object.object.source.content, "message 21");
    const second = await getAp(first.json.next);
    assert.equal(second.json.orderedItems.length, 3);
    assert.equal(second.json.orderedItems[2].object.object.source.content, "see me in a browser");
    assert.equal(second.json.next, undefined);
  });
});

Deno.test("actor keys are generated once and kept across restarts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-federation-keys-" });
  const port = freePort();
  const env = {
    PORT: String(port),
    HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${dir}/harmony.db`,
  };
  try {
    const fetchKeys = async (origin: string, id: string) => {
      const { json } = await getAp(groupOf(origin, id));
      return [json.publicKey.publicKeyPem, [json.assertionMethod].flat()[0].publicKeyMultibase];
    };
    let before: string[];
    let channelId: string;
    {
      await using first = await startTestInstance(env);
      channelId = (await channelNamed(first.origin, "general")).id;
      before = await fetchKeys(first.origin, channelId);
      assert.deepEqual(await fetchKeys(first.origin, channelId), before);
    }
    await using second = await startTestInstance(env);
    await newClient(second, false);
    assert.deepEqual(await fetchKeys(second.origin, channelId), before);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
