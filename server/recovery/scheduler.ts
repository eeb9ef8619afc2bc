/**
 * Completes recoveries without an operator: the due times are persisted
 * (quads), so on start and then on a timer the service moves every
 * identity whose time lock has run out. The timer sleeps until the
 * earliest due time, and never longer than a minute (another process
 * sharing the database may have started a time lock, and expired device
 * pairings are swept on the same beat).
 */
import type { Harmony } from "../harmony.ts";
import { sweepPairings } from "./pairing.ts";
import { completeDueRecoveries, nextDue, recoveryHooks } from "./recovery.ts";

const HEARTBEAT_MS = 60_000;

export interface RecoveryService {
  /** Runs a check now (and reschedules). */
  poke(): void;
  /** Resolves when no check is running; used by tests. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const services = new WeakMap<Harmony, RecoveryService>();

recoveryHooks.locked = (h) => services.get(h)?.poke();

export function startRecoveryService(
  h: Harmony,
  options: { log?: (line: string) => void } = {},
): RecoveryService {
  const log = options.log ?? ((line: string) => console.error(line));
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;

  const schedule = async () => {
    if (closed) return;
    const next = await nextDue(h).catch(() => null);
    if (closed) return;
    const wait = next === null ? HEARTBEAT_MS : Math.max(0, Math.min(HEARTBEAT_MS, next - Date.now()));
    if (timer !== null) clearTimeout(timer);
    // A due time in the past still waits a few milliseconds, so clocks that
    // disagree by a hair cannot spin the loop.
    timer = setTimeout(() => {
      timer = null;
      check();
    }, Math.max(wait, 5));
  };

  const check = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        do {
          again = false;
          const moved = await completeDueRecoveries(h);
          for (const id of moved) log(`recovery ${id}: the identity moved`);
          await sweepPairings(h);
        } while (again && !closed);
      } catch (error) {
        if (!closed) log(`recovery check failed: ${(error as Error).message}`);
      } finally {
        await schedule();
        running = null;
      }
    })();
  };

  const service: RecoveryService = {
    poke: () => check(),
    async idle() {
      while (running) await running;
    },
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      while (running) await running;
      services.delete(h);
    },
  };
  services.set(h, service);
  check();
  return service;
}

/** The running service of an instance, if any. */
export function recoveryService(h: Harmony): RecoveryService | null {
  return services.get(h) ?? null;
}
