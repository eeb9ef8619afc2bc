/** The community's did:key: made once, kept in actor_keys, and able to delegate root capabilities. */
import assert from "node:assert/strict";
import { and, eq } from "drizzle-orm";
import { actorKeys } from "../../db/schema.ts";
import { openDatabase } from "../../db/client.ts";
import { loadConfig } from "../../server/config.ts";
import { Harmony } from "../../server/harmony.ts";
import { sign, verify } from "../../server/crypto/dataIntegrity.ts";
import { isDidKey } from "../../server/crypto/didkey.ts";
import { communityKey } from "../../server/capabilities/communityKey.ts";
import { delegate, rootCapabilityId } from "../../server/capabilities/zcap.ts";
import { A_CHANNEL, invokeAs, T, verifyInvocation, world } from "./fixtures.ts";

async function withHarmony<T>(dir: string, fn: (h: Harmony) => Promise<T>): Promise<T> {
  const url = `file:${dir}/harmony.db`;
  const database = await openDatabase(url);
  try {
    return await fn(new Harmony(loadConfig({ PORT: "0", DATABASE_URL: url }), database));
  } finally {
    database.close();
  }
}

Deno.test("the community key is generated once, stored in actor_keys, and the same after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-capabilities-" });
  try {
    const first = await withHarmony(dir, async (h) => {
      const [a, b] = await Promise.all([communityKey(h), communityKey(h)]);
      assert.equal(a, b);
      const rows = await h.db.select().from(actorKeys).where(
        and(eq(actorKeys.actor, "community"), eq(actorKeys.algorithm, "Ed25519")),
      );
      assert.equal(rows.length, 1);
      const jwk = JSON.parse(rows[0].privateJwk);
      assert.equal(jwk.kty, "OKP");
      assert.equal(jwk.crv, "Ed25519");
      assert.equal(typeof jwk.d, "string");
      assert.equal(JSON.parse(rows[0].publicJwk).d, undefined);
      return a;
    });
    assert.ok(isDidKey(first.did));
    assert.equal(first.verificationMethod, `${first.did}#${first.publicKeyMultibase}`);
    assert.equal(first.signer.id, first.verificationMethod);
    const second = await withHarmony(dir, (h) => communityKey(h));
    assert.equal(second.did, first.did);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two first uses racing (two instances over one database) end with the one stored key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-capabilities-" });
  const url = `file:${dir}/harmony.db`;
  const database = await openDatabase(url);
  try {
    const config = loadConfig({ PORT: "0", DATABASE_URL: url });
    const [a, b] = await Promise.all([
      communityKey(new Harmony(config, database)),
      communityKey(new Harmony(config, database)),
    ]);
    assert.equal(a.did, b.did);
    assert.equal((await database.db.select().from(actorKeys)).length, 1);
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the community key delegates root capabilities and signs our own proofs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-capabilities-" });
  try {
    await withHarmony(dir, async (h) => {
      const key = await communityKey(h);
      const w = await world();
      const zcap = await delegate({
        parent: rootCapabilityId(T),
        controller: A_CHANNEL,
        invocationTarget: T,
        allowedAction: ["post"],
        expires: new Date("2030-01-01T01:00:00Z"),
        signer: key.signer,
        now: new Date("2030-01-01T00:00:00Z"),
      });
      const invocation = await invokeAs(w.channel, zcap);
      const ours = await verifyInvocation(invocation, w.options({ rootControllerOf: () => key.did }));
      assert.equal(ours.verified, true, JSON.stringify(ours));
      const other = await verifyInvocation(invocation, w.options()); // another community's root
      assert.equal(other.verified, false);

      const signed = await sign({ "@context": "https://w3id.org/harmony/v1", type: "Note" }, key.keySigner, {
        proofPurpose: "assertionMethod",
      });
      const checked = await verify(signed);
      assert.equal(checked.verified && checked.signer, key.did);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
