/**
 * A quiet instance gives its memory back. After a burst of work V8 keeps
 * the heap it grew. Its own memory reducer shrinks it later, from delayed
 * tasks that an idle Deno event loop runs late or not at all, so how small
 * an idle instance gets varied from run to run. Once the instance has
 * served no request for `quietMs`, this runs V8's memory-reducing major
 * collection (the one it runs under memory pressure) once; the next
 * request re-arms it. Measured with the memory benchmark's flow, five runs
 * each: idle RSS 92.0–93.8 MiB with it, 91.9–95.5 MiB without.
 *
 * It needs V8's `gc` function, which `deno task start` exposes with
 * `--v8-flags=--expose-gc`; without it this does nothing.
 */

export interface IdleReclaimer {
  /** Something happened (a request): wait for a new quiet spell. */
  touch(): void;
  /** Collections run so far. */
  readonly reclaims: number;
  close(): void;
}

type Collect = () => unknown;

/** V8's memory-reducing collection, when the process exposes `gc`; null otherwise. */
export function exposedCollect(): Collect | null {
  const gc = (globalThis as { gc?: (options?: Record<string, string>) => unknown }).gc;
  if (typeof gc !== "function") return null;
  return () => gc({ type: "major", execution: "sync", flavor: "last-resort" });
}

export const QUIET_MS = 30_000;

export function idleReclaimer(
  options: { quietMs?: number; collect?: Collect | null } = {},
): IdleReclaimer {
  const quietMs = options.quietMs ?? QUIET_MS;
  const collect = options.collect === undefined ? exposedCollect() : options.collect;
  let last = Date.now();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let reclaims = 0;
  let closed = false;

  function arm(delay: number): void {
    timer = setTimeout(fire, delay);
    // Waiting for quiet is no reason for the process to stay up.
    Deno.unrefTimer(timer);
  }

  function fire(): void {
    timer = null;
    if (closed) return;
    const quietFor = Date.now() - last;
    if (quietFor < quietMs) return arm(quietMs - quietFor);
    reclaims++;
    try {
      collect!();
    } catch {
      // A failed collection leaves memory as it was; nothing else depends on it.
    }
  }

  const reclaimer: IdleReclaimer = {
    touch() {
      last = Date.now();
      if (timer === null && collect && !closed) arm(quietMs);
    },
    get reclaims() {
      return reclaims;
    },
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
  reclaimer.touch();
  return reclaimer;
}
