/**
 * What each member has read: a read marker per member per channel (the
 * Lamport time of the newest message they saw, in `read_markers`), unread
 * counts from it, and the notifications (mentions of the member, directly
 * or through a role they hold, in channels they can read).
 *
 * Markers only move forward. A message is unread when it is newer than the
 * marker (Lamport order), not the member's own, and not deleted; a mention
 * is unread when its message is unread and it was not marked read on its own
 * (`mention_reads`).
 */
import { listChannels } from "../channels/channels.ts";
import { invalid, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo } from "../shared/model.ts";
import { requireRead } from "../community/permissions.ts";
import { rolesOf } from "./mentions.ts";

/** Counts stop here: the sidebar shows "99+". */
export const UNREAD_CAP = 100;

export interface ChannelUnread {
  /** Messages after the read marker (at most UNREAD_CAP). */
  messages: number;
  /** Unread mentions of the member in it. */
  mentions: number;
}

export interface AttentionSummary {
  /** By channel id. */
  channels: Record<string, ChannelUnread>;
  /** Unread mentions over every channel the member can read (the bell). */
  mentions: number;
  /** The role IRIs whose mentions notify the member. */
  roles: string[];
}

export interface Notification {
  message: string;
  channelId: string;
  channelName: string;
  author: string;
  content: string;
  published: string;
  lamport: number;
  unread: boolean;
  /** The message's page: /channels/{channelId}/messages/{uuid}. */
  permalink: string;
}

async function rows(h: Harmony, sql: string, args: unknown[]): Promise<Record<string, unknown>[]> {
  const result = await h.database.client.execute({ sql, args: args as never[] });
  return result.rows as unknown as Record<string, unknown>[];
}

export function permalinkOf(channelId: string, messageId: string): string {
  return `/channels/${channelId}/messages/${messageId.replace(/^urn:uuid:/, "")}`;
}

function requireDid(actor: Actor): string {
  if (!actor.did) throw unauthorized("sign in to keep track of what you have read");
  return actor.did;
}

/**
 * Moves the member's marker in a channel forward: to `lamport`, or to the
 * channel's newest message. Returns the marker now stored.
 */
export async function markChannelRead(
  h: Harmony,
  actor: Actor,
  channel: ChannelInfo,
  lamport?: unknown,
): Promise<number> {
  const did = requireDid(actor);
  await requireRead(h, actor, channel);
  let target: number;
  if (lamport === undefined || lamport === null) {
    const [row] = await rows(h, "SELECT max(lamport) AS v FROM message_index WHERE channel = ?", [
      channel.iri,
    ]);
    target = Number(row?.v ?? 0);
  } else if (Number.isSafeInteger(lamport) && (lamport as number) >= 0) {
    target = lamport as number;
  } else {
    throw invalid("invalid_marker", "lamport must be a whole number at least 0");
  }
  // A marker that is already there (a page viewed again with nothing new) costs no write, hence no commit.
  const [current] = await rows(h, "SELECT lamport FROM read_markers WHERE member = ? AND channel = ?", [
    did,
    channel.iri,
  ]);
  if (current && Number(current.lamport) >= target) return Number(current.lamport);
  const now = Date.now();
  await h.database.writeSql((sql) =>
    sql.run(
      `INSERT INTO read_markers (member, channel, lamport, updated) VALUES (?, ?, ?, ?)
         ON CONFLICT (member, channel) DO UPDATE SET lamport = max(lamport, excluded.lamport), updated = excluded.updated`,
      [did, channel.iri, target, now],
    )
  );
  const [row] = await rows(h, "SELECT lamport FROM read_markers WHERE member = ? AND channel = ?", [
    did,
    channel.iri,
  ]);
  return Number(row?.lamport ?? target);
}

async function markers(h: Harmony, did: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await rows(h, "SELECT channel, lamport FROM read_markers WHERE member = ?", [did])) {
    out.set(String(r.channel), Number(r.lamport));
  }
  return out;
}

const unreadMentionsSql = (targets: number) => `
  SELECT m.message, m.channel, m.lamport FROM mentions m
    LEFT JOIN read_markers r ON r.member = ? AND r.channel = m.channel
    WHERE m.target IN (${Array(targets).fill("?").join(",")}) AND m.author != ?
      AND m.lamport > coalesce(r.lamport, 0)
      AND NOT EXISTS (SELECT 1 FROM mention_reads x WHERE x.member = ? AND x.message = m.message)`;

/**
 * Unread messages and mentions per readable channel, and the bell's count.
 * `readable`: the actor's readable channels, when the caller has listed them already.
 */
export async function attentionSummary(
  h: Harmony,
  actor: Actor,
  readable?: ChannelInfo[],
): Promise<AttentionSummary> {
  const did = requireDid(actor);
  const channels = readable ?? await listChannels(h, actor);
  const roles = await rolesOf(h, did);
  const marks = await markers(h, did);
  const out: Record<string, ChannelUnread> = {};
  const byIri = new Map(channels.map((c) => [c.iri, c]));
  for (const channel of channels) out[channel.id] = { messages: 0, mentions: 0 };
  // Every channel's bounded count in one statement (one trip through the driver, not one per channel).
  if (channels.length) {
    const counts = await rows(
      h,
      channels.map(() =>
        `SELECT ? AS channel, (SELECT count(*) FROM (SELECT 1 FROM message_index
           WHERE channel = ? AND lamport > ? AND author != ? AND deleted = 0 LIMIT ${UNREAD_CAP})) AS n`
      ).join(" UNION ALL "),
      channels.flatMap((c) => [c.id, c.iri, marks.get(c.iri) ?? 0, did]),
    );
    for (const r of counts) out[String(r.channel)].messages = Number(r.n ?? 0);
  }
  const targets = [did, ...roles];
  const seen = new Set<string>();
  let total = 0;
  for (const r of await rows(h, unreadMentionsSql(targets.length), [did, ...targets, did, did])) {
    const channel = byIri.get(String(r.channel));
    if (!channel || seen.has(String(r.message))) continue;
    seen.add(String(r.message));
    out[channel.id].mentions++;
    total++;
  }
  return { channels: out, mentions: total, roles };
}

/** The member's mentions, newest first (read and unread), in channels they can read. */
export async function listNotifications(h: Harmony, actor: Actor, limit = 50): Promise<Notification[]> {
  const did = requireDid(actor);
  const channels = new Map((await listChannels(h, actor)).map((c) => [c.iri, c]));
  const targets = [did, ...await rolesOf(h, did)];
  const marks = await markers(h, did);
  const found = await rows(
    h,
    `SELECT DISTINCT m.message, m.channel, m.lamport, i.author, i.content, i.published,
        EXISTS (SELECT 1 FROM mention_reads x WHERE x.member = ? AND x.message = m.message) AS marked
       FROM mentions m JOIN message_index i ON i.id = m.message
       WHERE m.target IN (${targets.map(() => "?").join(",")}) AND m.author != ? AND i.deleted = 0
       ORDER BY m.lamport DESC LIMIT ?`,
    [did, ...targets, did, limit * 2],
  );
  const out: Notification[] = [];
  for (const r of found) {
    const channel = channels.get(String(r.channel));
    if (!channel) continue;
    const lamport = Number(r.lamport);
    out.push({
      message: String(r.message),
      channelId: channel.id,
      channelName: channel.name,
      author: String(r.author),
      content: String(r.content),
      published: String(r.published),
      lamport,
      unread: !Number(r.marked) && lamport > (marks.get(channel.iri) ?? 0),
      permalink: permalinkOf(channel.id, String(r.message)),
    });
    if (out.length >= limit) break;
  }
  return out;
}

/** Marks one mention of the member read (without reading its whole channel). */
export async function markMentionRead(h: Harmony, actor: Actor, messageId: unknown): Promise<void> {
  const did = requireDid(actor);
  if (typeof messageId !== "string" || !/^urn:uuid:[0-9a-f-]{36}$/.test(messageId)) {
    throw invalid("invalid_message", "message must be a message id (urn:uuid:…)");
  }
  await h.database.writeSql((sql) =>
    sql.run("INSERT INTO mention_reads (member, message, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [
      did,
      messageId,
      Date.now(),
    ])
  );
}

/** Marks every unread mention of the member read; returns how many. */
export async function markAllMentionsRead(h: Harmony, actor: Actor): Promise<number> {
  const did = requireDid(actor);
  const targets = [did, ...await rolesOf(h, did)];
  const unread = [
    ...new Set(
      (await rows(h, unreadMentionsSql(targets.length), [did, ...targets, did, did])).map((r) =>
        String(r.message)
      ),
    ),
  ];
  if (unread.length === 0) return 0;
  const now = Date.now();
  await h.database.writeSql(async (sql) => {
    for (let i = 0; i < unread.length; i += 300) {
      const chunk = unread.slice(i, i + 300);
      await sql.run(
        `INSERT INTO mention_reads (member, message, at) VALUES ${
          chunk.map(() => "(?, ?, ?)").join(",")
        } ON CONFLICT DO NOTHING`,
        chunk.flatMap((id) => [did, id, now]),
      );
    }
  });
  return unread.length;
}
