/**
 * The ActivityPub layer loads when something needs it (federation/gate.ts):
 * pages and the API never load it, the first federation request does, and
 * a follower who arrives after that is sent only what is posted from then on.
 */
import assert from "node:assert/strict";
import { http } from "../http/support.ts";
import { MastodonPeer } from "./mastodon_peer.ts";
import { channelNamed, federatedInstance, groupOf, sleep } from "./support.ts";
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { freePort } from "../http/support.ts";

Deno.test("pages and the API do not load the federation layer; a WebFinger lookup does", async () => {
  const { instance, owner } = await federatedInstance();
  await using _instance = instance;
  await owner.post("general", "hello before anyone federates");
  await http(instance.origin, "GET", "/");
  await owner.history("general");
  assert.equal(instance.federationLoaded, false);

  const host = new URL(instance.origin).host;
  const response = await fetch(`${instance.origin}/.well-known/webfinger?resource=acct:general@${host}`);
  assert.equal(response.status, 200);
  const finger = await response.json();
  assert.equal(finger.subject, `acct:general@${host}`);
  assert.equal(instance.federationLoaded, true);
});

Deno.test("an ActivityPub path answers on first request, with the layer loaded for it", async () => {
  const { instance } = await federatedInstance();
  await using _instance = instance;
  const general = await channelNamed(instance.origin, "general");
  const response = await fetch(groupOf(instance.origin, general.id), {
    headers: { accept: "application/activity+json" },
  });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).type, "Group");
  assert.equal(instance.federationLoaded, true);
});

/** Two instances, one after the other, on one database and origin. */
async function sameDatabase(name: string) {
  const dir = await Deno.makeTempDir({ prefix: `harmony-lazy-${name}-` });
  const port = freePort();
  return {
    env: {
      PORT: String(port),
      HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
      DATABASE_URL: `file:${dir}/harmony.db`,
      HARMONY_ALLOW_PRIVATE_ADDRESSES: "1",
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

Deno.test("a follower who arrives after the layer loads gets only messages posted after following", async () => {
  await using db = await sameDatabase("late-follower");
  const identity = await identityFileFromMnemonic(generateMnemonic());
  const env = { ...db.env, HARMONY_OWNER: identity.did };
  {
    // A first run that federated once (its delivery cursor is left behind), with no follower.
    await using first = await startTestInstance(env);
    await (await fetch(`${first.origin}/.well-known/nodeinfo`)).body?.cancel();
    assert.equal(first.federationLoaded, true);
  }
  await using instance = await startTestInstance(env);
  const owner = new HarmonyClient(instance.origin, await signerFromIdentityFile(identity));
  await owner.signIn();
  await using peer = await MastodonPeer.start({ name: "late" });
  for (let i = 0; i < 3; i++) await owner.post("general", `before federation ${i}`);
  assert.equal(instance.federationLoaded, false);

  const general = await channelNamed(instance.origin, "general");
  await peer.follow(groupOf(instance.origin, general.id));
  await peer.waitFor((b) => b.type === "Accept", "the Accept");
  await owner.post("general", "after following");
  await peer.waitFor(
    (b) => b.type === "Announce" && b.object?.content?.includes("after following"),
    "the Announce",
  );
  await sleep(300);
  const announced = peer.find((b) => b.type === "Announce").map((d) => String(d.body.object?.content ?? ""));
  assert.deepEqual(announced.filter((c) => c.includes("before federation")), []);
});

Deno.test("an instance with followers in its database loads the layer at start", async () => {
  await using db = await sameDatabase("followed");
  await using peer = await MastodonPeer.start({ name: "early" });
  {
    await using first = await startTestInstance(db.env);
    assert.equal(first.federationLoaded, false);
    const general = await channelNamed(first.origin, "general");
    await peer.follow(groupOf(first.origin, general.id));
    await peer.waitFor((b) => b.type === "Accept", "the Accept");
  }
  await using second = await startTestInstance(db.env);
  assert.equal(second.federationLoaded, true);
});
