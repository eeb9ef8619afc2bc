/**
 * A port for a server a test starts later. Chosen from 20000-31999, below
 * the range the system hands out for port 0 (32768 and up), so it never
 * races with instances that other tests start on port 0 at the same time;
 * a port found in use is skipped.
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    try {
      Deno.listen({ hostname: "0.0.0.0", port }).close();
      return port;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error("no free port found");
}
