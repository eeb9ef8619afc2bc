/**
 * The writer worker: applies batches of message operations on its own
 * thread and database connection, so SQLite's synchronous work (and WAL
 * checkpoints) never stall the thread that serves HTTP.
 */
/// <reference lib="deno.worker" />
import { type Client, createClient } from "@libsql/client";
import { sqlOver } from "../db/sql.ts";
import { applyBatch, type OpSubmission } from "./oplog.ts";

export type WorkerRequest =
  | { type: "init"; databaseUrl: string; authToken?: string; origin: string }
  | { type: "batch"; id: number; items: OpSubmission[] }
  | { type: "close" };

let client: Client | null = null;
let origin = "";

/** Batches run one after another: a second write transaction would wait on the first's lock. */
let chain: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  chain = chain.then(() => handle(event.data));
};

async function handle(request: WorkerRequest): Promise<void> {
  if (request.type === "init") {
    origin = request.origin;
    client = createClient({
      url: request.databaseUrl,
      authToken: request.authToken,
      intMode: "number",
      timeout: 10_000,
    });
    self.postMessage({ type: "ready" });
    return;
  }
  if (request.type === "close") {
    client?.close();
    self.close();
    return;
  }
  try {
    const tx = await client!.transaction("write");
    try {
      const result = await applyBatch(sqlOver(tx), origin, request.items);
      await tx.commit();
      self.postMessage({ type: "done", id: request.id, result });
    } finally {
      tx.close();
    }
  } catch (error) {
    self.postMessage({ type: "failed", id: request.id, message: (error as Error).message ?? String(error) });
  }
}
