/**
 * Turns a parsed query into an FTS5 MATCH expression over `message_fts`
 * (db/migrations/0007_search_fts.sql), and dates into index keys.
 *
 * Every piece of user text is written as an FTS5 string ("...", with `"`
 * doubled), so none of it can be read as FTS5 syntax: `AND`, `NEAR`, `*`,
 * `^`, `-`, `:` and parentheses inside a term are plain characters, which
 * the tokenizer then drops or splits on. The only operators in the
 * expression are the ones written here.
 *
 * The `meta` column holds filter tokens, so filters are intersections of
 * doclists inside FTS5 rather than row-by-row checks: "msg" (every
 * message), "c" + hex(channel IRI), "a" + hex(author), "haslink",
 * "hasfile".
 */
import type { Term } from "./query.ts";

/** Keys are published milliseconds times this, plus a counter within the millisecond. */
export const KEY_SCALE = 1024;
/** The largest millisecond a key can carry (keys stay safe integers). */
const MAX_MS = 8_700_000_000_000;

/** An FTS5 string: the text in double quotes, inner quotes doubled. */
export function ftsString(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** One word or phrase as an FTS5 phrase (a prefix phrase when asked). */
export function ftsTerm(term: Term): string {
  return term.prefix ? `${ftsString(term.text)} *` : ftsString(term.text);
}

/** SQLite's hex() of a string's UTF-8 bytes (upper case), as the triggers compute it. */
export function hexUtf8(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) out += byte.toString(16).padStart(2, "0");
  return out.toUpperCase();
}

export const channelToken = (channelIri: string) => `c${hexUtf8(channelIri)}`;
export const authorToken = (did: string) => `a${hexUtf8(did)}`;

/** The first key of a day (YYYY-MM-DD, UTC). */
export function dayKey(day: string, plusDays = 0): number {
  const ms = Date.parse(`${day}T00:00:00.000Z`) + plusDays * 86_400_000;
  return Math.max(0, Math.min(MAX_MS, ms)) * KEY_SCALE;
}

const anyOf = (tokens: string[]) => `(${tokens.map(ftsString).join(" OR ")})`;

export interface MatchParts {
  terms: Term[];
  /** Author tokens' DIDs: any of them. Empty: no author filter. */
  authors: string[];
  /** Channel IRIs: any of them. Empty: no channel filter. */
  channels: string[];
  has: Array<"link" | "file">;
}

export function matchExpression(parts: MatchParts): string {
  const all: string[] = [];
  if (parts.terms.length) all.push(`body : (${parts.terms.map(ftsTerm).join(" AND ")})`);
  if (parts.authors.length) all.push(`meta : ${anyOf(parts.authors.map(authorToken))}`);
  if (parts.channels.length) all.push(`meta : ${anyOf(parts.channels.map(channelToken))}`);
  for (const h of parts.has) all.push(`meta : ${ftsString(h === "link" ? "haslink" : "hasfile")}`);
  if (all.length === 0) all.push(`meta : ${ftsString("msg")}`);
  return all.length === 1 ? all[0] : all.map((p) => `(${p})`).join(" AND ");
}
