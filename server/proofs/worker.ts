/**
 * The proof worker (mod.ts, ProofWorker): runs operations.ts on its own
 * thread and heap, calling back into the instance for the functions it was
 * handed (a signer's `sign`).
 */
/// <reference lib="deno.worker" />
import * as operations from "./operations.ts";
import { crossedError, errorFrom, type FromWorker, type ToWorker, withStandIns } from "./rpc.ts";

type Operation = (...args: unknown[]) => Promise<unknown>;

const post = (message: FromWorker) => self.postMessage(message);
const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
let nextCallback = 1;

function standInFor(id: number) {
  return (fn: number) => (...args: unknown[]) =>
    new Promise((resolve, reject) => {
      const callback = nextCallback++;
      waiting.set(callback, { resolve, reject });
      try {
        post({ type: "callback", id, callback, fn, args });
      } catch (error) {
        waiting.delete(callback);
        throw error;
      }
    });
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "answer") {
    const pending = waiting.get(message.callback);
    waiting.delete(message.callback);
    if (message.error) pending?.reject(errorFrom(message.error));
    else pending?.resolve(message.value);
    return;
  }
  const operation = (operations as unknown as Record<string, Operation>)[message.op];
  try {
    if (typeof operation !== "function") throw new Error(`no proof operation ${message.op}`);
    const args = message.args.map((arg) => withStandIns(arg, standInFor(message.id)));
    post({ type: "done", id: message.id, value: await operation(...args) });
  } catch (error) {
    post({ type: "failed", id: message.id, error: crossedError(error) });
  }
};

post({ type: "ready" });
