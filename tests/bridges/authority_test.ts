/**
 * An operation that arrives through a bridge, or in a Sync answer, needs
 * the same authority as one made here: edits and deletions by the author,
 * moderation (deleting someone else's message, pins) only by a DID whose
 * capability chain, carried with the operation, verifies up to the root
 * of the community the operation was made in. Anything else is refused,
 * changes nothing, and is recorded with the peer and the reason.
 */
import assert from "node:assert/strict";
import type { HarmonyClient, MessageJson } from "../../cli/client.ts";
import { suiteSignerOf } from "../../server/capabilities/signer.ts";
import { delegate, rootCapabilityId } from "../../server/capabilities/zcap.ts";
import { signDelete, signMessage, signPin, signReact, signUpdate } from "../../server/documents/documents.ts";
import { opIdOf } from "../../server/messages/oplog.ts";
import { newClient } from "../helpers/instance.ts";
import { cookieSession, http } from "../http/support.ts";
import { findMessage, hostileBridge, plant, syncOnlyBridge } from "./hostile.ts";
import { eventually } from "./support.ts";

interface Refusal {
  peer: string;
  channel: string;
  kind: string;
  code: string;
  reason: string;
}

const refusals = (owner: HarmonyClient) => owner.request<Refusal[]>("GET", "/bridges/refusals");

/** The capability that lets `client` do `action` in its community (the owner holds one for everything). */
async function capabilityFor(client: HarmonyClient, action: string): Promise<unknown> {
  const held = (await client.capabilities()).held.find((c) => c.actions.includes(action) && !c.revoked);
  assert.ok(held, `${client.did} holds ${action}`);
  return held.capability;
}

Deno.test({
  name:
    "a bridged deletion, edit or pin needs the author or a moderator's capability chain from its community",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using s = await hostileBridge();
    const stranger = await newClient({ origin: s.a.direct }, false);
    const hereIri = `${s.a.link.origin}/channels/${s.here.id}`;
    const message = await s.bob.post("x", "bob's message");
    const other = await s.bob.post("y", "a message of another channel");
    const peer = `${s.a.link.origin}/ap/actors/${s.here.id}`;

    async function refused(doc: unknown, status: number, code: string, extra: Record<string, unknown> = {}) {
      const before = await s.opCount();
      const reply = await s.deliver(doc, s.next(), extra);
      assert.equal(reply.status, status, JSON.stringify(reply.body));
      assert.equal(reply.body.error, code, JSON.stringify(reply.body));
      assert.equal(await s.opCount(), before, "nothing was logged");
      const last = (await refusals(s.ownerB))[0];
      assert.equal(last.peer, peer, "the refusal names the peer");
      assert.equal(last.code, code);
      assert.equal(last.channel, s.x.iri);
    }
    const live = async () => (await s.bob.message(message.id)).deleted === false;

    await t.step("a stranger's Delete of someone else's message is refused and logged", async () => {
      await refused(await signDelete(stranger.signer!, hereIri, message.id), 403, "not_authorized");
      assert.ok(await live(), "the message is still there");
      assert.equal((await s.bob.message(message.id)).content, "bob's message");
    });

    await t.step("the refusal is shown to the admins on the settings page", async () => {
      const session = await cookieSession(s.ownerB);
      const page = await http(s.b.direct, "GET", "/settings", { headers: { cookie: session.cookie } });
      assert.match(page.text, /Refused operations/);
      assert.ok(
        page.text.includes(`Delete from <code>${peer}</code> in #x`),
        "names the operation, peer and channel",
      );
      assert.match(page.text, /not_authorized · delivered/);
    });

    await t.step("a stranger's edit of someone else's message is refused", async () => {
      await refused(await signUpdate(stranger.signer!, hereIri, message.id, "rewritten"), 403, "not_author");
      assert.equal((await s.bob.message(message.id)).content, "bob's message");
    });

    await t.step("a stranger's Pin is refused", async () => {
      await refused(await signPin(stranger.signer!, hereIri, message.id, true), 403, "not_authorized");
      assert.deepEqual(await s.bob.pins("x"), []);
    });

    await t.step("a capability chain from a made-up community root does not count", async () => {
      const forged = await delegate({
        parent: rootCapabilityId(`${s.a.link.origin}/community`),
        controller: stranger.did,
        invocationTarget: `${s.a.link.origin}/community`,
        allowedAction: ["delete-any", "pin"],
        expires: new Date(Date.now() + 3600_000),
        signer: suiteSignerOf(stranger.signer!),
      });
      await refused(await signDelete(stranger.signer!, hereIri, message.id), 403, "not_authorized", {
        authority: forged,
      });
      assert.ok(await live());
    });

    await t.step("the peer owner's real capability does not lend itself to another signer", async () => {
      await refused(await signDelete(stranger.signer!, hereIri, message.id), 403, "not_authorized", {
        authority: await capabilityFor(s.ownerA, "delete-any"),
      });
      assert.ok(await live());
    });

    await t.step("a reaction naming a message of another channel is refused", async () => {
      await refused(await signReact(stranger.signer!, hereIri, other.id, "👍"), 404, "not_found");
      assert.deepEqual(await s.bob.reactions(other), []);
    });

    await t.step("a stranger's Delete that arrives before its message never deletes it", async () => {
      const alice = await newClient({ origin: s.a.direct }, false);
      const post = await signMessage(alice.signer!, hereIri, "arrives after its deletion");
      const early = await s.deliver(await signDelete(stranger.signer!, hereIri, post.id), s.next());
      assert.equal(early.status, 202, JSON.stringify(early.body));
      const reply = await s.deliver(post, s.next());
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      const arrived = await findMessage(s.bob, "x", "arrives after its deletion");
      assert.ok(arrived, "the message is shown");
    });

    await t.step(
      "the peer's owner, with the capability chain of the peer community, may pin and delete",
      async () => {
        const pin = await signPin(s.ownerA.signer!, hereIri, message.id, true);
        const pinned = await s.deliver(pin, s.next(), { authority: await capabilityFor(s.ownerA, "pin") });
        assert.equal(pinned.status, 202, JSON.stringify(pinned.body));
        assert.deepEqual((await s.bob.pins("x")).map((p) => p.message.id), [message.id]);
        const deletion = await signDelete(s.ownerA.signer!, hereIri, message.id);
        const reply = await s.deliver(deletion, s.next(), {
          authority: await capabilityFor(s.ownerA, "delete-any"),
        });
        assert.equal(reply.status, 202, JSON.stringify(reply.body));
        assert.equal((await s.bob.message(message.id).catch(() => ({ deleted: true }))).deleted, true);
      },
    );
  },
});

Deno.test({
  name: "a Sync answer cannot delete, pin or take an operation's place without signatures and authority",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using s = await syncOnlyBridge();
    const stranger = await newClient({ origin: s.a.direct }, false);
    const hereIri = `${s.a.link.origin}/channels/${s.here.id}`;
    const bobs = await s.bob.post("x", "bob's message, pulled by a");
    await eventually(
      "a to have bob's message",
      () => findMessage(s.alice, "here", "bob's message, pulled by a"),
    );
    await s.synced();

    await t.step("an unsigned 'redacted' Delete never deletes the message it names", async () => {
      const later = await s.alice.signedMessage(hereIri, "signed properly, arrives later");
      await plant(s.a, hereIri, {
        id: "urn:harmony:op:" + "1".repeat(40),
        envelope: { origin: s.a.link.origin, seq: await s.nextSeq(), lamport: 2 },
        document: {
          "@context": "https://w3id.org/harmony/v1",
          type: "Delete",
          redacted: true,
          opId: "urn:harmony:op:" + "1".repeat(40),
          target: later.id,
          channel: hereIri,
          actor: stranger.did,
          published: new Date().toISOString(),
        },
      });
      await s.synced();
      await s.alice.request("POST", `/channels/${s.here.id}/messages`, { message: later });
      await eventually(
        "b to show the message",
        () => findMessage(s.bob, "x", "signed properly, arrives later"),
      );
      await s.synced();
      assert.ok(await findMessage(s.bob, "x", "signed properly, arrives later"), "still shown");
    });

    await t.step("a placeholder cannot take a genuine operation's id first", async () => {
      const genuine = await s.alice.signedMessage(hereIri, "the genuine operation");
      const stolen = await opIdOf(genuine);
      await plant(s.a, hereIri, {
        id: `urn:harmony:op:${"2".repeat(40)}`,
        envelope: { origin: s.a.link.origin, seq: await s.nextSeq(), lamport: 2 },
        document: {
          "@context": "https://w3id.org/harmony/v1",
          type: "Message",
          redacted: true,
          opId: stolen,
          target: "urn:uuid:00000000-0000-7000-8000-00000000beef",
          channel: hereIri,
          actor: stranger.did,
          published: new Date().toISOString(),
        },
      });
      await s.synced();
      await s.alice.request("POST", `/channels/${s.here.id}/messages`, { message: genuine });
      await eventually(
        "b to show the genuine message",
        () => findMessage(s.bob, "x", "the genuine operation"),
      );
    });

    await t.step("a stranger's signed Delete or Pin in a Sync answer changes nothing", async () => {
      for (
        const doc of [
          await signDelete(stranger.signer!, hereIri, bobs.id),
          await signPin(stranger.signer!, hereIri, bobs.id, true),
        ]
      ) {
        await plant(s.a, hereIri, {
          id: await opIdOf(doc),
          envelope: { origin: s.a.link.origin, seq: await s.nextSeq(), lamport: 5 },
          document: doc,
        });
      }
      await s.synced();
      assert.equal((await s.bob.message(bobs.id)).deleted, false);
      assert.deepEqual(await s.bob.pins("x"), []);
      const logged = await refusals(s.ownerB);
      assert.ok(
        logged.some((r) => r.kind === "Delete" && r.code === "not_authorized"),
        JSON.stringify(logged),
      );
      assert.ok(logged.some((r) => r.kind === "Pin" && r.code === "not_authorized"));
    });

    await t.step("a moderation made on the peer reaches us by Sync with its capability chain", async () => {
      const onA = (await findMessage(s.alice, "here", "bob's message, pulled by a")) as MessageJson;
      await s.ownerA.pin(onA);
      await eventually("b to show the pin", async () => (await s.bob.pins("x")).length === 1);
      await s.ownerA.delete(onA);
      await eventually("b to delete bob's message", async () => (await s.bob.message(bobs.id)).deleted);
    });
  },
});
