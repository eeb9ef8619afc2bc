/**
 * A bridged inbox accepts a write only with a valid, unrevoked capability
 * for exactly that channel, invoked freshly by its holder for an allowed
 * action, carrying an operation its author really signed. Every refusal
 * leaves nothing behind.
 */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { operationActivity, syncActivity } from "../../federation/bridge/activity.ts";
import { sign } from "../../server/crypto/dataIntegrity.ts";
import { channelSigner } from "../../federation/bridge/signing.ts";
import { type Capability, recordGrant } from "../../server/replication/bridges.ts";
import { communityKey } from "../../server/capabilities/communityKey.ts";
import { delegate, invoke, rootCapabilityId } from "../../server/capabilities/zcap.ts";
import { findChannel } from "../../server/channels/channels.ts";
import { signMessage, signUpdate } from "../../server/documents/documents.ts";
import { opIdOf } from "../../server/messages/oplog.ts";
import { newClient } from "../helpers/instance.ts";
import { claimNode, startNode } from "./support.ts";

Deno.test({
  name: "a bridged inbox refuses every invocation it must not accept, with no side effect",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using a = await startNode("a");
    await using b = await startNode("b");
    const ownerA = await claimNode(a);
    const ownerB = await claimNode(b);
    const here = await ownerA.createChannel("here", { visibility: "public" });
    const x = await ownerB.createChannel("x", { visibility: "public" });
    const y = await ownerB.createChannel("y", { visibility: "public" });
    const alice = await newClient({ origin: a.direct });
    const mallory = await newClient({ origin: a.direct }, false);
    const actor = `${a.link.origin}/ap/actors/${here.id}`;
    const signer = await channelSigner(a.instance.harmony, here.id);
    const inboxOf = (id: string) => `${b.link.origin}/ap/actors/${id}/inbox`;
    const grant = await ownerB.offerBridge(x.id, actor);
    const hb = b.instance.harmony;
    const opCount = async () =>
      Number((await hb.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM op_log`))[0].n);

    let seq = 0;
    /** A signed operation for channel x, as a would deliver it. */
    const operation = async (content = "hello over the bridge") => {
      const doc = await signMessage(alice.signer!, `${a.link.origin}/channels/${here.id}`, content);
      return operationActivity(await opIdOf(doc), actor, `${b.link.origin}/ap/actors/${x.id}`, doc, {
        origin: a.link.origin,
        seq: ++seq,
        lamport: seq,
      });
    };
    const send = async (activity: unknown, channelId = x.id) => {
      const response = await fetch(`${b.direct}/ap/actors/${channelId}/inbox`, {
        method: "POST",
        headers: { "content-type": "application/activity+json" },
        body: JSON.stringify(activity),
      });
      return { status: response.status, body: await response.json() };
    };
    async function refused(activity: unknown, status: number, reason: RegExp, channelId = x.id) {
      const before = await opCount();
      const reply = await send(activity, channelId);
      assert.equal(reply.status, status, JSON.stringify(reply.body));
      assert.match(reply.body.message, reason);
      assert.equal(await opCount(), before, "nothing was stored");
    }

    let accepted: unknown;
    await t.step("a valid invocation for the channel's own inbox is accepted", async () => {
      const activity = await invoke(await operation(), {
        capability: grant.capability as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      const before = await opCount();
      const reply = await send(activity);
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      assert.equal(await opCount(), before + 1);
      accepted = activity;
    });

    await t.step("replaying an accepted invocation is refused (401)", async () => {
      await refused(accepted, 401, /already used/);
    });

    await t.step("a capability for channel x invoked on channel y is refused (403)", async () => {
      const activity = await invoke(await operation(), {
        capability: grant.capability as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      await refused(activity, 403, /another channel|target/, y.id);
      // Claiming y's inbox as the target does not help: the capability is for x.
      const claimed = await invoke(await operation(), {
        capability: grant.capability as never,
        action: "post",
        invocationTarget: inboxOf(y.id),
        signer,
      }).catch((error) => error);
      if (!(claimed instanceof Error)) await refused(claimed, 403, /another channel|target/, y.id);
    });

    await t.step("an action the capability does not allow is refused (403)", async () => {
      const postOnly = await ownerB.offerBridge(x.id, actor, { actions: ["post"] });
      const doc = await signUpdate(
        alice.signer!,
        `${a.link.origin}/channels/${here.id}`,
        "urn:uuid:00000000-0000-7000-8000-000000000000",
        "edit",
      );
      const activity = operationActivity(
        await opIdOf(doc),
        actor,
        `${b.link.origin}/ap/actors/${x.id}`,
        doc,
        {
          origin: a.link.origin,
          seq: ++seq,
          lamport: seq,
        },
      );
      // The client library will not even sign an invocation for an action the capability lacks...
      await assert.rejects(() =>
        invoke(activity, {
          capability: postOnly.capability as never,
          action: "edit",
          invocationTarget: inboxOf(x.id),
          signer,
        })
      );
      // ...and an Update sent under a "post" invocation does not pass for an edit.
      const invoked = await invoke(activity, {
        capability: postOnly.capability as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      await refused(invoked, 403, /action/);
    });

    await t.step(
      "an activity type a bridge does not carry is refused (422), names of Object's methods too",
      async () => {
        for (const type of ["Follow", "toString", "constructor", "__proto__"]) {
          const activity = { ...(await operation()), type };
          const invoked = await invoke(activity, {
            capability: grant.capability as never,
            action: "post",
            invocationTarget: inboxOf(x.id),
            signer,
          });
          await refused(invoked, 422, /does not carry/);
        }
      },
    );

    await t.step("an expired capability is refused (403)", async () => {
      const key = await communityKey(hb);
      const long = new Date(Date.now() - 2 * 3600_000);
      const expired = await delegate({
        parent: rootCapabilityId(inboxOf(x.id)),
        controller: actor,
        invocationTarget: inboxOf(x.id),
        allowedAction: ["post"],
        expires: new Date(Date.now() - 3600_000),
        signer: key.signer,
        now: long,
      }) as unknown as Capability;
      await recordGrant(hb, await findChannel(hb, x.id), actor, expired, ownerB.did, long);
      const invoked = await invoke(await operation(), {
        capability: expired as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      await refused(invoked, 403, /expired/);
    });

    await t.step("a revoked capability is refused on the next delivery (403)", async () => {
      const revocable = await ownerB.offerBridge(x.id, actor);
      const first = await invoke(await operation(), {
        capability: revocable.capability as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      assert.equal((await send(first)).status, 202);
      await ownerB.revokeBridge(revocable.id);
      const next = await invoke(await operation(), {
        capability: revocable.capability as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      await refused(next, 403, /revoked/);
    });

    await t.step("a chain with a forged link is refused (401)", async () => {
      const forged = structuredClone(grant.capability) as Record<string, unknown>;
      forged.allowedAction = ["post", "edit", "delete", "react", "sync", "admin"];
      const invoked = await invoke(await operation(), {
        capability: forged as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      await refused(invoked, 401, /signature/);
    });

    await t.step(
      "an invocation signed by someone other than the capability's holder is refused (401)",
      async () => {
        const intruder = await channelSigner(a.instance.harmony, (await ownerA.createChannel("other")).id);
        const invoked = await invoke(await operation(), {
          capability: grant.capability as never,
          action: "post",
          invocationTarget: inboxOf(x.id),
          signer: intruder,
        });
        await refused(invoked, 401, /controller|verification method/);
      },
    );

    await t.step(
      "an operation whose signature does not match its claimed author is refused (401)",
      async () => {
        const activity = await operation("forged authorship");
        const doc = activity.object as Record<string, unknown>;
        // Mallory signs, but the document claims Alice wrote it.
        const forgedDoc = await signMessage(mallory.signer!, String(doc.channel), "forged authorship");
        activity.object = { ...forgedDoc, attributedTo: alice.did };
        const invoked = await invoke(activity, {
          capability: grant.capability as never,
          action: "post",
          invocationTarget: inboxOf(x.id),
          signer,
        });
        await refused(invoked, 401, /author signature/);
      },
    );

    await t.step(
      "a validly signed operation naming another author is refused (401)",
      async () => {
        const activity = await operation("signed by mallory, naming alice");
        const doc = activity.object as Record<string, unknown>;
        // Mallory signs a document that names Alice as its author: the signature is valid.
        const { proof: _, ...unsigned } = doc;
        activity.object = await sign({ ...unsigned, attributedTo: alice.did }, mallory.signer!, {
          proofPurpose: "assertionMethod",
          created: String(doc.published),
        });
        const invoked = await invoke(activity, {
          capability: grant.capability as never,
          action: "post",
          invocationTarget: inboxOf(x.id),
          signer,
        });
        await refused(invoked, 401, /author signature.*signed by another key/);
      },
    );

    await t.step("an operation signed for a channel that is not bridged here is refused (403)", async () => {
      // Alice's message for another channel of a, delivered by the bridged one.
      const elsewhere = await ownerA.createChannel("elsewhere", { visibility: "public" });
      const doc = await signMessage(
        alice.signer!,
        `${a.link.origin}/channels/${elsewhere.id}`,
        "not bridged",
      );
      const activity = operationActivity(
        await opIdOf(doc),
        actor,
        `${b.link.origin}/ap/actors/${x.id}`,
        doc,
        {
          origin: a.link.origin,
          seq: ++seq,
          lamport: seq,
        },
      );
      const invoked = await invoke(activity, {
        capability: grant.capability as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      await refused(invoked, 403, /not bridged here/);
    });

    await t.step("an activity whose actor is not the invoker is refused (401)", async () => {
      const activity = await operation("sent in another actor's name");
      activity.actor = `${a.link.origin}/ap/actors/${(await ownerA.createChannel("posing")).id}`;
      const invoked = await invoke(activity, {
        capability: grant.capability as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      await refused(invoked, 401, /actor is not the one who invoked/);
    });

    await t.step("a Sync is answered once: replaying it is refused (401)", async () => {
      const request = await invoke(syncActivity(actor, `${b.link.origin}/ap/actors/${x.id}`, {}, null), {
        capability: grant.capability as never,
        action: "sync",
        invocationTarget: inboxOf(x.id),
        signer,
      });
      const first = await send(request);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.ok(first.body.ops.length > 0, "the channel's log is answered");
      const again = await send(request);
      assert.equal(again.status, 401, JSON.stringify(again.body));
      assert.match(again.body.message, /already used/);
      assert.equal(again.body.ops, undefined, "and not the log again");
    });

    await t.step("an invocation that is not fresh is refused (401)", async () => {
      const invoked = await invoke(await operation(), {
        capability: grant.capability as never,
        action: "post",
        invocationTarget: inboxOf(x.id),
        signer,
        created: new Date(Date.now() - 3600_000),
      });
      await refused(invoked, 401, /fresh/);
    });
  },
});
