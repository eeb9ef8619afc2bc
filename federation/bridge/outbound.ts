/**
 * Delivery to bridge peers, and anti-entropy.
 *
 * Each installed link has its own loop: it reads our channel's operation
 * log after the link's cursor (a row in delivery_cursors, so it survives
 * restarts), signs an invocation per operation and POSTs it to the peer's
 * inbox, a few at a time, and moves the cursor past what the peer took.
 * A peer that fails gets exponential backoff on its own loop only.
 *
 * An operation goes with what the peer needs to check it: a moderation's
 * capability (`authority`), and for an operation relayed from a further
 * channel the path of bridge grants that shows that channel is part of the
 * mesh (`relay`, server/replication/relays.ts). An operation the peer
 * refuses for what it is (not for how it was delivered) is skipped, so one
 * bad operation never stops the link; the refusal is the peer's to record.
 *
 * Anti-entropy: on start, periodically, and when a peer comes back, each
 * loop asks the peer for the operations we lack (a Sync invocation with
 * our version vector) and applies them, a page at a time, through the
 * same checks as a delivery (server/replication/admission.ts). Operations
 * from a peer are applied only while we hold a standing grant to that peer.
 */
import { and, asc, eq, gt, inArray, ne } from "drizzle-orm";
import { deliveryCursors, opLog } from "../../db/schema.ts";
import { bridgeState, type Link } from "../../server/replication/bridges.ts";
import { invoke } from "../../server/capabilities/zcap.ts";
import { findChannel } from "../../server/channels/channels.ts";
import type { Harmony } from "../../server/harmony.ts";
import { isRedacted, type OpDocument } from "../../server/messages/oplog.ts";
import { REPLICATED_KINDS, versionVector } from "../../server/replication/sync.ts";
import { admitPeerOp } from "../../server/replication/admission.ts";
import { recordRefusal, refusedOpId } from "../../server/replication/refusals.ts";
import { relayPathFor } from "../../server/replication/relays.ts";
import { HarmonyError } from "../../server/shared/errors.ts";
import {
  actionOf,
  activityTypeOf,
  type BridgeActivity,
  operationActivity,
  syncActivity,
} from "./activity.ts";
import { channelSigner } from "./signing.ts";
import type { PeerKeys } from "./peers.ts";

const BATCH = 64;
const IN_FLIGHT = 8;
const MAX_BACKOFF_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 15_000;

export class PeerDeliveryError extends Error {
  constructor(readonly status: number, message: string, readonly code: string | null = null) {
    super(message);
  }

  /** The peer refused the operation itself (its author, authority, envelope…), not the delivery. */
  get refusesOperation(): boolean {
    return [403, 404, 409, 422].includes(this.status) && this.code !== null &&
      operationRefusals.has(this.code);
  }
}

/** Refusals about what an operation is: sending it again would be refused again. */
const operationRefusals = new Set([
  "banned",
  "not_authorized",
  "not_author",
  "not_found",
  "wrong_origin",
  "wrong_channel",
  "unproven_relay",
  "envelope_out_of_range",
  "sequence_taken",
  "clock_skew",
  "empty_message",
  "message_too_long",
  "invalid_characters",
  "malformed_document",
  "malformed_operation",
  "id_taken",
  "message_deleted",
]);

/** POSTs a signed invocation to a peer inbox; returns the JSON reply. */
async function post(h: Harmony, link: Link, activity: BridgeActivity): Promise<unknown> {
  const response = await h.outbound.fetch(link.peerInbox, {
    method: "POST",
    headers: { "content-type": "application/activity+json", accept: "application/json" },
    body: JSON.stringify(activity),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    redirect: "error",
  });
  const text = await response.text();
  if (!response.ok) {
    let reason = text.slice(0, 300);
    let code: string | null = null;
    try {
      const parsed = JSON.parse(text);
      reason = parsed.message ?? reason;
      code = typeof parsed.error === "string" ? parsed.error : null;
    } catch { /* keep the text */ }
    throw new PeerDeliveryError(
      response.status,
      `${link.peerInbox} answered ${response.status}: ${reason}`,
      code,
    );
  }
  return text ? JSON.parse(text) : null;
}

async function signed(
  h: Harmony,
  link: Link,
  activity: BridgeActivity,
  action: string,
): Promise<BridgeActivity> {
  const channelId = h.iris.channelId(link.channel)!;
  return await invoke(activity, {
    capability: link.capability,
    action,
    invocationTarget: link.peerInbox,
    signer: await channelSigner(h, channelId),
  }) as BridgeActivity;
}

/** One loop per installed link. */
class LinkLoop {
  #stopped = false;
  #wake: (() => void) | null = null;
  #failures = 0;
  #lastSync = 0;
  #needsSync = true;

  constructor(readonly h: Harmony, public link: Link, readonly peers: PeerKeys) {}

  get stream(): string {
    return `bridge:${this.link.id}`;
  }

  poke(): void {
    this.#wake?.();
  }

  stop(): void {
    this.#stopped = true;
    this.poke();
  }

  async #cursor(): Promise<number> {
    const [row] = await this.h.db.select().from(deliveryCursors).where(
      eq(deliveryCursors.stream, this.stream),
    );
    return row?.position ?? 0;
  }

  async #advance(position: number): Promise<void> {
    await this.h.database.write((tx) =>
      tx.insert(deliveryCursors).values({ stream: this.stream, position }).onConflictDoUpdate({
        target: deliveryCursors.stream,
        set: { position },
      })
    );
  }

  /** Delivers what is pending; returns true when the peer took everything. */
  async #deliver(): Promise<boolean> {
    const peerOrigin = new URL(this.link.peerActor).origin;
    while (!this.#stopped) {
      const after = await this.#cursor();
      const ops = await this.h.db.select().from(opLog).where(and(
        eq(opLog.channel, this.link.channel),
        gt(opLog.position, after),
        inArray(opLog.kind, [...REPLICATED_KINDS]),
        // The peer made these itself: it has them.
        ne(opLog.origin, peerOrigin),
      )).orderBy(asc(opLog.position)).limit(BATCH);
      if (ops.length === 0) return true;
      const actor = this.h.iris.channelActor(this.h.iris.channelId(this.link.channel)!);
      let delivered = after;
      for (let i = 0; i < ops.length; i += IN_FLIGHT) {
        const slice = ops.slice(i, i + IN_FLIGHT);
        const results = await Promise.allSettled(slice.map(async (op) => {
          if (!this.link.actions.includes(actionFor(op.kind))) return; // the peer did not allow it
          const document = JSON.parse(op.document) as OpDocument;
          // A deleted message's post or edit has no text left to send; a Sync fills its place.
          if (isRedacted(document)) return;
          const activity = operationActivity(op.id, actor, this.link.peerActor, document, {
            origin: op.origin,
            seq: op.seq,
            lamport: op.lamport,
          });
          if (op.authority) activity.authority = JSON.parse(op.authority);
          if (op.origin !== this.h.config.origin) {
            // Relayed from a further channel: with the proof that it is part of the mesh.
            const path = await relayPathFor(this.h, this.link.channel, document.channel);
            if (!path) {
              console.warn(
                `bridge: not relaying ${op.id} to ${this.link.peerInbox}: ${document.channel} is not proven bridged here`,
              );
              return;
            }
            activity.relay = path;
          }
          try {
            await post(this.h, this.link, await signed(this.h, this.link, activity, actionFor(op.kind)));
          } catch (error) {
            // The peer refuses the operation itself (its author is banned there, …): it will never
            // take it; move on.
            if (!(error instanceof PeerDeliveryError && error.refusesOperation)) throw error;
            console.warn(`bridge: ${this.link.peerInbox} refused ${op.id}: ${error.message}`);
          }
        }));
        const failed = results.findIndex((r) => r.status === "rejected");
        const upTo = failed === -1 ? slice.length : failed;
        if (upTo > 0) delivered = slice[upTo - 1].position;
        if (failed !== -1) {
          if (delivered > after) await this.#advance(delivered);
          const reason = (results[failed] as PromiseRejectedResult).reason;
          console.warn(`bridge: delivery to ${this.link.peerInbox} failed: ${reason?.message ?? reason}`);
          return false;
        }
      }
      await this.#advance(delivered);
    }
    return true;
  }

  /** Pulls what the peer has and we lack. */
  async #sync(): Promise<void> {
    const grant = (await bridgeState(this.h)).grants.find((g) =>
      g.channel === this.link.channel && g.grantee === this.link.peerActor && !g.revoked &&
      Date.parse(g.expires) > Date.now()
    );
    if (!grant) return; // we never let this peer write here
    const actor = this.h.iris.channelActor(this.h.iris.channelId(this.link.channel)!);
    let after: { origin: string; seq: number } | null = null;
    do {
      const vector = await versionVector(this.h.db, this.link.channel);
      const request = syncActivity(actor, this.link.peerActor, vector, after);
      const reply = await post(this.h, this.link, await signed(this.h, this.link, request, "sync")) as {
        ops: Array<{ envelope: { origin?: unknown }; document: unknown; authority?: unknown }>;
        relays?: Record<string, unknown>;
        next: { origin: string; seq: number } | null;
      };
      const channel = await findChannel(this.h, this.h.iris.channelId(this.link.channel)!);
      for (const op of reply.ops ?? []) {
        const kind = (op?.document as { type?: unknown } | null)?.type;
        try {
          const submission = await admitPeerOp(this.h, {
            envelope: op.envelope,
            document: op.document,
            authority: op.authority,
            relay: reply.relays?.[String((op?.document as { channel?: unknown } | null)?.channel)],
          }, { channel, peer: this.link.peerActor, grant, directory: this.peers });
          await this.h.ops.submit(submission);
        } catch (error) {
          if (!(error instanceof HarmonyError)) throw error;
          if (error.status === 503) continue; // asked again at the next Sync
          const recorded = await recordRefusal(this.h, {
            peer: this.link.peerActor,
            channel: this.link.channel,
            via: "sync",
            kind: typeof kind === "string" ? kind : "?",
            opId: await refusedOpId(op?.document),
            origin: typeof op?.envelope?.origin === "string" ? op.envelope.origin : "",
            code: error.code,
            reason: error.message,
          });
          if (recorded) {
            console.warn(
              `bridge: refused an operation in ${this.link.peerActor}'s Sync answer: ${error.message}`,
            );
          }
        }
      }
      after = reply.next ?? null;
    } while (after && !this.#stopped);
  }

  async run(): Promise<void> {
    while (!this.#stopped) {
      let healthy = true;
      try {
        if (Date.parse(this.link.expires) <= Date.now()) {
          console.warn(`bridge: the capability for ${this.link.peerInbox} has expired; not delivering`);
          healthy = true;
          await this.#sleep(this.h.config.syncIntervalSeconds * 1000);
          continue;
        }
        if (this.#needsSync || Date.now() - this.#lastSync >= this.h.config.syncIntervalSeconds * 1000) {
          await this.#sync();
          this.#lastSync = Date.now();
          this.#needsSync = false;
        }
        healthy = await this.#deliver();
      } catch (error) {
        healthy = false;
        console.warn(`bridge: ${this.link.peerInbox}: ${(error as Error).message}`);
      }
      if (healthy) {
        // A peer that comes back may have missed our Syncs: ask again now.
        if (this.#failures > 0) this.#needsSync = true;
        this.#failures = 0;
        if (!this.#needsSync) await this.#sleep(this.h.config.syncIntervalSeconds * 1000);
      } else {
        this.#failures++;
        this.#needsSync = true;
        await this.#sleep(Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.#failures, 20)), false);
      }
    }
  }

  /** Sleeps until woken (new operations) or the time passes. */
  #sleep(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = wakeable ? done : () => {
        if (this.#stopped) done();
      };
    });
  }
}

function actionFor(kind: string): string {
  return actionOf[activityTypeOf[kind as OpDocument["type"]] ?? ""] ?? "delete";
}

/** Runs a loop per installed link; adds and drops loops as links change. */
export class BridgeDeliveries {
  readonly #loops = new Map<string, { loop: LinkLoop; done: Promise<void> }>();
  #unsubscribe: (() => void) | null = null;
  #refreshing: Promise<void> | null = null;

  constructor(readonly h: Harmony, readonly peers: PeerKeys) {}

  async start(): Promise<void> {
    this.#unsubscribe = this.h.hub.subscribeOps(() => void this.refresh());
    await this.refresh();
  }

  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const { links } = await bridgeState(this.h);
        const ids = new Set(links.map((l) => l.id));
        for (const [id, entry] of this.#loops) {
          if (!ids.has(id)) {
            entry.loop.stop();
            this.#loops.delete(id);
          }
        }
        for (const link of links) {
          const entry = this.#loops.get(link.id);
          if (entry) {
            entry.loop.link = link;
            entry.loop.poke();
          } else {
            const loop = new LinkLoop(this.h, link, this.peers);
            this.#loops.set(link.id, { loop, done: loop.run() });
          }
        }
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  async close(): Promise<void> {
    this.#unsubscribe?.();
    for (const { loop } of this.#loops.values()) loop.stop();
    await Promise.all([...this.#loops.values()].map((e) => e.done));
    this.#loops.clear();
  }
}
