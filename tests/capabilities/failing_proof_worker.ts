/**
 * A stand-in for server/proofs/worker.ts that fails on purpose: `delegate`
 * crashes the worker (an uncaught error), `encodeStatusList` answers "ok".
 * For tests of how ProofWorker survives a crashed worker.
 */
/// <reference lib="deno.worker" />
import type { FromWorker, ToWorker } from "../../server/proofs/rpc.ts";

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type !== "call") return;
  if (message.op === "delegate") {
    setTimeout(() => {
      throw new Error("the worker crashed on purpose");
    });
    return;
  }
  self.postMessage({ type: "done", id: message.id, value: "ok" } satisfies FromWorker);
};

self.postMessage({ type: "ready" } satisfies FromWorker);
