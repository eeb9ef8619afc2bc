/**
 * The one writer of message operations. It gathers operations into
 * batches (everything queued while a batch commits goes into the next),
 * applies each batch in one transaction (oplog.ts), and publishes the
 * changes once they are durable.
 *
 * A quiet instance applies batches on the main thread, through the same
 * group-commit queue as every other write. Under load (large batches) it
 * moves them to a worker thread with its own connection (opWorker.ts), so
 * SQLite's synchronous work and WAL checkpoints stop stalling the thread
 * that serves HTTP; after a quiet spell the worker is stopped again, which
 * keeps an idle instance small.
 */
import { setImmediate } from "node:timers";
import { HarmonyError } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { applyBatch, type BatchResult, type OpSubmission, type Outcome } from "./oplog.ts";

interface Pending {
  item: OpSubmission;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** Largest batch: bigger ones share a commit but delay their first reply. */
const maxBatch = 512;
/** Batches handed over and not yet answered: the next gathers while one commits. */
const maxRunning = 2;
/** A batch this large, or this many operations a second, means sustained load: move writing to the worker. */
const workerThreshold = 16;
const workerRate = 100;
/** Stop the worker after this long without a batch. */
const workerIdleMs = 30_000;

export class OpWriter {
  #queue: Pending[] = [];
  #scheduled = false;
  #running = 0;
  #worker: WorkerConnection | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Operations submitted in the current one-second window, and when it began. */
  #windowCount = 0;
  #windowStart = 0;

  constructor(readonly h: Harmony) {}

  /** Queues an operation; settles once its batch is durably committed. */
  submit(item: OpSubmission): Promise<Outcome> {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) [this.#windowStart, this.#windowCount] = [now, 0];
    this.#windowCount++;
    return new Promise<Outcome>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Whether batches currently go to the worker thread. */
  get usingWorker(): boolean {
    return this.#worker !== null;
  }

  #schedule(): void {
    if (this.#scheduled || this.#running >= maxRunning) return;
    this.#scheduled = true;
    // A macrotask, not a microtask: requests already received get to queue
    // their operations and share this batch. (setImmediate, not setTimeout:
    // nested timeouts are clamped to several milliseconds.)
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, maxBatch);
    if (batch.length === 0) return;
    // Switch executors only between batches, so the two never write at once.
    const busy = batch.length >= workerThreshold || this.#windowCount >= workerRate;
    if (!this.#worker && this.#running === 0 && busy) {
      this.#worker = new WorkerConnection(this.h);
    }
    const worker = this.#worker;
    this.#running++;
    try {
      const items = batch.map((p) => p.item);
      const result = worker
        ? await worker.apply(items)
        : await this.h.database.writeSql((sql) => applyBatch(sql, this.h.config.origin, items));
      result.outcomes.forEach((outcome, i) => {
        if ("refused" in outcome) {
          const { status, code, message } = outcome.refused;
          batch[i].reject(new HarmonyError(status as HarmonyError["status"], code, message));
        } else {
          batch[i].resolve(outcome);
        }
      });
      for (const change of result.changes) {
        this.h.hub.publish(change.message.channel, { kind: change.kind, message: change.message });
      }
      if (result.changes.length) this.h.hub.publishOps();
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.#running--;
      if (worker) this.#armIdleTimer();
      if (this.#queue.length) this.#schedule();
    }
  }

  #armIdleTimer(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.#running === 0 && this.#worker) {
        this.#worker.close();
        this.#worker = null;
      }
    }, workerIdleMs);
  }

  /** Waits for the batches in flight, then stops the worker. */
  async close(): Promise<void> {
    while (this.#running || this.#queue.length) await new Promise((r) => setTimeout(r, 5));
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    this.#worker?.close();
    this.#worker = null;
  }
}

/** A writer worker and the batches it has not answered yet. */
class WorkerConnection {
  readonly #worker: Worker;
  readonly #ready: Promise<void>;
  readonly #waiting = new Map<number, (result: BatchResult | Error) => void>();
  #nextId = 1;

  constructor(h: Harmony) {
    this.#worker = new Worker(new URL("./opWorker.ts", import.meta.url), { type: "module" });
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#worker.onmessage = (event) => {
        const data = event.data;
        if (data.type === "ready") return resolve();
        const settle = this.#waiting.get(data.id);
        if (!settle) return;
        this.#waiting.delete(data.id);
        settle(data.type === "done" ? data.result : new Error(`writing operations failed: ${data.message}`));
      };
      this.#worker.onerror = (event) => {
        event.preventDefault();
        const error = new Error(`the writer worker failed: ${event.message}`);
        reject(error);
        for (const settle of this.#waiting.values()) settle(error);
        this.#waiting.clear();
      };
    });
    this.#worker.postMessage({
      type: "init",
      databaseUrl: h.database.url,
      authToken: Deno.env.get("DATABASE_AUTH_TOKEN"),
      origin: h.config.origin,
    });
  }

  async apply(items: OpSubmission[]): Promise<BatchResult> {
    await this.#ready;
    const id = this.#nextId++;
    const result = await new Promise<BatchResult | Error>((settle) => {
      this.#waiting.set(id, settle);
      this.#worker.postMessage({ type: "batch", id, items });
    });
    if (result instanceof Error) throw result;
    return result;
  }

  close(): void {
    this.#worker.postMessage({ type: "close" });
  }
}
