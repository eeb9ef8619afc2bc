/**
 * A persistent, lease-based message queue on the `queue_jobs` table, one
 * named queue per instance of this class ("fedify" for Fedify's inbox,
 * outbox and fan-out work; bridges use their own name).
 *
 * - At least once: a worker leases a job (`locked_until`), runs it, and
 *   deletes it only afterwards. A crash leaves the job, which runs again
 *   once the lease has expired; a clean shutdown releases its leases.
 * - No native retries (`nativeRetrial = false`): Fedify re-enqueues a failed
 *   delivery itself with a backoff delay. When the job being retried is
 *   still running here (it always is: Fedify re-enqueues from inside the
 *   handler), the retry reuses its row, so it keeps its place in line.
 * - Jobs sharing an ordering key run one at a time, in the order they were
 *   first enqueued (Fedify keys them by object and receiving server, so one
 *   slow server never holds up the others).
 * - Several workers run jobs side by side. At most `maxPerGroup` jobs of one
 *   group run at once, the group being what follows the first line break
 *   of the ordering key (Fedify appends the receiving server's origin), so
 *   jobs for one slow server can never take every worker. A job that runs
 *   longer than `jobTimeoutMs` gives its worker back (it is released to run
 *   again later), so a server that never answers cannot hold the queue.
 * - Writes go through the instance's one writer; when nothing is due,
 *   workers only read, sleeping until the next job is due or something is
 *   enqueued. Enqueues are synced to disk before they are acknowledged;
 *   leases, the removal of finished jobs and released leases are not
 *   (`synced: false`): they survive the process being killed, and the power
 *   loss that could undo one only makes a job run again (at-least-once
 *   allows it) or later, once its lease has run out. That keeps
 *   the disk's sync (3–4 ms here) off the path of every delivery.
 */
import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import { setImmediate } from "node:timers";
import type { Database, SqlTransaction } from "../db/client.ts";

export interface SqlMessageQueueOptions {
  /** Jobs run side by side (default 4). */
  workers?: number;
  /** How long a job is leased to its worker (default 60 s). */
  leaseMs?: number;
  /** A job running longer than this gives its worker back and is retried later (default 30 s). */
  jobTimeoutMs?: number;
  /** Idle workers look again at least this often, for jobs enqueued by another process (default 5 s). */
  idlePollMs?: number;
  /** Jobs of one group (one receiving server) running at once (default 2). */
  maxPerGroup?: number;
  /** Where failures are reported (default console.error). */
  log?: (message: string, error?: unknown) => void;
}

/** How to settle a job that ran: delete it, or release it to run again later. */
interface Settlement {
  id: number;
  outcome: "done" | "release";
  entry: { rescheduled: boolean };
}

interface Claimed {
  id: number;
  message: unknown;
  group: string | null;
}

/** A job's group: its ordering key after the first line break (all of it if it has none). */
const groupSql = "substr(m.ordering_key, instr(m.ordering_key, char(10)) + 1)";
function groupOf(orderingKey: unknown): string | null {
  if (typeof orderingKey !== "string") return null;
  return orderingKey.slice(orderingKey.indexOf("\n") + 1);
}

/** Fedify's queue messages carry a random id that a retry keeps. */
function messageKey(message: unknown): string | null {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : null;
}

function delayOf(options?: MessageQueueEnqueueOptions): number {
  return Math.max(0, options?.delay ? options.delay.total("millisecond") : 0);
}

export class SqlMessageQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #workers: number;
  readonly #leaseMs: number;
  readonly #jobTimeoutMs: number;
  readonly #idlePollMs: number;
  readonly #maxPerGroup: number;
  readonly #groups = new Map<string, number>();
  readonly #log: (message: string, error?: unknown) => void;
  #wakes = 0;
  readonly #wake = new EventTarget();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Jobs running in this process, by message id. */
  readonly #running = new Map<string, { row: number; rescheduled: boolean }>();
  /** Handlers still running (including ones that timed out), awaited on close. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;
  /** Workers waiting for their lease to be written (see #lease). */
  readonly #leases: Array<{
    settlement: Settlement | null;
    resolve: (row: Record<string, unknown> | undefined) => void;
    reject: (error: unknown) => void;
  }> = [];
  #leaseScheduled = false;
  /** Enqueues waiting for their write (see #writeEnqueues). */
  readonly #enqueues: Array<{
    messages: readonly unknown[];
    delay: number;
    runAt: number;
    orderingKey: string | null;
    resolve: () => void;
    reject: (error: unknown) => void;
  }> = [];

  constructor(readonly database: Database, readonly name: string, options: SqlMessageQueueOptions = {}) {
    this.#workers = options.workers ?? 4;
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#jobTimeoutMs = options.jobTimeoutMs ?? 30_000;
    this.#idlePollMs = options.idlePollMs ?? 5_000;
    this.#maxPerGroup = options.maxPerGroup ?? 2;
    this.#log = options.log ?? ((message, error) => console.error(message, error ?? ""));
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.enqueueMany([message], options);
  }

  enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const delay = delayOf(options);
    return new Promise<void>((resolve, reject) => {
      this.#enqueues.push({
        messages,
        delay,
        runAt: Date.now() + delay,
        orderingKey: options?.orderingKey ?? null,
        resolve,
        reject,
      });
      // Enqueues made in the same turn share one write: Fedify enqueues a fan-out's deliveries one by one.
      if (this.#enqueues.length === 1) queueMicrotask(() => this.#writeEnqueues());
    });
  }

  async #writeEnqueues(): Promise<void> {
    const batch = this.#enqueues.splice(0);
    const reused = new Set<{ row: number; rescheduled: boolean }>();
    try {
      await this.database.writeSql(async (sql) => {
        let values: unknown[] = [];
        const insert = async () => {
          if (values.length === 0) return;
          const rows = Array.from({ length: values.length / 4 }, () => "(?, ?, ?, ?, 0)").join(", ");
          await sql.run(
            `INSERT INTO queue_jobs (queue, message, run_at, ordering_key, attempts) VALUES ${rows}`,
            values,
          );
          values = [];
        };
        for (const { messages, runAt, orderingKey } of batch) {
          for (const message of messages) {
            const key = messageKey(message);
            const running = key === null ? undefined : this.#running.get(key);
            if (running && !running.rescheduled && !reused.has(running)) {
              // A retry of the job being run: it keeps its row, hence its place among its ordering key.
              await sql.run(
                "UPDATE queue_jobs SET message = ?, run_at = ?, ordering_key = ?, locked_until = NULL WHERE id = ?",
                [JSON.stringify(message), runAt, orderingKey, running.row],
              );
              reused.add(running);
            } else {
              values.push(this.name, JSON.stringify(message), runAt, orderingKey);
              if (values.length >= 4 * 100) await insert();
            }
          }
        }
        await insert();
      });
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    for (const entry of reused) entry.rescheduled = true;
    if (batch.some(({ delay }) => delay === 0)) this.#notify();
    for (const delay of new Set(batch.map(({ delay }) => delay))) if (delay > 0) this.#notifyIn(delay);
    for (const { resolve } of batch) resolve();
  }

  async getDepth(): Promise<MessageQueueDepth> {
    const now = Date.now();
    const result = await this.database.client.execute({
      sql: `SELECT count(*) AS queued, coalesce(sum(run_at <= ?), 0) AS ready FROM queue_jobs
              WHERE queue = ? AND (locked_until IS NULL OR locked_until < ?)`,
      args: [now, this.name, now],
    });
    const queued = Number(result.rows[0].queued);
    const ready = Number(result.rows[0].ready);
    return { queued, ready, delayed: queued - ready };
  }

  /** Wakes idle workers (a job was enqueued or finished). */
  #notify(): void {
    this.#wakes++;
    this.#wake.dispatchEvent(new Event("wake"));
  }

  #notifyIn(ms: number): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#notify();
    }, ms);
    this.#timers.add(timer);
  }

  /** When the next job is due (or its lease runs out); null when the queue is empty. */
  async #nextDue(): Promise<number | null> {
    const [due] = (await this.database.client.execute({
      sql: `SELECT min(max(run_at, coalesce(locked_until, 0))) AS next FROM queue_jobs WHERE queue = ?`,
      args: [this.name],
    })).rows;
    return due?.next === null || due?.next === undefined ? null : Number(due.next);
  }

  #waitFor(next: number | null, now: number): number {
    return Math.min(this.#idlePollMs, next === null ? this.#idlePollMs : next - now + 1);
  }

  /** Deletes (or releases) a job this worker ran, inside a write. */
  async #settleIn(sql: SqlTransaction, settlement: Settlement): Promise<void> {
    if (settlement.entry.rescheduled) return;
    if (settlement.outcome === "done") {
      await sql.run("DELETE FROM queue_jobs WHERE id = ?", [settlement.id]);
    } else {
      // Released to run again later (Fedify normally retries on its own; this is the fallback).
      await sql.run("UPDATE queue_jobs SET locked_until = NULL, run_at = ? WHERE id = ?", [
        Date.now() + this.#leaseMs,
        settlement.id,
      ]);
    }
  }

  /**
   * Settles the job the worker just ran (if any) and leases the next job
   * that may run now, in one write, or says how long to wait.
   */
  async #claim(settlement: Settlement | null): Promise<Claimed | { waitMs: number }> {
    const now = Date.now();
    if (settlement === null) {
      // Is anything due? (From the queue_jobs_lease index alone, passing over the jobs in flight.)
      const { rows: dueNow } = await this.database.client.execute({
        sql: `SELECT 1 FROM queue_jobs
                WHERE queue = ? AND run_at <= ? AND (locked_until IS NULL OR locked_until < ?) LIMIT 1`,
        args: [this.name, now, now],
      });
      if (dueNow.length === 0) {
        const next = await this.#nextDue();
        if (next === null || next > now) return { waitMs: this.#waitFor(next, now) };
      }
    }
    const row = await this.#lease(settlement);
    if (!row) {
      // Something due waits behind its ordering key or its group: a finishing job wakes us.
      if (settlement === null) return { waitMs: this.#idlePollMs };
      const next = await this.#nextDue();
      return { waitMs: next === null || next > now ? this.#waitFor(next, now) : this.#idlePollMs };
    }
    return { id: Number(row.id), message: JSON.parse(String(row.message)), group: groupOf(row.ordering_key) };
  }

  /**
   * Settles a worker's last job and leases its next one. Workers asking in
   * the same turn of the event loop share one write (one commit): under load
   * the commit, not the statements, is most of a job's cost here.
   */
  #lease(settlement: Settlement | null): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve, reject) => {
      this.#leases.push({ settlement, resolve, reject });
      if (!this.#leaseScheduled) {
        this.#leaseScheduled = true;
        // A macrotask (setImmediate: nested timeouts are clamped), so that workers whose
        // deliveries finished in this turn of the event loop share the write.
        setImmediate(() => this.#writeLeases());
      }
    });
  }

  async #writeLeases(): Promise<void> {
    this.#leaseScheduled = false;
    const batch = this.#leases.splice(0);
    const now = Date.now();
    // Jobs leased by this write count against their group like the ones running.
    const groups = new Map(this.#groups);
    let leased: Record<string, unknown>[];
    try {
      leased = await this.database.writeSql(async (sql) => {
        for (const { settlement } of batch) if (settlement !== null) await this.#settleIn(sql, settlement);
        const rows: Record<string, unknown>[] = [];
        while (rows.length < batch.length) {
          const busy = [...groups].filter(([, n]) => n >= this.#maxPerGroup).map(([group]) => group);
          const notBusy = busy.length
            ? `AND (m.ordering_key IS NULL OR ${groupSql} NOT IN (${busy.map(() => "?").join(",")}))`
            : "";
          const [row] = await sql.all(
            `UPDATE queue_jobs SET locked_until = ?, attempts = attempts + 1
              WHERE id = (
                SELECT m.id FROM queue_jobs m
                 WHERE m.queue = ? AND m.run_at <= ? AND (m.locked_until IS NULL OR m.locked_until < ?)
                   AND (m.ordering_key IS NULL OR NOT EXISTS (
                     SELECT 1 FROM queue_jobs o
                      WHERE o.queue = m.queue AND o.ordering_key = m.ordering_key AND o.id < m.id))
                   ${notBusy}
                 ORDER BY m.run_at, m.id LIMIT 1)
              RETURNING id, message, ordering_key`,
            [now + this.#leaseMs, this.name, now, now, ...busy],
          );
          if (!row) break;
          rows.push(row);
          const group = groupOf(row.ordering_key);
          if (group !== null) groups.set(group, (groups.get(group) ?? 0) + 1);
        }
        return rows;
      }, { synced: false });
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    } finally {
      // A settled job may let the next one of its ordering key or group run.
      if (batch.some(({ settlement }) => settlement !== null)) this.#notify();
    }
    batch.forEach(({ resolve }, i) => resolve(leased[i]));
  }

  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake.removeEventListener("wake", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#wake.addEventListener("wake", done, { once: true });
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Runs a leased job; says how to settle it. */
  async #run(job: Claimed, handler: (message: unknown) => Promise<void> | void): Promise<Settlement> {
    const key = messageKey(job.message);
    const entry = { row: job.id, rescheduled: false };
    if (key !== null) this.#running.set(key, entry);
    if (job.group !== null) this.#groups.set(job.group, (this.#groups.get(job.group) ?? 0) + 1);
    const leaveGroup = () => {
      if (job.group === null) return;
      const n = (this.#groups.get(job.group) ?? 1) - 1;
      if (n > 0) this.#groups.set(job.group, n);
      else this.#groups.delete(job.group);
    };
    const work = (async () => await handler(job.message))();
    this.#inFlight.add(work);
    const settled = () => {
      this.#inFlight.delete(work);
      // A job that timed out still counts against its group until it really ends.
      leaveGroup();
      this.#notify();
    };
    work.then(settled, settled);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), this.#jobTimeoutMs)
    );
    let outcome: "done" | "failed" | "timeout";
    try {
      outcome = await Promise.race([work.then(() => "done" as const), timeout]);
    } catch (error) {
      this.#log(`queue ${this.name}: a job failed; it will run again`, error);
      outcome = "failed";
    } finally {
      clearTimeout(timer);
    }
    if (key !== null && this.#running.get(key) === entry) this.#running.delete(key);
    if (outcome === "timeout") {
      work.catch((error) => this.#log(`queue ${this.name}: a job that timed out failed`, error));
    }
    // Settled by the worker's next write, together with leasing its next job.
    return { id: job.id, outcome: outcome === "done" ? "done" : "release", entry };
  }

  /** Settles a job on its own (a worker that stops). */
  async #settle(settlement: Settlement): Promise<void> {
    try {
      await this.database.writeSql((sql) => this.#settleIn(sql, settlement), { synced: false });
    } catch (error) {
      this.#log(`queue ${this.name}: could not settle a job`, error);
    }
    this.#notify();
  }

  async listen(
    handler: (message: unknown) => Promise<void> | void,
    options: MessageQueueListenOptions = {},
  ): Promise<void> {
    const signal = options.signal;
    const worker = async () => {
      // The job this worker ran last, settled by its next write.
      let settlement: Settlement | null = null;
      while (!signal?.aborted && !this.#closed) {
        const seen = this.#wakes;
        let claimed: Claimed | { waitMs: number };
        try {
          claimed = await this.#claim(settlement);
        } catch (error) {
          if (this.#closed) break;
          // A job left unsettled runs again once its lease has expired.
          this.#log(
            `queue ${this.name}: could not ${settlement ? "settle a job or " : ""}lease a job`,
            error,
          );
          claimed = { waitMs: this.#idlePollMs };
        }
        settlement = null;
        if ("waitMs" in claimed) {
          if (seen !== this.#wakes) continue;
          await this.#sleep(claimed.waitMs, signal);
          continue;
        }
        settlement = await this.#run(claimed, handler);
      }
      if (settlement !== null) await this.#settle(settlement);
    };
    await Promise.all(Array.from({ length: this.#workers }, worker));
  }

  /**
   * Stops scheduling wake-ups and waits (up to `graceMs`) for running
   * handlers; the leases of jobs still running are released so they run
   * again at the next start. Call after aborting `listen`'s signal.
   */
  async close(graceMs = 5_000): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#notify();
    if (this.#inFlight.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
      ]);
      clearTimeout(timer);
    }
    const rows = [...this.#running.values()].map((entry) => entry.row);
    if (rows.length > 0) {
      await this.database.writeSql((sql) =>
        sql.run(
          `UPDATE queue_jobs SET locked_until = NULL WHERE id IN (${rows.map(() => "?").join(",")})`,
          rows,
        ), { synced: false }).catch(() => {});
    }
  }
}
