/**
 * A hostile bridge peer against a real victim instance, both over loopback
 * HTTP. The peer (`a`) is a real instance whose channel actor really holds
 * a capability for the victim's (`b`) channel `x`; the tests use its key to
 * sign invocations carrying whatever they want to throw at the inbox, and
 * write into its own operation log what its Sync answers should carry.
 */
import { sql } from "drizzle-orm";
import type { HarmonyClient, MessageJson } from "../../cli/client.ts";
import { operationActivity } from "../../federation/bridge/activity.ts";
import { channelSigner } from "../../federation/bridge/signing.ts";
import { invoke } from "../../server/capabilities/zcap.ts";
import type { Envelope, OpDocument } from "../../server/messages/oplog.ts";
import { opIdOf } from "../../server/messages/oplog.ts";
import { claimNode, eventually, joinNode, type Node, startNode } from "./support.ts";

export interface HostileBridge {
  a: Node;
  b: Node;
  ownerA: HarmonyClient;
  ownerB: HarmonyClient;
  /** a's channel, whose actor holds b's capability for `x`. */
  here: { id: string; iri: string };
  /** b's bridged channel, another public one, and a members-only one. */
  x: { id: string; iri: string };
  y: { id: string; iri: string };
  secret: { id: string; iri: string };
  /** A member of b. */
  bob: HarmonyClient;
  /** The capability b granted to a's channel actor for x. */
  grant: { id: string; capability: unknown };
  /** Sends an operation to b's inbox for `channel` (default x), invoked by a's channel actor. */
  deliver(
    doc: unknown,
    envelope: Envelope,
    extra?: Record<string, unknown>,
    channel?: string,
  ): Promise<{ status: number; body: Record<string, string> }>;
  /** The next sequence number and Lamport time a well-behaved a would use. */
  next(): Envelope;
  /** Rows of b's operation log. */
  opCount(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function hostileBridge(): Promise<HostileBridge> {
  const a = await startNode("a");
  const b = await startNode("b");
  const ownerA = await claimNode(a);
  const ownerB = await claimNode(b);
  const here = await ownerA.createChannel("here", { visibility: "public" });
  const x = await ownerB.createChannel("x", { visibility: "public" });
  const y = await ownerB.createChannel("y", { visibility: "public" });
  const secret = await ownerB.createChannel("secret", { visibility: "members" });
  const bob = await joinNode(b, ownerB);
  const actor = `${a.link.origin}/ap/actors/${here.id}`;
  const grant = await ownerB.offerBridge(x.id, actor);
  const signer = await channelSigner(a.instance.harmony, here.id);
  let seq = 0;
  const hb = () => b.instance.harmony;
  return {
    a,
    b,
    ownerA,
    ownerB,
    here,
    x,
    y,
    secret,
    bob,
    grant,
    next: () => ({ origin: a.link.origin, seq: ++seq, lamport: seq }),
    async deliver(doc, envelope, extra = {}, channel = x.id) {
      const activity = {
        ...operationActivity(
          await opIdOf(doc as OpDocument),
          actor,
          `${b.link.origin}/ap/actors/${channel}`,
          doc as OpDocument,
          envelope,
        ),
        ...extra,
      };
      const action = { Create: "post", Update: "edit", Delete: "delete", Pin: "pin", Unpin: "pin" }[
        activity.type
      ] ?? "react";
      const invoked = await invoke(activity, {
        capability: grant.capability as never,
        action,
        invocationTarget: `${b.link.origin}/ap/actors/${x.id}/inbox`,
        signer,
      });
      const response = await fetch(`${b.direct}/ap/actors/${channel}/inbox`, {
        method: "POST",
        headers: { "content-type": "application/activity+json" },
        body: JSON.stringify(invoked),
      });
      return { status: response.status, body: await response.json() };
    },
    async opCount() {
      return Number((await hb().db.all<{ n: number }>(sql`SELECT count(*) AS n FROM op_log`))[0].n);
    },
    async [Symbol.asyncDispose]() {
      await b[Symbol.asyncDispose]();
      await a[Symbol.asyncDispose]();
    },
  };
}

/** A message as b's member sees it, found by its text. */
export async function findMessage(
  client: HarmonyClient,
  channel: string,
  content: string,
): Promise<MessageJson | undefined> {
  return (await client.history(channel, { limit: 200 })).messages.find((m) => m.content === content);
}

/**
 * Writes an operation straight into a node's own log, as a compromised
 * peer would hold it: its Sync answers then carry it as is.
 */
export async function plant(
  node: Node,
  channelIri: string,
  op: { id: string; envelope: Envelope; document: unknown; kind?: string; target?: string; actor?: string },
): Promise<void> {
  const doc = op.document as Record<string, string>;
  await node.instance.harmony.database.writeSql((tx) =>
    tx.run(
      `INSERT INTO op_log (id, channel, origin, seq, lamport, kind, target, actor, document)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        op.id,
        channelIri,
        op.envelope.origin,
        op.envelope.seq,
        op.envelope.lamport,
        op.kind ?? doc.type,
        op.target ?? doc.target ?? doc.object ?? doc.id,
        op.actor ?? doc.actor ?? doc.attributedTo,
        JSON.stringify(op.document),
      ],
    )
  );
}

/**
 * A victim `b` that pulls `a`'s channel by Sync only: b granted a's channel
 * (so it applies what a's Sync answers carry) and installed the capability a
 * granted it (so it can ask), while a never delivers to b.
 */
export async function syncOnlyBridge() {
  const a = await startNode("a");
  const b = await startNode("b");
  const ownerA = await claimNode(a);
  const ownerB = await claimNode(b);
  const here = await ownerA.createChannel("here", { visibility: "public" });
  const x = await ownerB.createChannel("x", { visibility: "public" });
  const secret = await ownerB.createChannel("secret", { visibility: "members" });
  const alice = await joinNode(a, ownerA);
  const bob = await joinNode(b, ownerB);
  await ownerB.offerBridge(x.id, `${a.link.origin}/ap/actors/${here.id}`);
  const toB = await ownerA.offerBridge(here.id, `${b.link.origin}/ap/actors/${x.id}`);
  await ownerB.installBridge(toB.capability);
  let marks = 0;
  /** Posts a marker on a and waits until b has it: every Sync answer before it was applied. */
  const synced = async () => {
    const text = `sync marker ${++marks}`;
    await alice.post("here", text);
    await eventually(`b to pull "${text}"`, () => findMessage(bob, "x", text), 20_000);
  };
  return {
    a,
    b,
    ownerA,
    ownerB,
    here,
    x,
    secret,
    alice,
    bob,
    synced,
    /** The next sequence number a has not used for its own operations in `here`. */
    async nextSeq(): Promise<number> {
      const [row] = await a.instance.harmony.db.all<{ n: number }>(
        sql`SELECT coalesce(max(seq), 0) AS n FROM op_log WHERE origin = ${a.link.origin}`,
      );
      return Number(row.n) + 1;
    },
    async [Symbol.asyncDispose]() {
      await b[Symbol.asyncDispose]();
      await a[Symbol.asyncDispose]();
    },
  };
}
