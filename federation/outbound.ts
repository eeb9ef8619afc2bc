/**
 * Outbound work that starts from the domain's state, crash-safe by
 * construction:
 *
 * - Fan-out: a cursor (`delivery_cursors`, stream "followers") over the
 *   operation log's positions. Woken after each commit, it reads the
 *   operations past the cursor, hands each public channel's Announce to
 *   Fedify (which signs it and persists one job per receiving server in
 *   the queue), and only then moves the cursor. A crash in between sends
 *   the same Announce again, with the same id, which receivers drop.
 * - Follow answers: decisions marked "answer due" (server/replication/followers.ts)
 *   are handed to the queue as Accept or Reject, then unmarked.
 *
 * Per follower, the Announce takes the shape its server understands
 * (software.ts): FEP-1b12's Announce(Create(Note)) for group-aware
 * software, Announce(Note) for microblogs such as Mastodon. A fediverse
 * reply a moderator removed is taken back with the Group's Undo of that
 * Announce. A blocked account or server has no followers left (a block
 * drops them), and the queue drops what was queued for it (blocks.ts).
 */
import type { Recipient } from "@fedify/vocab";
import { asc, eq, gt, max } from "drizzle-orm";
import { deliveryCursors, opLog } from "../db/schema.ts";
import { acceptedFollowers, answerQueued, dueAnswers } from "../server/replication/followers.ts";
import type { Harmony } from "../server/harmony.ts";
import type { FollowerInfo } from "../server/shared/model.ts";
import {
  announceOf,
  answerOf,
  isRemoval,
  type OpRow,
  publicChannel,
  shapeFor,
  withdrawalOf,
} from "./activities.ts";
import type { HarmonyFederation } from "./federation.ts";
import { kindOf } from "./software.ts";
import { noteIdOf } from "./uris.ts";

const STREAM = "followers";
const BATCH = 100;
/** After a local failure (the database), try again this much later. */
const RETRY_MS = 2_000;

function recipient(f: FollowerInfo): Recipient {
  return {
    id: new URL(f.actor),
    inboxId: new URL(f.inbox),
    endpoints: f.sharedInbox ? { sharedInbox: new URL(f.sharedInbox) } : null,
  };
}

/** A loop that runs `pass` whenever woken, until closed; a pass that did a full batch runs again. */
class Worker {
  #dirty = true;
  #closed = false;
  #wake: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #done: Promise<void> | null = null;

  constructor(
    readonly name: string,
    readonly pass: () => Promise<boolean>,
    readonly log: (message: string, error?: unknown) => void,
  ) {}

  start(): void {
    this.#done = this.#loop();
  }

  kick(): void {
    this.#dirty = true;
    this.#wake?.();
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      if (!this.#dirty) {
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = null;
        continue;
      }
      this.#dirty = false;
      try {
        if (await this.pass()) this.#dirty = true;
      } catch (error) {
        if (this.#closed) break;
        this.log(`federation: ${this.name} failed; retrying`, error);
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.kick();
        }, RETRY_MS);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#done;
  }
}

export class FollowerDelivery {
  readonly #fanOut: Worker;
  readonly #answers: Worker;
  readonly #unsubscribe: Array<() => void> = [];

  constructor(
    readonly h: Harmony,
    readonly federation: HarmonyFederation,
    readonly log: (message: string, error?: unknown) => void = (m, e) => console.error(m, e ?? ""),
  ) {
    this.#fanOut = new Worker("delivery to followers", () => this.#fanOutPass(), log);
    this.#answers = new Worker("answering follow requests", () => this.#answersPass(), log);
  }

  /** `fromHead`: start announcing after the operations already in the log. */
  async start({ fromHead = false } = {}): Promise<void> {
    if (fromHead) await this.#advance(await this.#head());
    this.#unsubscribe.push(this.h.hub.subscribeOps(() => this.#fanOut.kick()));
    this.#unsubscribe.push(this.h.hub.subscribeFollowers(() => this.#answers.kick()));
    this.#fanOut.start();
    this.#answers.start();
  }

  /** Something changed that may need an answer sent. */
  kickAnswers(): void {
    this.#answers.kick();
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await Promise.all([this.#fanOut.close(), this.#answers.close()]);
  }

  #context() {
    return this.federation.createContext(new URL(this.h.config.origin), undefined);
  }

  async #cursor(): Promise<number> {
    const [row] = await this.h.db.select().from(deliveryCursors).where(eq(deliveryCursors.stream, STREAM));
    if (row) return row.position;
    // First start: what was posted before federation existed is not announced.
    const position = await this.#head();
    await this.#advance(position);
    return position;
  }

  async #head(): Promise<number> {
    const [top] = await this.h.db.select({ position: max(opLog.position) }).from(opLog);
    return top?.position ?? 0;
  }

  async #advance(position: number): Promise<void> {
    await this.h.database.write((tx) =>
      tx.insert(deliveryCursors).values({ stream: STREAM, position }).onConflictDoUpdate({
        target: deliveryCursors.stream,
        set: { position },
      })
    );
  }

  async #fanOutPass(): Promise<boolean> {
    const cursor = await this.#cursor();
    const ops = await this.h.db.select().from(opLog).where(gt(opLog.position, cursor))
      .orderBy(asc(opLog.position)).limit(BATCH);
    const followers = new Map<string, FollowerInfo[]>();
    for (const op of ops) {
      // The cursor moves after each operation that was sent (a crash resends at most
      // one, which receivers deduplicate by id), and once for a run of skipped ones.
      if (await this.#deliver(op, followers)) await this.#advance(op.position);
    }
    if (ops.length) await this.#advance(ops[ops.length - 1].position);
    return ops.length === BATCH;
  }

  /** Sends the announces of one operation; whether anything was sent. */
  async #deliver(op: OpRow, cache: Map<string, FollowerInfo[]>): Promise<boolean> {
    const channel = await publicChannel(this.h, op.channel);
    if (!channel) return false;
    let followers = cache.get(channel.iri);
    if (!followers) cache.set(channel.iri, followers = await acceptedFollowers(this.h, channel.iri));
    if (followers.length === 0) return false;
    // One kind per receiving server (the first follower's software decides), so a shared inbox gets one shape.
    const kindByServer = new Map<string, ReturnType<typeof kindOf>>();
    const groups = { "group-aware": [] as Recipient[], microblog: [] as Recipient[] };
    for (const f of followers) {
      const server = new URL(f.inbox).origin;
      if (!kindByServer.has(server)) kindByServer.set(server, kindOf(f.software));
      groups[kindByServer.get(server)!].push(recipient(f));
    }
    const ctx = this.#context();
    let sent = false;
    for (const kind of ["group-aware", "microblog"] as const) {
      if (groups[kind].length === 0) continue;
      let announce;
      try {
        announce = isRemoval(op)
          ? await withdrawalOf(this.h, channel, op, kind === "microblog" ? "object" : "activity")
          : await announceOf(this.h, channel, op, shapeFor(op, kind));
      } catch (error) {
        // A malformed operation is skipped rather than blocking every later one.
        this.log(`federation: could not build the Announce of ${op.id}`, error);
        continue;
      }
      if (!announce) continue;
      await ctx.sendActivity({ identifier: channel.id }, groups[kind], announce, {
        preferSharedInbox: true,
        // Create, Update and Delete of one message reach each server in order.
        orderingKey: noteIdOf(this.h.config.origin, op.target),
      });
      sent = true;
    }
    return sent;
  }

  async #answersPass(): Promise<boolean> {
    const due = await dueAnswers(this.h);
    if (due.length === 0) return false;
    const { channels } = await this.h.snapshot();
    const ctx = this.#context();
    for (const follower of due) {
      const channel = channels.find((c) => c.iri === follower.channel);
      const answer = channel ? answerOf(this.h, channel, follower) : null;
      if (channel && answer) {
        await ctx.sendActivity({ identifier: channel.id }, recipient(follower), answer, {
          orderingKey: follower.actor,
        });
      }
      await answerQueued(this.h, follower);
    }
    return false;
  }
}
