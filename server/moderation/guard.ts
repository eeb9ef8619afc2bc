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
 *
 * Every limit is counted against the member who answers for the poster
 * (server/authority/holders.ts): a registered bot's posts are its owner's,
 * so a member and all their bots share one slow-mode slot, one rate window
 * and the owner's DID age. (A delegate that is not a member or a bot holds
 * nothing here; a member acting through another's delegation answers for
 * themselves, and the delegation stops while its delegator is sanctioned.)
 */
import type { MiddlewareHandler } from "hono";
import { sql } from "drizzle-orm";
import { allowed } from "../authority/authorize.ts";
import { accountableMember } from "../authority/holders.ts";
import { authorityState } from "../authority/store.ts";
import type { Snapshot } from "../community/snapshot.ts";
import { forbidden, HarmonyError } from "../shared/errors.ts";
import { formatDuration } from "../shared/duration.ts";
import type { Harmony } from "../harmony.ts";
import { newUrnUuid } from "../shared/ids.ts";
import type { ChannelInfo } from "../shared/model.ts";
import type { AppEnv } from "../http/env.ts";
import { communityAction, recordAudit, sqlOf } from "../audit/log.ts";
import { moderationState, writeAlert, writeJoinLock, writeModeration } from "./state.ts";
import "./mover.ts";

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

/**
 * The DIDs a non-member acts for here: the member who registered it as a
 * bot, and everyone above it in the chains of the capabilities it holds or
 * held (a ban revokes what the banned DID holds, so revoked links count).
 * A member acts for themselves only.
 */
async function actsFor(h: Harmony, did: string): Promise<Set<string>> {
  const out = new Set<string>();
  const snapshot = await h.snapshot();
  if (snapshot.members.has(did)) return out;
  const bot = snapshot.registeredBots.get(did);
  if (bot) out.add(bot.owner);
  const authority = await authorityState(h);
  for (const held of authority.byHolder.get(did) ?? []) {
    for (let parent = held.parent, hops = 0; parent && hops < 16; hops++) {
      const link = authority.byId.get(parent);
      if (!link) break;
      out.add(link.holder);
      parent = link.parent;
    }
  }
  out.delete(did);
  return out;
}

/**
 * Whether operations by `did` are refused as a banned DID's (the bridge
 * inbox and anti-entropy ask): it is banned, or it is no member here and
 * acts for a banned DID, as its bot or through a delegation from it.
 */
export async function isBanned(h: Harmony, did: string): Promise<boolean> {
  const state = await moderationState(h);
  if (state.bans.size === 0) return false;
  if (state.bans.has(did)) return true;
  for (const principal of await actsFor(h, did)) if (state.bans.has(principal)) return true;
  return false;
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

/** Refuses while `did`, or the member who answers for it (`who`), is timed out. */
function refuseIfTimedOut(
  state: Awaited<ReturnType<typeof moderationState>>,
  did: string,
  now: number,
  doing: string,
  who = did,
) {
  for (const subject of who === did ? [did] : [did, who]) {
    const timeout = state.timeouts.get(subject);
    if (!timeout) continue;
    const left = Date.parse(timeout.until) - now;
    if (left <= 0) continue;
    throw new HarmonyError(
      403,
      "timed_out",
      subject === did
        ? `you are timed out and cannot ${doing} for another ${formatDuration(left)}`
        : `your owner is timed out: their bots cannot ${doing} for another ${formatDuration(left)}`,
    );
  }
}

/** The member who answers for `did` (itself, or a bot's owner), and the DIDs whose posts count as theirs. */
function accountable(snapshot: Snapshot, did: string): { who: string; authors: string[] } {
  const who = accountableMember(snapshot, did) ?? did;
  const authors = [who, ...[...snapshot.bots.values()].filter((b) => b.owner === who).map((b) => b.did)];
  return { who, authors };
}

/** Moderators are exempt from slow mode, rate limits and the minimum age (as on Discord). */
async function exempt(h: Harmony, did: string, channel: ChannelInfo): Promise<boolean> {
  return (await allowed(h, did, "slow-mode", channel)) !== null ||
    (await allowed(h, did, "delete-any", channel)) !== null;
}

/** Edits: refused while the member (or a bot's owner) is timed out. */
export async function checkEdit(h: Harmony, did: string): Promise<void> {
  const who = accountableMember(await h.snapshot(), did) ?? did;
  refuseIfTimedOut(await moderationState(h), did, Date.now(), "edit messages", who);
}

/** Reactions: refused while the member (or a bot's owner) is timed out. */
export async function checkReact(h: Harmony, did: string): Promise<void> {
  const who = accountableMember(await h.snapshot(), did) ?? did;
  refuseIfTimedOut(await moderationState(h), did, Date.now(), "react to messages", who);
}

/**
 * How far back a member's last post is looked for in a slow-mode channel:
 * this many of the channel's newest messages. Each member posts at most
 * once per interval there, so their last post within it is among them.
 */
const SLOW_MODE_SCAN = 2000;

async function loadLastPost(h: Harmony, key: string, channel: string, authors: string[]): Promise<void> {
  const r = runtime(h);
  if (r.lastPost.has(key)) return;
  // The newest messages come from the end of the (channel, lamport, author, id) index without touching
  // the rows; only the member's own message (or one of their bots') is read.
  const [row] = await h.db.all<{ published: string }>(sql`
    SELECT published FROM message_index WHERE id = (
      SELECT id FROM (
        SELECT author, id FROM message_index WHERE channel = ${channel}
        ORDER BY lamport DESC, author DESC, id DESC LIMIT ${SLOW_MODE_SCAN}
      ) WHERE author IN (${sql.join(authors.map((a) => sql`${a}`), sql`, `)}) LIMIT 1
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
  // Limits are the accountable member's: a bot's posts are its owner's.
  const { who, authors } = accountable(await h.snapshot(), did);
  const shared = who === did ? "" : " (a bot's posts count as its owner's)";
  refuseIfTimedOut(state, did, now, "post", who);
  const slow = state.slowMode.get(channel.iri) ?? 0;
  const rate = state.settings.rateLimit;
  if (state.settings.minimumDidAge > 0) {
    await recordFirstSeen(h, did, now);
    const left = await ageLeft(h, who, now);
    if (left > 0 && !(await exempt(h, who, channel))) {
      throw new HarmonyError(
        403,
        "too_new",
        `new identities must wait before posting here: you can post in ${formatDuration(left)}${shared}`,
      );
    }
  }
  if (slow <= 0 && !rate) return await submit();

  const r = runtime(h);
  const slowKey = `${channel.iri} ${who}`;
  if (slow > 0) await loadLastPost(h, slowKey, channel.iri, authors);
  if (rate) await loadWindow(h, who);
  // From here to the reservations nothing awaits: concurrent posts see each other's slots.
  let letThrough: boolean | null = null;
  const slowWait = slow > 0 ? (r.lastPost.get(slowKey) ?? 0) + slow * 1000 - now : 0;
  let window = rate ? r.windows.get(who)! : null;
  if (window && rate && now - window.start >= rate.seconds * 1000) window = { start: now, count: 0 };
  const rateWait = window && rate && window.count >= rate.messages
    ? window.start + rate.seconds * 1000 - now
    : 0;
  if (slowWait > 0 || rateWait > 0) {
    // A retry of a post already stored is answered as such, not refused.
    letThrough = (await exempt(h, who, channel)) ||
      (await h.db.all(sql`SELECT 1 FROM op_log WHERE id = ${opId}`)).length > 0;
    if (!letThrough && slowWait > 0) {
      throw new RetryLater(
        "slow_mode",
        `slow mode is on in #${channel.name}: wait ${formatDuration(slowWait)} before posting again${shared}`,
        slowWait,
      );
    }
    if (!letThrough) {
      throw new RetryLater(
        "rate_limited",
        `you are posting too fast (at most ${rate!.messages} messages every ${
          formatDuration(rate!.seconds * 1000)
        }): try again in ${formatDuration(rateWait)}${shared}`,
        rateWait,
      );
    }
    return await submit();
  }
  const previousLast = r.lastPost.get(slowKey);
  const previousWindow = rate ? r.windows.get(who)! : null;
  if (slow > 0) remember(r.lastPost, slowKey, now);
  const reserved = window ? { start: window.start, count: window.count + 1 } : null;
  if (reserved) remember(r.windows, who, reserved);
  const giveBack = () => {
    if (slow > 0 && r.lastPost.get(slowKey) === now) {
      if (previousLast === undefined) r.lastPost.delete(slowKey);
      else r.lastPost.set(slowKey, previousLast);
    }
    const current = r.windows.get(who);
    if (reserved && current && current.start === reserved.start) {
      r.windows.set(who, { start: current.start, count: Math.max(0, current.count - 1) });
    } else if (reserved && !current && previousWindow) r.windows.set(who, previousWindow);
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
  if (reserved) await saveWindow(h, who, r.windows.get(who) ?? reserved);
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
