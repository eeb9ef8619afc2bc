/**
 * No value a bridge peer sends can stop a channel: every envelope field is
 * checked against what the channel can hold, on the inbox and in Sync
 * answers alike; an envelope's origin is the peer that sent it, or one it
 * provably relays for; and a channel keeps taking posts whatever arrived.
 */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { signMessage } from "../../server/documents/documents.ts";
import { suiteSignerOf } from "../../server/capabilities/signer.ts";
import { delegate, rootCapabilityId } from "../../server/capabilities/zcap.ts";
import { opIdOf } from "../../server/messages/oplog.ts";
import { newClient } from "../helpers/instance.ts";
import { findMessage, hostileBridge, plant, syncOnlyBridge } from "./hostile.ts";
import { reconnect } from "./support.ts";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

Deno.test({
  name:
    "a bridged operation with an out-of-range Lamport time or sequence number is refused; posting goes on",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using s = await hostileBridge();
    const alice = await newClient({ origin: s.a.direct }, false);
    const hereIri = `${s.a.link.origin}/channels/${s.here.id}`;

    await t.step(
      "Lamport 2^53-1 is refused and the channel keeps taking posts, after a restart too",
      async () => {
        const doc = await signMessage(alice.signer!, hereIri, "the end of time");
        const before = await s.opCount();
        const reply = await s.deliver(doc, { origin: s.a.link.origin, seq: 1, lamport: MAX_SAFE });
        assert.equal(reply.status, 422, JSON.stringify(reply.body));
        assert.equal(reply.body.error, "envelope_out_of_range");
        assert.equal(await s.opCount(), before, "nothing was stored");
        await s.bob.post("x", "still posting");
        await s.b.stop();
        await s.b.start();
        const bob = await reconnect(s.bob, s.b);
        await bob.post("x", "still posting after a restart");
      },
    );

    await t.step("a Lamport time far beyond the channel's clock is refused", async () => {
      const doc = await signMessage(alice.signer!, hereIri, "a leap forward");
      const reply = await s.deliver(doc, { origin: s.a.link.origin, seq: 1, lamport: 2 ** 40 });
      assert.equal(reply.status, 422, JSON.stringify(reply.body));
      assert.equal(reply.body.error, "envelope_out_of_range");
    });

    await t.step("a sequence number far beyond the origin's is refused", async () => {
      const doc = await signMessage(alice.signer!, hereIri, "numbered far away");
      for (const seq of [MAX_SAFE, 2 ** 40]) {
        const reply = await s.deliver(doc, { origin: s.a.link.origin, seq, lamport: 1 });
        assert.equal(reply.status, 422, JSON.stringify(reply.body));
        assert.equal(reply.body.error, "envelope_out_of_range");
      }
    });

    await t.step("a signed time far in the future or text over the channel's limit is refused", async () => {
      const future = await signMessage(
        alice.signer!,
        hereIri,
        "from the future",
        undefined,
        "2999-01-01T00:00:00Z",
      );
      const late = await s.deliver(future, s.next());
      assert.equal(late.status, 422, JSON.stringify(late.body));
      assert.equal(late.body.error, "clock_skew");
      const long = await signMessage(alice.signer!, hereIri, "x".repeat(4001));
      const big = await s.deliver(long, s.next());
      assert.equal(big.status, 422, JSON.stringify(big.body));
      assert.equal(big.body.error, "message_too_long");
    });

    await t.step("a well-formed operation still goes through", async () => {
      const doc = await signMessage(alice.signer!, hereIri, "an ordinary message");
      const reply = await s.deliver(doc, s.next());
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      assert.ok(await findMessage(s.bob, "x", "an ordinary message"));
    });
  },
});

Deno.test({
  name:
    "a channel whose log already holds an out-of-range Lamport time or sequence number keeps taking posts",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using s = await hostileBridge();
    const alice = await newClient({ origin: s.a.direct }, false);
    // What an instance that took such an operation before it was refused holds.
    const doc = await signMessage(alice.signer!, `${s.a.link.origin}/channels/${s.here.id}`, "poison");
    await plant(s.b, s.x.iri, {
      id: await opIdOf(doc),
      envelope: { origin: s.b.link.origin, seq: MAX_SAFE, lamport: MAX_SAFE },
      document: doc,
    });
    await s.b.stop();
    await s.b.start();
    const bob = await reconnect(s.bob, s.b);
    const first = await bob.post("x", "one");
    const second = await bob.post("x", "two");
    assert.ok(Number.isSafeInteger(first.lamport) && Number.isSafeInteger(second.lamport));
    assert.ok(second.lamport > first.lamport, "new posts are still ordered");
  },
});

Deno.test({
  name: "an envelope claiming our own origin, or a third server's channel without proof, is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using s = await hostileBridge();
    const alice = await newClient({ origin: s.a.direct }, false);
    const hereIri = `${s.a.link.origin}/channels/${s.here.id}`;

    await t.step("an operation claiming to be made here is refused (403)", async () => {
      const doc = await signMessage(alice.signer!, hereIri, "made at b, allegedly");
      const before = await s.opCount();
      const reply = await s.deliver(doc, { origin: s.b.link.origin, seq: 1000, lamport: 1 });
      assert.equal(reply.status, 403, JSON.stringify(reply.body));
      assert.equal(reply.body.error, "wrong_origin");
      assert.equal(await s.opCount(), before);
      // Nor may b's own channel be written through the bridge as if b had made it.
      const own = await signMessage(s.bob.signer!, s.x.iri, "b's own channel, from a");
      const mine = await s.deliver(own, { origin: s.b.link.origin, seq: 1001, lamport: 1 });
      assert.equal(mine.status, 403, JSON.stringify(mine.body));
      assert.equal(await s.opCount(), before);
      await s.bob.post("x", "b numbers its own operations as before");
    });

    await t.step(
      "a message signed for a third server's channel, relayed without proof, is refused",
      async () => {
        const third = "http://127.0.0.1:9/channels/zzzzzzzzzz";
        const doc = await signMessage(alice.signer!, third, "relayed from nowhere");
        const before = await s.opCount();
        const reply = await s.deliver(doc, { origin: "http://127.0.0.1:9", seq: 1, lamport: 1 });
        assert.equal(reply.status, 403, JSON.stringify(reply.body));
        assert.equal(reply.body.error, "unproven_relay");
        assert.equal(await s.opCount(), before);
        assert.equal(await findMessage(s.bob, "x", "relayed from nowhere"), undefined);

        // A path of grants signed by a key that is not a's community key proves nothing.
        const forger = await newClient({ origin: s.a.direct }, false);
        const inbox = `${s.a.link.origin}/ap/actors/${s.here.id}/inbox`;
        const forged = await delegate({
          parent: rootCapabilityId(inbox),
          controller: "http://127.0.0.1:9/ap/actors/zzzzzzzzzz",
          invocationTarget: inbox,
          allowedAction: ["post"],
          expires: new Date(Date.now() + 3600_000),
          signer: suiteSignerOf(forger.signer!),
        });
        const proven = await s.deliver(doc, { origin: "http://127.0.0.1:9", seq: 2, lamport: 1 }, {
          relay: [forged],
        });
        assert.equal(proven.status, 403, JSON.stringify(proven.body));
        assert.equal(proven.body.error, "unproven_relay");
        assert.match(proven.body.message, /does not verify/);
        assert.equal(await s.opCount(), before);
      },
    );
  },
});

Deno.test({
  name:
    "a Sync answer's envelopes are checked like the inbox's: out-of-range values and our own origin are refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using s = await syncOnlyBridge();
    await s.synced();
    const hereIri = `${s.a.link.origin}/channels/${s.here.id}`;
    const poison = await s.alice.signedMessage(hereIri, "poison through sync");
    await plant(s.a, hereIri, {
      id: await opIdOf(poison),
      envelope: { origin: s.a.link.origin, seq: await s.nextSeq(), lamport: MAX_SAFE },
      document: poison,
    });
    // A member's message signed for b's members-only channel, sent back to b as if b had made it.
    const leaked = await s.bob.signedMessage(s.secret.iri, "members only");
    await plant(s.a, hereIri, {
      id: await opIdOf(leaked),
      envelope: { origin: s.b.link.origin, seq: 5000, lamport: 3 },
      document: leaked,
    });
    // A message signed for a channel of a third server.
    const third = await s.alice.signedMessage("http://127.0.0.1:9/channels/zzzzzzzzzz", "third server");
    await plant(s.a, hereIri, {
      id: await opIdOf(third),
      envelope: { origin: s.a.link.origin, seq: (await s.nextSeq()) + 1, lamport: 4 },
      document: third,
    });
    await s.synced();
    const hb = s.b.instance.harmony;
    const [row] = await hb.db.all<{ top: number }>(sql`SELECT max(lamport) AS top FROM op_log`);
    assert.ok(Number(row.top) < 2 ** 32, `b's clock stayed in range (${row.top})`);
    for (const text of ["poison through sync", "members only", "third server"]) {
      assert.equal(await findMessage(s.bob, "x", text), undefined, `"${text}" is not in the bridged channel`);
    }
    const posted = await s.bob.post("x", "b still posts");
    assert.ok(Number.isSafeInteger(posted.lamport));
    const refusals = await s.ownerB.request<Array<{ peer: string; reason: string }>>(
      "GET",
      "/bridges/refusals",
    );
    assert.ok(refusals.length >= 3, JSON.stringify(refusals));
    assert.ok(refusals.every((r) => r.peer === `${s.a.link.origin}/ap/actors/${s.here.id}`));
  },
});
