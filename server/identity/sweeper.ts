/**
 * Forgets what sign-in leaves behind once it is of no use: challenges past
 * their expiry (kept one more lifetime, so a late answer is told "expired"
 * rather than "unknown"), sessions past theirs (including those never used
 * after sign-in, which end an hour after it: auth.ts), and the sign-in
 * windows of addresses (throttle.ts) that ended. Runs at start and then
 * every ten minutes.
 */
import type { Harmony } from "../harmony.ts";
import { CHALLENGE_TTL_MS } from "./auth.ts";
import { SIGN_IN_WINDOW } from "./throttle.ts";

export const SWEEP_INTERVAL_MS = 10 * 60_000;

export interface SweepCounts {
  challenges: number;
  sessions: number;
  windows: number;
}

export async function sweepSignIns(h: Harmony, now = Date.now()): Promise<SweepCounts> {
  const windowStart = now - h.config.signInLimit.seconds * 1000;
  return await h.database.writeSql(async (q) => {
    const deleted = async (sql: string, args: unknown[]) => {
      await q.run(sql, args);
      return Number((await q.all("SELECT changes() AS n"))[0].n);
    };
    return {
      challenges: await deleted("DELETE FROM challenges WHERE expires_at < ?", [now - CHALLENGE_TTL_MS]),
      sessions: await deleted("DELETE FROM sessions WHERE expires_at < ?", [now]),
      // Keys from "sign-in:" up to "sign-in;" (the next character): the sign-in windows, by the key's index.
      windows: await deleted(
        "DELETE FROM rate_windows WHERE key >= ? AND key < ? AND window_start <= ?",
        [SIGN_IN_WINDOW, `${SIGN_IN_WINDOW.slice(0, -1)};`, windowStart],
      ),
    };
  });
}

export interface SignInSweeper {
  close(): Promise<void>;
}

export function startSignInSweeper(
  h: Harmony,
  options: { log?: (line: string) => void; intervalMs?: number } = {},
): SignInSweeper {
  const log = options.log ?? console.log;
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = sweepSignIns(h).catch((error) => log(`sign-in sweeper: ${error}`));
  };
  run();
  const timer = setInterval(run, options.intervalMs ?? SWEEP_INTERVAL_MS);
  return {
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
