/**
 * Full-text search of the channels a reader may read.
 *
 * The index (`message_fts`, an FTS5 table over `search_docs` and
 * `message_index`) is kept in step with message_index by triggers in the
 * same transaction as every change (db/migrations/0007_search_fts.sql).
 *
 * Ranking: newest first, not by relevance. Index keys are published time
 * (search_docs.key), so FTS5 walks its doclists from the highest rowid down
 * and stops after one page: the cost of a page does not grow with the
 * number of hits (a bm25 sort would have to score every message holding a
 * common word). Dates and the cursor are rowid ranges; channel, author and
 * has: filters are tokens of the `meta` column, intersected inside FTS5.
 * Measured limits (bench/search.ts): FTS5 reaches a rowid bound by walking
 * the doclist, so `before:` deep in history costs up to tens of
 * milliseconds for the very commonest words, and a phrase of common words
 * that never occurs walks every message holding all of them.
 *
 * Visibility: only channels `listChannels` gives the reader (public ones,
 * and members-only ones they hold a "read" capability for). The rule is
 * applied in SQL on every row (`m.channel IN (…)`), again on every row
 * returned, and, when the reader sees only a few of the channels, in the
 * MATCH expression too (so the hidden ones are not walked at all).
 */
import { listChannels } from "../channels/channels.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo } from "../shared/model.ts";
import { dayKey, matchExpression } from "./fts.ts";
import { highlightHtml, MARK_END, MARK_START, plainText } from "./highlight.ts";
import { type ParsedQuery, parseQuery, QueryError } from "./query.ts";

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 50;
/** Words of context around the matches in a snippet. */
const SNIPPET_TOKENS = 24;

export interface SearchHit {
  /** The message IRI (urn:uuid:…). */
  id: string;
  channel: { iri: string; id: string; name: string };
  author: { did: string; name: string | null };
  published: string;
  updated: string | null;
  /** The matching part of the text (plain text). */
  text: string;
  /** The same as HTML: escaped, the matches in <mark> (highlight.ts). */
  html: string;
  /** The message in its channel (the permalink page). */
  url: string;
  /** The cursor that continues after this hit. */
  key: number;
}

export interface SearchResult {
  query: string;
  parsed: ParsedQuery;
  hits: SearchHit[];
  /** Pass as `cursor` for the next page; null when there is none. */
  nextCursor: string | null;
}

export interface SearchOptions {
  cursor?: string | null;
  /** A number, or the query parameter as given. */
  limit?: number | string | null;
}

/** The permalink of a message: /channels/{channelId}/messages/{uuid}. */
export function messagePath(channelId: string, messageId: string): string {
  return `/channels/${encodeURIComponent(channelId)}/messages/${
    encodeURIComponent(messageId.replace(/^urn:uuid:/, ""))
  }`;
}

export function parseCursor(cursor: string | null | undefined): number | null {
  if (cursor === null || cursor === undefined || cursor === "") return null;
  if (!/^\d{1,16}$/.test(cursor) || !Number.isSafeInteger(Number(cursor))) {
    throw new QueryError("invalid_cursor", "the cursor is not one this server gave out");
  }
  return Number(cursor);
}

export function parseLimit(limit: string | number | null | undefined): number {
  if (limit === null || limit === undefined || limit === "") return DEFAULT_LIMIT;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new QueryError("invalid_limit", `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

/** Channels named by in: values, among those the reader may read (others look exactly like unknown ones). */
function resolveChannels(values: string[], readable: ChannelInfo[]): string[] {
  const out = new Set<string>();
  for (const value of values) {
    const lower = value.toLowerCase();
    for (const c of readable) {
      if (c.id === value || c.name.toLowerCase() === lower || c.iri === value) out.add(c.iri);
    }
  }
  return [...out];
}

/** DIDs (or fediverse actor IRIs) named by from: values: a DID itself, or a display name or handle. */
async function resolveAuthors(h: Harmony, values: string[]): Promise<string[]> {
  const { profiles, members } = await h.snapshot();
  const out = new Set<string>();
  for (const value of values) {
    if (/^(did:|https?:\/\/)/.test(value)) {
      out.add(value);
      continue;
    }
    const lower = value.toLowerCase();
    for (const [did, profile] of profiles) {
      const handle = profile.remote?.handle?.replace(/^@/, "").toLowerCase();
      if (profile.name.toLowerCase() === lower || handle === lower) out.add(did);
    }
    // A member without a profile, by the start of their key (as the UI shows it).
    for (const did of members.keys()) {
      if (!profiles.has(did) && lower.length >= 8 && did.toLowerCase().startsWith(`did:key:${lower}`)) {
        out.add(did);
      }
    }
  }
  return [...out];
}

/**
 * Runs a search for `actor`. Throws QueryError (400/422) for a query the
 * language does not allow; an unknown member or channel simply finds nothing.
 */
export async function search(
  h: Harmony,
  actor: Actor,
  query: string,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const parsed = parseQuery(query);
  const cursor = parseCursor(options.cursor);
  const limit = parseLimit(options.limit);
  const empty: SearchResult = { query, parsed, hits: [], nextCursor: null };

  const { channels: all, profiles } = await h.snapshot();
  const readable = await listChannels(h, actor);
  if (readable.length === 0) return empty;
  const readableIris = new Set(readable.map((c) => c.iri));

  let channels: string[] = [];
  if (parsed.in.length) {
    channels = resolveChannels(parsed.in, readable);
    if (channels.length === 0) return empty;
  } else if (readable.length * 4 <= all.length) {
    // The reader sees few of the channels: only their messages are walked. Otherwise hidden
    // channels are left out row by row below (measured: a NOT in the MATCH costs more than it saves).
    channels = readable.map((c) => c.iri);
  }
  const authors = parsed.from.length ? await resolveAuthors(h, parsed.from) : [];
  if (parsed.from.length && authors.length === 0) return empty;

  // Key bounds: [low, high).
  let high = Number.MAX_SAFE_INTEGER;
  let low = 0;
  if (parsed.before) high = Math.min(high, dayKey(parsed.before));
  if (parsed.after) low = Math.max(low, dayKey(parsed.after, 1));
  if (cursor !== null) high = Math.min(high, cursor);
  if (low >= high) return empty;

  const match = matchExpression({ terms: parsed.terms, authors, channels, has: parsed.has });
  const visible = [...readableIris];
  const sql = `SELECT message_fts.rowid AS key,
        snippet(message_fts, 0, ?, ?, '…', ${SNIPPET_TOKENS}) AS snippet,
        m.id, m.channel, m.author, m.published, m.updated
      FROM message_fts CROSS JOIN search_docs d ON d.key = message_fts.rowid
        CROSS JOIN message_index m ON m.id = d.message_id
      WHERE message_fts MATCH ? AND message_fts.rowid >= ? AND message_fts.rowid < ?
        AND m.deleted = 0 AND m.channel IN (${visible.map(() => "?").join(",")})
      ORDER BY message_fts.rowid DESC LIMIT ?`;

  // One statement: CROSS JOIN keeps the FTS table as the outer loop; it
  // yields rowids newest first and the LIMIT stops it after one page.
  const rows = (await h.database.client.execute({
    sql,
    args: [MARK_START, MARK_END, match, low, high, ...visible, limit + 1],
  })).rows as unknown as Array<Record<string, unknown>>;

  const byIri = new Map(all.map((c) => [c.iri, c]));
  const hits: SearchHit[] = [];
  for (const r of rows.slice(0, limit)) {
    const channel = byIri.get(String(r.channel));
    // The rule again, on each row: nothing from a channel the reader may not read.
    if (!channel || !readableIris.has(channel.iri)) continue;
    const author = String(r.author);
    hits.push({
      id: String(r.id),
      channel: { iri: channel.iri, id: channel.id, name: channel.name },
      author: {
        did: author,
        name: profiles.get(author)?.name || profiles.get(author)?.remote?.handle || null,
      },
      published: String(r.published),
      updated: r.updated === null ? null : String(r.updated),
      text: plainText(String(r.snippet ?? "")),
      html: highlightHtml(String(r.snippet ?? "")),
      url: messagePath(channel.id, String(r.id)),
      key: Number(r.key),
    });
  }
  const more = rows.length > limit;
  return {
    query,
    parsed,
    hits,
    nextCursor: more ? String(Number(rows[limit - 1].key)) : null,
  };
}
