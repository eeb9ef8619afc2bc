/** Reading conversation state for pages and the API: reactions, pins, threads, quoted replies. */
import { type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import type { SqlTransaction } from "../../db/sql.ts";
import type { MessageView } from "../shared/model.ts";
import type { ExtrasMap, MessageExtras, ReactionSummary, ReplyQuote, ThreadSummary } from "./model.ts";

/** Plain positional SQL over a drizzle connection (for code shared with the writer worker). */
export function sqlOverQueryable(q: Queryable): SqlTransaction {
  const build = (text: string, args: unknown[] = []): SQL => {
    const parts = text.split("?");
    const chunks: SQL[] = [sql.raw(parts[0])];
    args.forEach((arg, i) => chunks.push(sql`${arg}`, sql.raw(parts[i + 1])));
    return sql.join(chunks, sql.raw(""));
  };
  return {
    all: (text, args) => q.all<Record<string, unknown>>(build(text, args)),
    run: async (text, args) => {
      await q.run(build(text, args));
    },
  };
}

const ids = (values: string[]) => sql.join(values.map((v) => sql`${v}`), sql`, `);

/** Reactions per message: emoji in the order they were first used, distinct members, the viewer's own. */
/** The viewer of a rendering shared by every reader (the live stream): see ReactionSummary.byActor. */
export const EVERY_VIEWER = "*";

export async function reactionsOf(
  q: Queryable,
  messages: string[],
  viewer: string | null,
): Promise<Map<string, ReactionSummary[]>> {
  const out = new Map<string, ReactionSummary[]>();
  if (messages.length === 0) return out;
  // Counted in SQL from the (message, emoji, actor, lamport) index alone.
  const rows = await q.all<{ message: string; emoji: string; n: number; first: number }>(sql`
    SELECT message, emoji, count(DISTINCT actor) AS n, min(lamport) AS first FROM reactions
    WHERE message IN (${ids(messages)}) GROUP BY message, emoji ORDER BY message, first, emoji`);
  for (const r of rows) {
    let list = out.get(r.message);
    if (!list) out.set(r.message, list = []);
    list.push({ emoji: r.emoji, count: Number(r.n), mine: [] });
  }
  if (viewer === EVERY_VIEWER) {
    const all = await q.all<{ message: string; emoji: string; actor: string; op_id: string }>(sql`
      SELECT message, emoji, actor, op_id FROM reactions WHERE message IN (${ids(messages)})
      ORDER BY lamport, op_id`);
    for (const r of all) {
      const summary = out.get(r.message)?.find((e) => e.emoji === r.emoji);
      if (!summary) continue;
      summary.byActor ??= {};
      (summary.byActor[r.actor] ??= []).push(r.op_id);
    }
  } else if (viewer) {
    const own = await q.all<{ message: string; emoji: string; op_id: string }>(sql`
      SELECT message, emoji, op_id FROM reactions WHERE actor = ${viewer} AND message IN (${ids(messages)})
      ORDER BY lamport, op_id`);
    for (const r of own) out.get(r.message)?.find((e) => e.emoji === r.emoji)?.mine.push(r.op_id);
  }
  return out;
}

export async function pinnedOf(q: Queryable, messages: string[]): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const rows = await q.all<{ message: string }>(
    sql`SELECT message FROM pins WHERE pinned = 1 AND message IN (${ids(messages)})`,
  );
  return new Set(rows.map((r) => r.message));
}

/** Reply counts and last activity of threads, by root; unread for `viewer` when given. */
export async function threadSummaries(
  q: Queryable,
  roots: string[],
  viewer: string | null,
): Promise<Map<string, ThreadSummary>> {
  const out = new Map<string, ThreadSummary>();
  if (roots.length === 0) return out;
  const rows = await q.all<{ root: string; n: number; last: string; lamport: number }>(sql`
    SELECT thread_root AS root, count(*) AS n, max(published) AS last, max(lamport) AS lamport
    FROM message_index WHERE thread_root IN (${ids(roots)}) AND deleted = 0 GROUP BY thread_root`);
  const reads = new Map<string, number>();
  if (viewer) {
    for (
      const r of await q.all<{ root: string; lamport: number }>(
        sql`SELECT root, lamport FROM thread_reads WHERE member = ${viewer} AND root IN (${ids(roots)})`,
      )
    ) reads.set(r.root, Number(r.lamport));
  }
  for (const r of rows) {
    out.set(r.root, {
      replies: Number(r.n),
      lastReply: r.last,
      lastLamport: Number(r.lamport),
      unread: viewer ? Number(r.lamport) > (reads.get(r.root) ?? 0) : undefined,
    });
  }
  return out;
}

/** First line of a message, shortened. */
export function excerptOf(content: string, max = 120): string {
  const line = content.split("\n").find((l) => l.trim().length > 0)?.trim() ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export async function quotesOf(q: Queryable, targets: string[]): Promise<Map<string, ReplyQuote>> {
  const out = new Map<string, ReplyQuote>();
  if (targets.length === 0) return out;
  const rows = await q.all<{ id: string; channel: string; author: string; content: string; deleted: number }>(
    sql`SELECT id, channel, author, content, deleted FROM message_index WHERE id IN (${ids(targets)})`,
  );
  for (const r of rows) {
    out.set(r.id, {
      id: r.id,
      channel: r.channel,
      author: r.deleted ? null : r.author,
      excerpt: r.deleted ? "" : excerptOf(r.content),
      deleted: Boolean(r.deleted),
    });
  }
  for (const id of targets) {
    if (!out.has(id)) out.set(id, { id, channel: "", author: null, excerpt: "", deleted: true });
  }
  return out;
}

/** Everything the conversation features show on these messages, for one viewer. */
export async function extrasFor(
  h: { db: Queryable; config: { origin: string } },
  messages: MessageView[],
  viewer: string | null,
): Promise<ExtrasMap> {
  const q = h.db;
  const list = messages.map((m) => m.id);
  const replyTargets = [...new Set(messages.flatMap((m) => (m.inReplyTo ? [m.inReplyTo] : [])))];
  const roots = messages.filter((m) => !m.thread).map((m) => m.id);
  const [reactions, pinned, threads, quotes] = await Promise.all([
    reactionsOf(q, list, viewer),
    pinnedOf(q, list),
    threadSummaries(q, roots, viewer === EVERY_VIEWER ? null : viewer),
    quotesOf(q, replyTargets),
  ]);
  const out: ExtrasMap = new Map();
  for (const m of messages) {
    const extras: MessageExtras = {
      reactions: reactions.get(m.id) ?? [],
      pinned: pinned.has(m.id),
      thread: threads.get(m.id) ?? null,
      replyTo: m.inReplyTo ? quotes.get(m.inReplyTo) ?? null : null,
      origin: h.config.origin,
    };
    out.set(m.id, extras);
  }
  return out;
}
