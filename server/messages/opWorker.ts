/**
 * The writer worker: applies batches of message operations on its own
 * thread and database connection, so SQLite's synchronous work (and WAL
 * checkpoints) never stall the thread that serves HTTP.
 */
/// <reference lib="deno.worker" />
import { type Client, createClient } from "@libsql/client";
import { LocalConnection } from "../../db/connection.ts";
import { sqlOver, type SqlTransaction } from "../../db/sql.ts";
import { applyBatch, type OpSubmission } from "./oplog.ts";

export type WorkerRequest =
  | { type: "init"; databaseUrl: string; authToken?: string; origin: string }
  | { type: "batch"; id: number; items: OpSubmission[] }
  | { type: "close" };

/** Runs `fn` in one write transaction and commits it durably. */
type Writer = {
  write<T>(fn: (sql: SqlTransaction) => Promise<T>): Promise<T>;
  close(): void;
};

/** A local file is written through a connection that keeps its prepared statements; a server through the client. */
function openWriter(url: string, authToken?: string): Writer {
  const busyTimeoutMs = 10_000;
  if (url.startsWith("file:")) return new LocalConnection(url.slice("file:".length), busyTimeoutMs);
  const client: Client = createClient({ url, authToken, intMode: "number", timeout: busyTimeoutMs });
  return {
    async write(fn) {
      const tx = await client.transaction("write");
      try {
        const result = await fn(sqlOver(tx));
        await tx.commit();
        return result;
      } finally {
        tx.close();
      }
    },
    close: () => client.close(),
  };
}

let writer: Writer | null = null;
let origin = "";

/** Batches run one after another: a second write transaction would wait on the first's lock. */
let chain: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  chain = chain.then(() => handle(event.data));
};

async function handle(request: WorkerRequest): Promise<void> {
  if (request.type === "init") {
    origin = request.origin;
    writer = openWriter(request.databaseUrl, request.authToken);
    self.postMessage({ type: "ready" });
    return;
  }
  if (request.type === "close") {
    writer?.close();
    self.close();
    return;
  }
  const failed = (error: unknown) =>
    self.postMessage({ type: "failed", id: request.id, message: (error as Error).message ?? String(error) });
  try {
    const result = await writer!.write((sql) => applyBatch(sql, origin, request.items));
    self.postMessage({ type: "done", id: request.id, result });
  } catch (error) {
    failed(error);
  }
}
