/**
 * A switchable link in front of an instance: its public origin points at
 * this forwarder, so cutting it partitions the instance from its peers
 * while tests keep talking to the instance directly.
 */
export interface Link {
  /** The public origin peers use. */
  origin: string;
  port: number;
  cut(): void;
  heal(): void;
  readonly isCut: boolean;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Race-free: see tests/helpers/ports.ts. */
export { freePort } from "./ports.ts";

/** Forwards every request on `port` to `127.0.0.1:targetPort`, unless cut. */
export function startLink(port: number, targetPort: number): Link {
  let cut = false;
  // The Host header passes through, as a reverse proxy keeps it: HTTP signatures cover it.
  const client = Deno.createHttpClient({ allowHost: true });
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
    if (cut) return new Response("partitioned", { status: 503 });
    const url = new URL(request.url);
    const target = `http://127.0.0.1:${targetPort}${url.pathname}${url.search}`;
    try {
      const response = await fetch(target, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: "manual",
        client,
      });
      return new Response(response.body, { status: response.status, headers: response.headers });
    } catch {
      return new Response("the instance is down", { status: 502 });
    }
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    cut: () => void (cut = true),
    heal: () => void (cut = false),
    get isCut() {
      return cut;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      client.close();
    },
  };
}
