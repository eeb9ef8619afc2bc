/**
 * The proof service: signing and verifying capabilities (ZCAP delegations)
 * and credentials (VC 2.0, Bitstring Status Lists) with eddsa-rdfc-2022,
 * which needs RDF canonicalization and so the whole JSON-LD stack.
 *
 * That stack is over ten megabytes of heap once loaded, and an instance
 * needs it now and then: when a member joins or gets a role, and when a
 * capability chain is verified (authorize.ts keeps verified chains for ten
 * minutes). So a running instance keeps it in a worker (ProofWorker) that
 * starts on the first call and stops after a quiet spell, which gives the
 * memory back. The first call after a stop waits for the worker to load
 * (a few hundred milliseconds).
 *
 * `localProofs` runs the same operations on the calling thread, loading
 * them on first use: for tools and tests that make a Harmony without
 * starting an instance.
 *
 * Functions in the arguments (a signer's `sign`) stay on the calling
 * thread; the worker calls them back (rpc.ts), so private keys never cross.
 *
 * V8 hands the heap pages of a finished isolate to a process-wide pool and
 * releases them from a task on another isolate's task runner, which an idle
 * Deno event loop may never run: the stopped worker's ~17 MiB stayed
 * resident in about half the runs of the memory benchmark. `deno task
 * start` passes `--no-memory-pool-share-memory-on-teardown`, so they are
 * returned when the worker stops.
 *
 * Verifying a presented credential (admission by credential, status lists
 * of other issuers) is rarer still and loads the stack on the calling
 * thread when it happens (credentials/vcStack.ts); bridges verify
 * invocations there too, as part of the federation layer.
 */
import type { DelegateOptions, Zcap } from "../capabilities/zcap.ts";
import type { DelegationResult, VerifyDelegationOptions } from "../capabilities/delegation.ts";
import type { SuiteSigner } from "../capabilities/signer.ts";
import type { StatusListChange } from "./operations.ts";
import { crossedError, errorFrom, type FromWorker, type ToWorker, withHandles } from "./rpc.ts";

export type { StatusListChange };

export interface Proofs {
  /** Delegates a capability (zcap.ts `delegate`); the signer signs on the calling thread. */
  delegate(options: DelegateOptions): Promise<Zcap>;
  /** Verifies a delegated capability and its chain (delegation.ts). */
  verifyDelegation(capability: unknown, options: VerifyDelegationOptions): Promise<DelegationResult>;
  /** Signs a credential (eddsa-rdfc-2022) as of `date`. */
  issueCredential(
    credential: Record<string, unknown>,
    signer: SuiteSigner,
    date: Date,
  ): Promise<Record<string, unknown>>;
  /** A Bitstring Status List's encoded form after a change (operations.ts). */
  encodeStatusList(change: StatusListChange): Promise<string>;
  /**
   * Has the operations loaded. Call it before a write transaction that will
   * sign, so the transaction does not hold the writer while they load.
   */
  warm(): Promise<void>;
  /** Stops the worker, if any; calls after this fail. */
  close(): Promise<void>;
}

type OperationName = Exclude<keyof Proofs, "close" | "warm">;

function operationsModule() {
  return import("./operations.ts");
}

/** The operations on the calling thread, loaded on first use. */
export const localProofs: Proofs = {
  delegate: async (options) => (await operationsModule()).delegate(options),
  verifyDelegation: async (capability, options) =>
    (await operationsModule()).verifyDelegation(capability, options),
  issueCredential: async (credential, signer, date) =>
    (await operationsModule()).issueCredential(credential, signer, date),
  encodeStatusList: async (change) => (await operationsModule()).encodeStatusList(change),
  warm: async () => void await operationsModule(),
  close: () => Promise.resolve(),
};

interface Call {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  functions: Array<(...args: unknown[]) => unknown>;
}

/** A worker thread and the calls it has not answered. */
class WorkerThread {
  readonly #worker: Worker;
  readonly #calls = new Map<number, Call>();
  readonly ready: Promise<void>;
  #rejectReady: (error: Error) => void = () => {};
  #failed: Error | null = null;

  constructor(script: URL, onFailure: (thread: WorkerThread) => void) {
    this.#worker = new Worker(script, { type: "module" });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#rejectReady = reject;
      this.#worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        if (message.type === "ready") return resolve();
        const call = this.#calls.get(message.id);
        if (!call) return;
        if (message.type === "callback") return void this.#answer(message, call);
        this.#calls.delete(message.id);
        if (message.type === "done") call.resolve(message.value);
        else call.reject(errorFrom(message.error));
      };
      this.#worker.onerror = (event) => {
        event.preventDefault();
        this.#fail(new Error(`the proof worker failed: ${event.message}`));
        onFailure(this);
      };
    });
    // Nobody may be waiting yet; the failure is reported to the calls.
    this.ready.catch(() => {});
  }

  get busy(): boolean {
    return this.#calls.size > 0;
  }

  /** Every call, answered or waiting to start, ends with `error`; no later call runs. */
  #fail(error: Error): void {
    this.#failed ??= error;
    this.#rejectReady(this.#failed);
    for (const call of this.#calls.values()) call.reject(this.#failed);
    this.#calls.clear();
  }

  async #answer(message: Extract<FromWorker, { type: "callback" }>, call: Call): Promise<void> {
    const reply: ToWorker = { type: "answer", id: message.id, callback: message.callback };
    try {
      const fn = call.functions[message.fn];
      if (!fn) throw new Error("the proof worker called back a function it was not given");
      reply.value = await fn(...message.args);
    } catch (error) {
      reply.error = crossedError(error);
    }
    if (!this.#calls.has(message.id) || this.#failed) return;
    try {
      this.#worker.postMessage(reply);
    } catch (error) {
      // The answer cannot be cloned (say, a function): the worker gets the error instead.
      this.#worker.postMessage({ ...reply, value: undefined, error: crossedError(error) });
    }
  }

  async call(id: number, op: OperationName, args: unknown[]): Promise<unknown> {
    await this.ready;
    if (this.#failed) throw this.#failed;
    const functions: Call["functions"] = [];
    const crossing = args.map((arg) => withHandles(arg, functions));
    return await new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject, functions });
      try {
        this.#worker.postMessage({ type: "call", id, op, args: crossing } satisfies ToWorker);
      } catch (error) {
        // Arguments that cannot be cloned: this call fails, the worker goes on.
        this.#calls.delete(id);
        reject(error);
      }
    });
  }

  stop(): void {
    this.#worker.terminate();
    this.#fail(new Error("the proof worker was stopped"));
  }
}

/** Stop the worker after this long without a call. */
export const PROOF_WORKER_IDLE_MS = 20_000;

/** The operations in a worker that starts on demand and stops when idle. */
export class ProofWorker implements Proofs {
  #thread: WorkerThread | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #nextId = 1;
  #inFlight = 0;
  #closed = false;
  /** Workers started so far (tests and benchmarks). */
  starts = 0;

  /** `script` is the worker's module; tests give one that fails on purpose. */
  constructor(
    readonly idleMs = PROOF_WORKER_IDLE_MS,
    readonly script: URL = new URL("./worker.ts", import.meta.url),
  ) {}

  /** Whether a worker is running now. */
  get running(): boolean {
    return this.#thread !== null;
  }

  delegate(options: DelegateOptions): Promise<Zcap> {
    return this.#call("delegate", [options]) as Promise<Zcap>;
  }

  verifyDelegation(capability: unknown, options: VerifyDelegationOptions): Promise<DelegationResult> {
    return this.#call("verifyDelegation", [capability, options]) as Promise<DelegationResult>;
  }

  issueCredential(
    credential: Record<string, unknown>,
    signer: SuiteSigner,
    date: Date,
  ): Promise<Record<string, unknown>> {
    return this.#call("issueCredential", [credential, signer, date]) as Promise<Record<string, unknown>>;
  }

  encodeStatusList(change: StatusListChange): Promise<string> {
    return this.#call("encodeStatusList", [change]) as Promise<string>;
  }

  async warm(): Promise<void> {
    await this.#run((thread) => thread.ready);
  }

  #call(op: OperationName, args: unknown[]): Promise<unknown> {
    return this.#run((thread) => thread.call(this.#nextId++, op, args));
  }

  async #run<T>(use: (thread: WorkerThread) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error("the proof service is closed");
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    if (!this.#thread) {
      this.#thread = new WorkerThread(this.script, (failed) => {
        if (this.#thread === failed) this.#thread = null;
      });
      this.starts++;
    }
    this.#inFlight++;
    try {
      return await use(this.#thread);
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#armIdleTimer();
    }
  }

  #armIdleTimer(): void {
    if (this.#closed || !this.#thread) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.#inFlight === 0 && this.#thread && !this.#thread.busy) this.stop();
    }, this.idleMs);
    // A quiet worker is not a reason for the process to stay up.
    Deno.unrefTimer(this.#idleTimer);
  }

  /** Stops the worker now (the next call starts another). */
  stop(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    this.#thread?.stop();
    this.#thread = null;
  }

  close(): Promise<void> {
    this.#closed = true;
    this.stop();
    return Promise.resolve();
  }
}
