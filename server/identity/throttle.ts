/**
 * Sign-in limits per address: how many challenges, and how many sign-ins,
 * one address may ask for in a window (HARMONY_SIGN_IN_LIMIT, 30 a minute
 * by default). Each window is a row of rate_windows, keyed
 * "sign-in:<step> <address>", so a restart does not reset it; the sweeper
 * (sweeper.ts) removes windows that ended. `address` is a requester key
 * (server/shared/requester.ts): an IPv6 client counts by its /64.
 *
 * The limits are for strangers: a member's successful sign-in is given
 * back (the command-line client signs in for every command), and the
 * sessions one DID can pile up are bounded in auth.ts instead.
 */
import type { Harmony } from "../harmony.ts";
import { RetryLater } from "../moderation/guard.ts";
import { formatDuration } from "../shared/duration.ts";

export type SignInStep = "challenge" | "session";

/** The prefix of the sign-in windows' keys in rate_windows (members' post windows are keyed by DID). */
export const SIGN_IN_WINDOW = "sign-in:";

function windowKey(step: SignInStep, address: string): string {
  return `${SIGN_IN_WINDOW}${step} ${address}`;
}

/** Counts one `step` from `address`; refuses with 429 and Retry-After once the window is full. */
export async function countSignInStep(
  h: Harmony,
  step: SignInStep,
  address: string,
  now = Date.now(),
): Promise<void> {
  const { count: most, seconds } = h.config.signInLimit;
  const span = seconds * 1000;
  const key = windowKey(step, address);
  // One statement: a new window, or one more in the current one (the count stops one past the limit).
  const [row] = await h.database.writeSql((q) =>
    q.all(
      `INSERT INTO rate_windows (key, window_start, count) VALUES (?, ?, 1)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN window_start <= ? THEN 1 ELSE min(count + 1, ?) END,
           window_start = CASE WHEN window_start <= ? THEN excluded.window_start ELSE window_start END
         RETURNING window_start, count`,
      [key, now, now - span, most + 1, now - span],
    )
  );
  if (Number(row.count) <= most) return;
  const wait = Number(row.window_start) + span - now;
  const what = step === "challenge" ? "sign-in challenges" : "sign-ins";
  throw new RetryLater(
    "sign_in_limited",
    `too many ${what} from your address (at most ${most} every ${formatDuration(span)}): ` +
      `try again in ${formatDuration(wait)}`,
    wait,
  );
}

/** A member signed in from `address`: the attempt and its challenge no longer count. */
export async function forgiveSignIn(h: Harmony, address: string): Promise<void> {
  await h.database.writeSql((q) =>
    q.run("UPDATE rate_windows SET count = max(count - 1, 0) WHERE key IN (?, ?)", [
      windowKey("challenge", address),
      windowKey("session", address),
    ])
  );
}
