/**
 * Delivery to bridge peers, and anti-entropy.
 *
 * Each installed link has its own loop: it reads our channel's operation
 * log after the link's cursor (a row in delivery_cursors, so it survives
 * restarts), signs an invocation per operation and POSTs it to the peer's
 * inbox, a few at a time, and moves the cursor past what the peer took.
 * A peer that fails gets exponential backoff on its own loop only.
 *
 * Anti-entropy: on start, periodically, and when a peer comes back, each
 * loop asks the peer for the operations we lack (a Sync invocation with
 * our version vector) and applies them, a page at a time. Operations from
 * a peer are applied only while we hold a standing grant to that peer.
 */
import { and, asc, eq, gt, inArray, ne } from "drizzle-orm";
import { deliveryCursors, opLog } from "../../db/schema.ts";
import { bridgeState, type Link } from "../../server/replication/bridges.ts";
import { invoke } from "../../server/capabilities/zcap.ts";
import type { Harmony } from "../../server/harmony.ts";
import { actorOf, isRedacted, type OpDocument, opIdOf } from "../../server/messages/oplog.ts";
import { isBanned } from "../../server/moderation/guard.ts";
import { REPLICATED_KINDS, versionVector } from "../../server/replication/sync.ts";
import { verifySigned } from "../../server/documents/signed.ts";
import {
  actionOf,
  activityTypeOf,
  type BridgeActivity,
  operationActivity,
  syncActivity,
} from "./activity.ts";
import { channelSigner } from "./signing.ts";

const BATCH = 64;
const IN_FLIGHT = 8;
const MAX_BACKOFF_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 15_000;

export class PeerDeliveryError extends Error {
  constructor(readonly status: number, message: string, readonly code: string | null = null) {
    super(message);
  }
}

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

  constructor(readonly h: Harmony, public link: Link) {}

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
          // A deleted message's post or edit has no text left to send; a Sync fills its place.
          if (isRedacted(JSON.parse(op.document))) return;
          const activity = operationActivity(op.id, actor, this.link.peerActor, JSON.parse(op.document), {
            origin: op.origin,
            seq: op.seq,
            lamport: op.lamport,
          });
          try {
            await post(this.h, this.link, await signed(this.h, this.link, activity, actionFor(op.kind)));
          } catch (error) {
            // The peer banned the operation's author: it will never take it; move on.
            if (!(error instanceof PeerDeliveryError && error.status === 403 && error.code === "banned")) {
              throw error;
            }
            console.warn(
              `bridge: ${this.link.peerInbox} refused ${op.id}: its author ${op.actor} is banned there`,
            );
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
        ops: Array<{ envelope: { origin: string; seq: number; lamport: number }; document: unknown }>;
        next: { origin: string; seq: number } | null;
      };
      for (const { envelope, document } of reply.ops ?? []) {
        const kind = (document as { type?: string })?.type;
        if (!(REPLICATED_KINDS as readonly unknown[]).includes(kind)) continue;
        if (!grant.actions.includes(actionFor(kind!))) continue;
        const author = isRedacted(document) ? document.actor : actorOf(document as OpDocument);
        if (await isBanned(this.h, author)) {
          console.warn(
            `bridge: skipped an operation from ${this.link.peerActor}: its author ${author} is banned here`,
          );
          continue;
        }
        try {
          if (isRedacted(document)) {
            // The trace of a deleted message's post or edit: it fills its place in our log.
            await this.h.ops.submit({
              doc: document,
              opId: document.opId,
              channel: this.link.channel,
              envelope,
            });
            continue;
          }
          const doc = await verifySigned(kind as OpDocument["type"], document) as OpDocument;
          await this.h.ops.submit({ doc, opId: await opIdOf(doc), channel: this.link.channel, envelope });
        } catch (error) {
          console.warn(
            `bridge: ignored an operation from ${this.link.peerActor}: ${(error as Error).message}`,
          );
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

  constructor(readonly h: Harmony) {}

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
            const loop = new LinkLoop(this.h, link);
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
