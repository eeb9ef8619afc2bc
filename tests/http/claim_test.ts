import assert from "node:assert/strict";
import { HarmonyClient } from "../../cli/client.ts";
import { ConfigError, loadConfig } from "../../server/config.ts";
import { startInstance } from "../../server/instance.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { assertRefused, freePort, http, quickClient, randomSigner } from "./support.ts";

const tokenOf = (url: string) => url.split("/claim/")[1];

Deno.test("claim: the claim link makes its first user the owner, once", async (t) => {
  await using instance = await startTestInstance();
  const origin = instance.origin;
  assert.ok(instance.claimUrl, "an unclaimed instance prints a claim link");
  assert.ok(instance.claimUrl.startsWith(`${origin}/claim/`));
  const token = tokenOf(instance.claimUrl);
  const first = await quickClient(origin);
  const second = await quickClient(origin);

  await t.step("the claim page is offered while the instance is unclaimed", async () => {
    const page = await http(origin, "GET", `/claim/${token}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /claim/i);
    assert.equal((await http(origin, "GET", "/api/community")).json.owner, null);
  });

  await t.step("claiming needs a signed-in user", async () => {
    assertRefused(await http(origin, "POST", "/api/claim", { body: { token } }), 401);
  });

  await t.step("a wrong token is refused and does not claim", async () => {
    assertRefused(
      await http(origin, "POST", "/api/claim", { body: { token: `${token}x` }, token: second.token! }),
      400,
      "invalid_claim",
    );
    assert.equal((await http(origin, "GET", "/api/community")).json.owner, null);
  });

  await t.step("the claim link works once and makes that DID the owner", async () => {
    const reply = await http(origin, "POST", "/api/claim", { body: { token }, token: first.token! });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.owner, first.did);
    const members = (await http(origin, "GET", "/api/members", { token: first.token! })).json as Array<
      { did: string; role: string }
    >;
    assert.deepEqual(members.map((m) => [m.did, m.role]), [[first.did, "owner"]]);
  });

  await t.step("a second claim with the same link is refused with 409", async () => {
    assertRefused(
      await http(origin, "POST", "/api/claim", { body: { token }, token: second.token! }),
      409,
      "already_claimed",
    );
    assertRefused(
      await http(origin, "POST", "/api/claim", { body: { token }, token: first.token! }),
      409,
      "already_claimed",
    );
    assert.equal((await http(origin, "GET", "/api/community")).json.owner, first.did);
    const page = await http(origin, "GET", `/claim/${token}`);
    assert.match(page.text, /not valid/, "the used link's page says so");
    assert.doesNotMatch(page.text, /hx-post="\/ui\/claim"/);
  });
});

Deno.test("claim: an instance started with HARMONY_OWNER has no claim link and that DID owns it", async () => {
  const owner = await randomSigner();
  await using instance = await startTestInstance({ HARMONY_OWNER: owner.did });
  assert.equal(instance.claimUrl, null);
  const community = (await http(instance.origin, "GET", "/api/community")).json;
  assert.equal(community.owner, owner.did);
  // The configured owner signs in with that key and is a member already.
  const ownerClient = new HarmonyClient(instance.origin, owner);
  const session = await ownerClient.signIn();
  assert.equal((session.member as { role: string } | null)?.role, "owner");
  const members = (await http(instance.origin, "GET", "/api/members", { token: ownerClient.token! }))
    .json as Array<
      { did: string; role: string }
    >;
  assert.deepEqual(members.map((m) => [m.did, m.role]), [[owner.did, "owner"]]);
  const someone = await quickClient(instance.origin);
  assertRefused(
    await http(instance.origin, "POST", "/api/claim", { body: { token: "anything" }, token: someone.token! }),
    409,
    "already_claimed",
  );
  const page = await http(instance.origin, "GET", "/claim/anything");
  assert.doesNotMatch(page.text, /<form[^>]*claim/i, "no claim form on a claimed instance");
});

Deno.test("claim: restarting an unclaimed instance issues a new token and the old one stops working", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-claim-" });
  // A restart keeps its origin (every IRI starts with it), so the port is fixed.
  const port = freePort();
  const env = {
    PORT: String(port),
    HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${dir}/harmony.db`,
  };
  const start = () => startInstance(loadConfig(env), { log: () => {} });
  try {
    const first = await start();
    const oldToken = tokenOf(first.claimUrl!);
    const generalId = (await http(first.origin, "GET", "/api/channels")).json[0].id;
    await first.close();

    const second = await start();
    try {
      assert.ok(second.claimUrl);
      const newToken = tokenOf(second.claimUrl);
      assert.notEqual(newToken, oldToken);
      // The same community, not a second one.
      assert.deepEqual(
        (await http(second.origin, "GET", "/api/channels")).json.map((c: { id: string }) => c.id),
        [generalId],
      );
      const client = await quickClient(second.origin);
      assertRefused(
        await http(second.origin, "POST", "/api/claim", { body: { token: oldToken }, token: client.token! }),
        400,
        "invalid_claim",
      );
      const ok = await http(second.origin, "POST", "/api/claim", {
        body: { token: newToken },
        token: client.token!,
      });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.owner, client.did);
    } finally {
      await second.close();
    }

    // Once claimed, a restart prints no claim link at all.
    const third = await start();
    try {
      assert.equal(third.claimUrl, null);
    } finally {
      await third.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("refuses to start a database under another origin than the one it was created for", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-origin-" });
  const port = freePort();
  const env = {
    PORT: String(port),
    HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${dir}/harmony.db`,
  };
  try {
    const first = await startInstance(loadConfig(env), { log: () => {} });
    await first.close();
    await assert.rejects(
      () =>
        startInstance(loadConfig({ ...env, HARMONY_ORIGIN: "https://elsewhere.example" }), { log: () => {} }),
      (error: Error) =>
        error instanceof ConfigError && error.message.includes(`belongs to http://127.0.0.1:${port}`),
    );
    // Nothing was created for the other origin: the original still starts.
    const again = await startInstance(loadConfig(env), { log: () => {} });
    assert.equal(
      (await http(again.origin, "GET", "/api/community")).json.iri,
      `http://127.0.0.1:${port}/community`,
    );
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
