/**
 * What moderation knows, as quads in the graph {origin}/moderation: bans,
 * timeouts, slow mode per channel, the community's moderation settings,
 * the join lock, alerts for moderators, and blocked fediverse accounts and
 * servers. Read into a per-instance cache
 * (the hot path reads it on every post) that every write here drops after
 * its commit.
 */
import type { Tx } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { dateTime, integer, iri, literal, quad } from "../../db/terms.ts";
import { writeAuthority } from "../authority/grants.ts";
import type { Harmony } from "../harmony.ts";
import { AS, RDF } from "../rdf/vocab.ts";
import { M } from "./vocab.ts";

export interface Ban {
  did: string;
  by: string;
  at: string;
  reason: string | null;
}

export interface Timeout {
  did: string;
  until: string;
  by: string;
}

export interface ModerationSettings {
  /** At most `messages` posts per member every `seconds`; null: no limit. */
  rateLimit: { messages: number; seconds: number } | null;
  /** More than `joins` joins within `seconds` locks joining; null: off. */
  raidProtection: { joins: number; seconds: number } | null;
  /** Seconds a DID must have been known here (since its first sign-in) before joining or posting; 0: off. */
  minimumDidAge: number;
}

export interface JoinLock {
  at: string;
  /** Who locked: an admin's DID, or the community's own (raid detection). */
  by: string;
}

export interface Alert {
  id: string;
  kind: string;
  summary: string;
  at: string;
  resolved: boolean;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

/** A fediverse account or a whole server whose activities are refused (server/moderation/fediverse.ts). */
export interface RemoteBlock {
  kind: "actor" | "server";
  /** The actor's IRI, or the server's origin (`https://host[:port]`). */
  target: string;
  by: string;
  at: string;
  reason: string | null;
}

export interface ModerationState {
  bans: Map<string, Ban>;
  timeouts: Map<string, Timeout>;
  /** Seconds between one member's posts, by channel IRI. */
  slowMode: Map<string, number>;
  settings: ModerationSettings;
  joinsLocked: JoinLock | null;
  /** Newest first. */
  alerts: Alert[];
  /** Blocked fediverse accounts, by actor IRI. */
  blockedActors: Map<string, RemoteBlock>;
  /** Blocked fediverse servers, by host (with the port when it is not the scheme's default). */
  blockedServers: Map<string, RemoteBlock>;
}

/** What keeps a DID from acting now: a ban, or a timeout still running. */
export type Sanction = { kind: "banned"; reason: string | null } | { kind: "timed_out"; until: string };

export function sanctionOn(state: ModerationState, did: string, now = Date.now()): Sanction | null {
  const ban = state.bans.get(did);
  if (ban) return { kind: "banned", reason: ban.reason };
  const timeout = state.timeouts.get(did);
  if (timeout && Date.parse(timeout.until) > now) return { kind: "timed_out", until: timeout.until };
  return null;
}

/** Whether anyone is banned or timed out at all (a quiet community skips every look-up). */
export function anySanctions(state: ModerationState): boolean {
  return state.bans.size > 0 || state.timeouts.size > 0;
}

export const moderationGraph = (h: Harmony) => `${h.config.origin}/moderation`;
export const alertIri = (h: Harmony, id: string) => `${h.config.origin}/moderation/alerts/${id}`;

const cache = new WeakMap<Harmony, Promise<ModerationState>>();
/** The loaded state, for checks on the hot path that need not wait a turn for an already settled promise. */
const loaded = new WeakMap<Harmony, ModerationState>();

const watched = new WeakSet<Harmony>();

export function moderationState(h: Harmony): Promise<ModerationState> {
  let state = cache.get(h);
  if (!state) {
    if (!watched.has(h)) {
      // Writes to the community graph (an identity move, say) may touch moderation too.
      watched.add(h);
      h.hub.subscribeCommunity(() => moderationChanged(h));
    }
    const loading = state = load(h);
    cache.set(h, loading);
    loading.then((value) => {
      if (cache.get(h) === loading) loaded.set(h, value);
    }, () => {
      if (cache.get(h) === loading) cache.delete(h);
    });
  }
  return state;
}

/** The moderation state, without waiting when it is loaded already (the common case). */
export function moderationStateNow(h: Harmony): ModerationState | Promise<ModerationState> {
  return loaded.get(h) ?? moderationState(h);
}

/** Drops the cache (after a write to the moderation graph). */
export function moderationChanged(h: Harmony): void {
  cache.delete(h);
  loaded.delete(h);
}

/**
 * Runs a moderation write; `community` when it also changes the community
 * or authority graphs (kick, ban), so their caches are dropped too (and the
 * proof service is loaded first: ending a membership revokes credentials).
 */
export async function writeModeration<T>(
  h: Harmony,
  fn: (tx: Tx) => Promise<T>,
  options: { community?: boolean } = {},
): Promise<T> {
  try {
    return options.community ? await writeAuthority(h, fn) : await h.database.write(fn);
  } finally {
    moderationChanged(h);
  }
}

async function load(h: Harmony): Promise<ModerationState> {
  const bySubject = new Map<string, Map<string, string>>();
  for (const q of await quadStore.match(h.db, { graph: moderationGraph(h) })) {
    let props = bySubject.get(q.subject.value);
    if (!props) bySubject.set(q.subject.value, props = new Map());
    props.set(q.predicate.value, q.object.value);
  }
  const state: ModerationState = {
    bans: new Map(),
    timeouts: new Map(),
    slowMode: new Map(),
    settings: { rateLimit: null, raidProtection: null, minimumDidAge: 0 },
    joinsLocked: null,
    alerts: [],
    blockedActors: new Map(),
    blockedServers: new Map(),
  };
  for (const [subject, p] of bySubject) {
    const get = (term: { value: string }) => p.get(term.value);
    if (get(RDF.type) === M.Ban.value) {
      state.bans.set(subject, {
        did: subject,
        by: get(M.bannedBy) ?? "",
        at: get(M.bannedAt) ?? "",
        reason: get(M.reason) ?? null,
      });
    }
    if (get(M.timedOutUntil)) {
      state.timeouts.set(subject, {
        did: subject,
        until: get(M.timedOutUntil)!,
        by: get(M.timedOutBy) ?? "",
      });
    }
    if (get(M.slowModeSeconds)) state.slowMode.set(subject, Number(get(M.slowModeSeconds)));
    if (subject === h.iris.community) {
      const n = (term: { value: string }) => Number(get(term) ?? 0);
      if (n(M.rateLimitMessages) > 0) {
        state.settings.rateLimit = { messages: n(M.rateLimitMessages), seconds: n(M.rateLimitSeconds) };
      }
      if (n(M.raidJoins) > 0) {
        state.settings.raidProtection = { joins: n(M.raidJoins), seconds: n(M.raidSeconds) };
      }
      state.settings.minimumDidAge = n(M.minimumDidAge);
      if (get(M.joinsLockedAt)) {
        state.joinsLocked = { at: get(M.joinsLockedAt)!, by: get(M.joinsLockedBy) ?? "" };
      }
    }
    if (get(RDF.type) === M.ModerationAlert.value) {
      state.alerts.push({
        id: subject.slice(subject.lastIndexOf("/") + 1),
        kind: get(M.alertKind) ?? "",
        summary: get(AS.summary) ?? "",
        at: get(AS.published) ?? "",
        resolved: get(M.resolvedAt) !== undefined,
        resolvedAt: get(M.resolvedAt) ?? null,
        resolvedBy: get(M.resolvedBy) ?? null,
      });
    }
    const blocked = get(RDF.type) === M.BlockedActor.value
      ? "actor"
      : get(RDF.type) === M.BlockedServer.value
      ? "server"
      : null;
    if (blocked) {
      const block: RemoteBlock = {
        kind: blocked,
        target: subject,
        by: get(M.blockedBy) ?? "",
        at: get(M.blockedAt) ?? "",
        reason: get(M.reason) ?? null,
      };
      const host = URL.canParse(subject) ? new URL(subject).host : null;
      if (blocked === "actor") state.blockedActors.set(subject, block);
      else if (host) state.blockedServers.set(host, block);
    }
  }
  state.alerts.sort((a, b) => b.at.localeCompare(a.at));
  return state;
}

// ---- writes, inside the caller's transaction (then moderationChanged)

export async function writeBan(tx: Tx, h: Harmony, ban: Ban): Promise<void> {
  const g = moderationGraph(h);
  const s = iri(ban.did);
  for (const p of [RDF.type, M.bannedBy, M.bannedAt, M.reason]) {
    await quadStore.remove(tx, { graph: g, subject: s, predicate: p });
  }
  const quads = [
    quad(s, RDF.type, M.Ban, g),
    quad(s, M.bannedBy, iri(ban.by), g),
    quad(s, M.bannedAt, dateTime(ban.at), g),
  ];
  if (ban.reason) quads.push(quad(s, M.reason, literal(ban.reason), g));
  await quadStore.insert(tx, quads);
}

export async function writeRemoteBlock(tx: Tx, h: Harmony, block: RemoteBlock): Promise<void> {
  const g = moderationGraph(h);
  const s = iri(block.target);
  await quadStore.remove(tx, { graph: g, subject: s });
  const quads = [
    quad(s, RDF.type, block.kind === "actor" ? M.BlockedActor : M.BlockedServer, g),
    quad(s, M.blockedBy, iri(block.by), g),
    quad(s, M.blockedAt, dateTime(block.at), g),
  ];
  if (block.reason) quads.push(quad(s, M.reason, literal(block.reason), g));
  await quadStore.insert(tx, quads);
}

export async function removeRemoteBlock(tx: Tx, h: Harmony, target: string): Promise<void> {
  await quadStore.remove(tx, { graph: moderationGraph(h), subject: iri(target) });
}

export async function removeBan(tx: Tx, h: Harmony, did: string): Promise<void> {
  const g = moderationGraph(h);
  for (const p of [RDF.type, M.bannedBy, M.bannedAt, M.reason]) {
    await quadStore.remove(tx, { graph: g, subject: iri(did), predicate: p });
  }
}

export async function writeTimeout(tx: Tx, h: Harmony, timeout: Timeout | { did: string; until: null }) {
  const g = moderationGraph(h);
  const s = iri(timeout.did);
  await quadStore.remove(tx, { graph: g, subject: s, predicate: M.timedOutUntil });
  await quadStore.remove(tx, { graph: g, subject: s, predicate: M.timedOutBy });
  if (timeout.until === null) return;
  await quadStore.insert(tx, [
    quad(s, M.timedOutUntil, dateTime(timeout.until), g),
    quad(s, M.timedOutBy, iri((timeout as Timeout).by), g),
  ]);
}

export async function writeSlowMode(tx: Tx, h: Harmony, channelIri: string, seconds: number): Promise<void> {
  const g = moderationGraph(h);
  await quadStore.remove(tx, { graph: g, subject: iri(channelIri), predicate: M.slowModeSeconds });
  if (seconds > 0) {
    await quadStore.insert(tx, [quad(iri(channelIri), M.slowModeSeconds, integer(seconds), g)]);
  }
}

export async function writeSettings(tx: Tx, h: Harmony, settings: ModerationSettings): Promise<void> {
  const g = moderationGraph(h);
  const s = iri(h.iris.community);
  const values: Array<[typeof M.raidJoins, number]> = [
    [M.rateLimitMessages, settings.rateLimit?.messages ?? 0],
    [M.rateLimitSeconds, settings.rateLimit?.seconds ?? 0],
    [M.raidJoins, settings.raidProtection?.joins ?? 0],
    [M.raidSeconds, settings.raidProtection?.seconds ?? 0],
    [M.minimumDidAge, settings.minimumDidAge],
  ];
  for (const [p, value] of values) {
    await quadStore.remove(tx, { graph: g, subject: s, predicate: p });
    if (value > 0) await quadStore.insert(tx, [quad(s, p, integer(value), g)]);
  }
}

export async function writeJoinLock(tx: Tx, h: Harmony, lock: JoinLock | null): Promise<void> {
  const g = moderationGraph(h);
  const s = iri(h.iris.community);
  await quadStore.remove(tx, { graph: g, subject: s, predicate: M.joinsLockedAt });
  await quadStore.remove(tx, { graph: g, subject: s, predicate: M.joinsLockedBy });
  if (lock) {
    await quadStore.insert(tx, [
      quad(s, M.joinsLockedAt, dateTime(lock.at), g),
      quad(s, M.joinsLockedBy, iri(lock.by), g),
    ]);
  }
}

export async function writeAlert(tx: Tx, h: Harmony, alert: Alert): Promise<void> {
  const g = moderationGraph(h);
  const s = iri(alertIri(h, alert.id));
  await quadStore.insert(tx, [
    quad(s, RDF.type, M.ModerationAlert, g),
    quad(s, M.alertKind, literal(alert.kind), g),
    quad(s, AS.summary, literal(alert.summary), g),
    quad(s, AS.published, dateTime(alert.at), g),
  ]);
}

export async function resolveAlert(tx: Tx, h: Harmony, id: string, by: string, at: string): Promise<void> {
  const g = moderationGraph(h);
  const s = iri(alertIri(h, id));
  await quadStore.set(tx, g, s, M.resolvedAt, dateTime(at));
  await quadStore.set(tx, g, s, M.resolvedBy, iri(by));
}
