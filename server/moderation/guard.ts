/**
 * The checks on the hot path: every state-changing request (bans), every
 * post (timeouts, minimum DID age, slow mode, rate limits), every edit
 * (timeouts) and every join (bans, the join lock, the minimum DID age, raid
 * detection). They read the cached moderation state and, only when a rule
 * is switched on, one indexed row; a quiet community pays a map lookup.
 *
 * Slow mode and rate limits reserve the member's slot before the post is
 * written and give it back when the post is refused, so two posts sent at
 * once cannot both slip through. The slot of an accepted post is kept: for
 * slow mode the last post's time comes from message_index (after a
 * restart), for rate limits the window is written to rate_windows.
 */
import type { MiddlewareHandler } from "hono";
import { sql } from "drizzle-orm";
import { allowed } from "../authority/authorize.ts";
import { forbidden, HarmonyError } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { newUrnUuid } from "../shared/ids.ts";
import type { ChannelInfo } from "../shared/model.ts";
import type { AppEnv } from "../http/env.ts";
import { communityAction, recordAudit, sqlOf } from "../audit/log.ts";
import { moderationState, writeAlert, writeJoinLock, writeModeration } from "./state.ts";
import "./mover.ts";

/** "3 minutes 20 seconds", "2 hours 5 minutes", "4 days 1 hour": at most the two largest units. */
export function formatDuration(ms: number): string {
  let seconds = Math.max(1, Math.ceil(ms / 1000));
  const units: Array<[string, number]> = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  const parts: string[] = [];
  for (const [name, size] of units) {
    const n = Math.floor(seconds / size);
    if (n > 0) {
      parts.push(`${n} ${name}${n === 1 ? "" : "s"}`);
      seconds -= n * size;
    } else if (parts.length) break;
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** A refusal to wait: 429 with Retry-After (seconds). */
export class RetryLater extends HarmonyError {
  readonly retryAfter: number;
  constructor(code: string, message: string, waitMs: number) {
    super(429, code, message);
    this.retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  }
}

interface Window {
  start: number;
  count: number;
}

/** Per-instance runtime state: reservations and caches of rows (never the only copy). */
interface Runtime {
  /** Last post time (ms, server clock) by `${channel} ${did}`. */
  lastPost: Map<string, number>;
  windows: Map<string, Window>;
  firstSeen: Map<string, number>;
}

const runtimes = new WeakMap<Harmony, Runtime>();
const MAX_CACHED = 50_000;

function runtime(h: Harmony): Runtime {
  let r = runtimes.get(h);
  if (!r) runtimes.set(h, r = { lastPost: new Map(), windows: new Map(), firstSeen: new Map() });
  return r;
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (!map.has(key) && map.size >= MAX_CACHED) map.delete(map.keys().next().value!);
  map.set(key, value);
}

// ---- bans

export async function isBanned(h: Harmony, did: string): Promise<boolean> {
  return (await moderationState(h)).bans.has(did);
}

export async function refuseIfBanned(h: Harmony, did: string): Promise<void> {
  const ban = (await moderationState(h)).bans.get(did);
  if (ban) {
    throw new HarmonyError(
      403,
      "banned",
      `you are banned from this community${ban.reason ? `: ${ban.reason}` : ""}`,
    );
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses every state-changing request of a banned DID ("you are banned");
 * signing in and out stay open, so the member can read why.
 */
export function refuseBanned(h: Harmony): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const did = c.get("actor")?.did;
    if (did && !SAFE_METHODS.has(c.req.method)) {
      const path = c.req.path;
      if (!path.startsWith("/api/auth/") && path !== "/ui/signout") await refuseIfBanned(h, did);
    }
    await next();
  };
}

// ---- first sighting (minimum DID age)

/**
 * Records the first time `did` did something in the community: tried to
 * join or to post (once; later calls change nothing). Signing in is not
 * enough, or anyone could age DIDs in advance by signing them in.
 */
export async function recordFirstSeen(h: Harmony, did: string, now = Date.now()): Promise<void> {
  const r = runtime(h);
  if (r.firstSeen.has(did)) return;
  const seen = await h.database.writeSql(async (q) => {
    await q.run("INSERT INTO did_first_seen (did, first_seen) VALUES (?, ?) ON CONFLICT DO NOTHING", [
      did,
      now,
    ]);
    const [row] = await q.all("SELECT first_seen FROM did_first_seen WHERE did = ?", [did]);
    return Number(row.first_seen);
  });
  remember(r.firstSeen, did, seen);
}

/** When `did` was first seen here: its first join attempt or post, or its membership if older. */
export async function firstSeen(h: Harmony, did: string): Promise<number | null> {
  const r = runtime(h);
  let seen = r.firstSeen.get(did);
  if (seen === undefined) {
    const rows = await h.db.all<{ first_seen: number }>(
      sql`SELECT first_seen FROM did_first_seen WHERE did = ${did}`,
    );
    if (rows.length) remember(r.firstSeen, did, seen = Number(rows[0].first_seen));
  }
  const joined = (await h.snapshot()).members.get(did)?.joined;
  const times = [seen, joined ? Date.parse(joined) : undefined].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : null;
}

/** Milliseconds until `did` is old enough here; 0 when it is (or no minimum is set). */
async function ageLeft(h: Harmony, did: string, now: number): Promise<number> {
  const minimum = (await moderationState(h)).settings.minimumDidAge * 1000;
  if (minimum <= 0) return 0;
  const since = (await firstSeen(h, did)) ?? now;
  return Math.max(0, since + minimum - now);
}

// ---- timeouts

function refuseIfTimedOut(
  state: Awaited<ReturnType<typeof moderationState>>,
  did: string,
  now: number,
  doing: string,
) {
  const timeout = state.timeouts.get(did);
  if (!timeout) return;
  const left = Date.parse(timeout.until) - now;
  if (left > 0) {
    throw new HarmonyError(
      403,
      "timed_out",
      `you are timed out and cannot ${doing} for another ${formatDuration(left)}`,
    );
  }
}

/** Moderators are exempt from slow mode, rate limits and the minimum age (as on Discord). */
async function exempt(h: Harmony, did: string, channel: ChannelInfo): Promise<boolean> {
  return (await allowed(h, did, "slow-mode", channel)) !== null ||
    (await allowed(h, did, "delete-any", channel)) !== null;
}

/** Edits: refused while the member is timed out. */
export async function checkEdit(h: Harmony, did: string): Promise<void> {
  refuseIfTimedOut(await moderationState(h), did, Date.now(), "edit messages");
}

/** Reactions (when they exist): refused while the member is timed out. */
export async function checkReact(h: Harmony, did: string): Promise<void> {
  refuseIfTimedOut(await moderationState(h), did, Date.now(), "react to messages");
}

/**
 * How far back a member's last post is looked for in a slow-mode channel:
 * this many of the channel's newest messages. Each member posts at most
 * once per interval there, so their last post within it is among them.
 */
const SLOW_MODE_SCAN = 2000;

async function loadLastPost(h: Harmony, key: string, channel: string, did: string): Promise<void> {
  const r = runtime(h);
  if (r.lastPost.has(key)) return;
  // The newest messages come from the end of the (channel, lamport, author, id) index without touching
  // the rows; only the member's own message is read.
  const [row] = await h.db.all<{ published: string }>(sql`
    SELECT published FROM message_index WHERE id = (
      SELECT id FROM (
        SELECT author, id FROM message_index WHERE channel = ${channel}
        ORDER BY lamport DESC, author DESC, id DESC LIMIT ${SLOW_MODE_SCAN}
      ) WHERE author = ${did} LIMIT 1
    )`);
  const last = row ? Date.parse(row.published) : 0;
  if (!r.lastPost.has(key)) remember(r.lastPost, key, Number.isNaN(last) ? 0 : last);
}

async function loadWindow(h: Harmony, did: string): Promise<void> {
  const r = runtime(h);
  if (r.windows.has(did)) return;
  const [row] = await h.db.all<{ window_start: number; count: number }>(
    sql`SELECT window_start, count FROM rate_windows WHERE key = ${did}`,
  );
  if (!r.windows.has(did)) {
    remember(
      r.windows,
      did,
      row ? { start: Number(row.window_start), count: Number(row.count) } : { start: 0, count: 0 },
    );
  }
}

async function saveWindow(h: Harmony, did: string, window: Window): Promise<void> {
  await h.database.writeSql((q) =>
    q.run(
      `INSERT INTO rate_windows (key, window_start, count) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, count = excluded.count`,
      [did, window.start, window.count],
    )
  );
}

/**
 * Posts `submit()` if the member may post in `channel` now: not timed
 * out, old enough here, not faster than slow mode or the rate limit allow.
 * Refusals say how long to wait. A duplicate (a retried post) uses no slot.
 */
export async function guardPost<T extends { status: string }>(
  h: Harmony,
  did: string,
  channel: ChannelInfo,
  opId: string,
  submit: () => Promise<T>,
): Promise<T> {
  const state = await moderationState(h);
  const now = Date.now();
  refuseIfTimedOut(state, did, now, "post");
  const slow = state.slowMode.get(channel.iri) ?? 0;
  const rate = state.settings.rateLimit;
  if (state.settings.minimumDidAge > 0) {
    await recordFirstSeen(h, did, now);
    const left = await ageLeft(h, did, now);
    if (left > 0 && !(await exempt(h, did, channel))) {
      throw new HarmonyError(
        403,
        "too_new",
        `new identities must wait before posting here: you can post in ${formatDuration(left)}`,
      );
    }
  }
  if (slow <= 0 && !rate) return await submit();

  const r = runtime(h);
  const slowKey = `${channel.iri} ${did}`;
  if (slow > 0) await loadLastPost(h, slowKey, channel.iri, did);
  if (rate) await loadWindow(h, did);
  // From here to the reservations nothing awaits: concurrent posts see each other's slots.
  let letThrough: boolean | null = null;
  const slowWait = slow > 0 ? (r.lastPost.get(slowKey) ?? 0) + slow * 1000 - now : 0;
  let window = rate ? r.windows.get(did)! : null;
  if (window && rate && now - window.start >= rate.seconds * 1000) window = { start: now, count: 0 };
  const rateWait = window && rate && window.count >= rate.messages
    ? window.start + rate.seconds * 1000 - now
    : 0;
  if (slowWait > 0 || rateWait > 0) {
    // A retry of a post already stored is answered as such, not refused.
    letThrough = (await exempt(h, did, channel)) ||
      (await h.db.all(sql`SELECT 1 FROM op_log WHERE id = ${opId}`)).length > 0;
    if (!letThrough && slowWait > 0) {
      throw new RetryLater(
        "slow_mode",
        `slow mode is on in #${channel.name}: wait ${formatDuration(slowWait)} before posting again`,
        slowWait,
      );
    }
    if (!letThrough) {
      throw new RetryLater(
        "rate_limited",
        `you are posting too fast (at most ${rate!.messages} messages every ${
          formatDuration(rate!.seconds * 1000)
        }): try again in ${formatDuration(rateWait)}`,
        rateWait,
      );
    }
    return await submit();
  }
  const previousLast = r.lastPost.get(slowKey);
  const previousWindow = rate ? r.windows.get(did)! : null;
  if (slow > 0) remember(r.lastPost, slowKey, now);
  const reserved = window ? { start: window.start, count: window.count + 1 } : null;
  if (reserved) remember(r.windows, did, reserved);
  const giveBack = () => {
    if (slow > 0 && r.lastPost.get(slowKey) === now) {
      if (previousLast === undefined) r.lastPost.delete(slowKey);
      else r.lastPost.set(slowKey, previousLast);
    }
    const current = r.windows.get(did);
    if (reserved && current && current.start === reserved.start) {
      r.windows.set(did, { start: current.start, count: Math.max(0, current.count - 1) });
    } else if (reserved && !current && previousWindow) r.windows.set(did, previousWindow);
  };
  let outcome: T;
  try {
    outcome = await submit();
  } catch (error) {
    giveBack();
    throw error;
  }
  if (outcome.status === "duplicate") {
    giveBack();
    return outcome;
  }
  if (reserved) await saveWindow(h, did, r.windows.get(did) ?? reserved);
  return outcome;
}

// ---- joins

/**
 * Whether `did` may join now: not banned, joins not locked, old enough
 * here. With raid protection on, the attempt is counted; one too many
 * within the window locks joins (and alerts moderators) and is refused.
 * A refusal writes nothing, except the lock itself and the DID's first
 * sighting (the minimum age counts from a DID's first attempt).
 */
export async function admitJoin(h: Harmony, did: string): Promise<void> {
  const state = await moderationState(h);
  const now = Date.now();
  await refuseIfBanned(h, did);
  if (state.joinsLocked) {
    throw forbidden("joining is locked for now (too many joins in a short time); an admin must unlock it");
  }
  // The attempt itself is the DID's first sighting, if it is one: the wait counts from now.
  await recordFirstSeen(h, did, now);
  const left = await ageLeft(h, did, now);
  if (left > 0) {
    throw forbidden(`new identities must wait before joining: you can join in ${formatDuration(left)}`);
  }
  const raid = state.settings.raidProtection;
  if (!raid) return;
  const locked = await writeModeration(h, async (tx) => {
    const q = sqlOf(tx);
    await q.run("INSERT INTO join_log (did, at) VALUES (?, ?)", [did, now]);
    // Now and then, forget attempts far older than any window.
    if (now % 16 === 0) await q.run("DELETE FROM join_log WHERE at < ?", [now - 7 * 86400_000]);
    const [row] = await q.all("SELECT count(*) AS n FROM join_log WHERE at > ?", [now - raid.seconds * 1000]);
    const joins = Number(row.n);
    if (joins <= raid.joins) return false;
    const at = new Date(now).toISOString();
    const lock = await communityAction(h, "lock-joins", h.iris.community, {
      reason: `more than ${raid.joins} joins within ${formatDuration(raid.seconds * 1000)}`,
    });
    await writeJoinLock(tx, h, { at, by: lock.actor });
    await writeAlert(tx, h, {
      id: newUrnUuid().slice("urn:uuid:".length),
      kind: "raid",
      summary:
        `${joins} join attempts within ${
          formatDuration(raid.seconds * 1000)
        } (the limit is ${raid.joins}): ` +
        "joining was locked automatically; an admin can unlock it",
      at,
      resolved: false,
      resolvedAt: null,
      resolvedBy: null,
    });
    await recordAudit(tx, h, lock);
    return true;
  });
  if (locked) {
    throw forbidden("joining is locked for now (too many joins in a short time); an admin must unlock it");
  }
}
