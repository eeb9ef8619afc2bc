/**
 * The search query language (docs/api.md, "Search"), parsed by hand into
 * plain data. Nothing the user typed reaches FTS5 as syntax: words and
 * phrases become quoted strings (server/search/fts.ts), and operators
 * become filters resolved by the server.
 *
 *   deploy failed          messages with both words (the last one as a prefix: "fail" finds "failed")
 *   "release notes"        the exact phrase
 *   deplo*                 an explicit prefix (two letters or more)
 *   from:alice from:did:key:z6Mk…   by a member (name or DID); several from: mean any of them
 *   in:general in:#random  in a channel (name or id, with or without #); several mean any of them
 *   before:2026-01-31      published before that day (UTC)
 *   after:2026-01-01       published after that day (UTC)
 *   has:link has:file      with a link, with an attachment
 *
 * Operator values may be quoted: from:"Ada Lovelace".
 */
import { HarmonyError } from "../shared/errors.ts";

export const MAX_QUERY_LENGTH = 256;
export const MAX_TERMS = 16;
export const MAX_FILTER_VALUES = 8;

export interface Term {
  /** The text to find, as typed (quoted later). */
  text: string;
  /** A quoted phrase: its words in this order. */
  phrase: boolean;
  /** Match words that begin with the text's last word. */
  prefix: boolean;
}

export interface ParsedQuery {
  terms: Term[];
  from: string[];
  in: string[];
  /** ISO dates (YYYY-MM-DD): published strictly before `before`, strictly after the day `after`. */
  before: string | null;
  after: string | null;
  has: Array<"link" | "file">;
}

export const OPERATORS = ["from", "in", "before", "after", "has"] as const;
type Operator = typeof OPERATORS[number];

export class QueryError extends HarmonyError {
  constructor(code: string, message: string, status: 400 | 422 = 400) {
    super(status, code, message);
  }
}

/** Whether a word holds anything the index could match (a letter or a digit). */
export function searchable(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}

/** A calendar date, strictly YYYY-MM-DD, that exists. */
export function parseDay(value: string, operator: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ok = m && (() => {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(y, mo - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d &&
      y >= 1970;
  })();
  if (!ok) {
    throw new QueryError(
      "invalid_date",
      `${operator}: takes a date written YYYY-MM-DD (for example ${operator}:2026-01-31), not "${value}"`,
    );
  }
  return value;
}

/**
 * Parses a query. Throws a QueryError (400, or 422 for a query over the
 * limits) with a message saying what to fix.
 */
export function parseQuery(input: string): ParsedQuery {
  if (typeof input !== "string" || input.trim() === "") {
    throw new QueryError("empty_query", "type something to search for");
  }
  if (input.length > MAX_QUERY_LENGTH) {
    throw new QueryError(
      "query_too_long",
      `a search is at most ${MAX_QUERY_LENGTH} characters; this one has ${input.length}`,
      422,
    );
  }
  const query: ParsedQuery = { terms: [], from: [], in: [], before: null, after: null, has: [] };
  let i = 0;
  const n = input.length;
  const isSpace = (ch: string) => /\s/u.test(ch);

  /** Reads a quoted string starting at input[i] === '"'; returns its content. */
  const readQuoted = (what: string): string => {
    const close = input.indexOf('"', i + 1);
    if (close < 0) {
      throw new QueryError(
        "unbalanced_quote",
        `the quote that opens ${what} is never closed; add a closing " or remove it`,
      );
    }
    const text = input.slice(i + 1, close);
    i = close + 1;
    return text;
  };

  let lastBareWord: Term | null = null;
  let lastTermEndedAt = -1;
  while (i < n) {
    const ch = input[i];
    if (isSpace(ch)) {
      i++;
      continue;
    }
    if (ch === '"') {
      const text = readQuoted(`the phrase at character ${i + 1}`);
      lastTermEndedAt = i;
      if (searchable(text)) {
        query.terms.push({ text: text.trim(), phrase: true, prefix: false });
      }
      lastBareWord = null;
      continue;
    }
    // A bare run: up to whitespace or a quote.
    const start = i;
    while (i < n && !isSpace(input[i]) && input[i] !== '"') i++;
    const word = input.slice(start, i);
    const op = /^([A-Za-z]+):(.*)$/s.exec(word);
    if (op && !op[2].startsWith("//")) {
      const name = op[1].toLowerCase();
      if (!(OPERATORS as readonly string[]).includes(name)) {
        throw new QueryError(
          "unknown_operator",
          `there is no "${op[1]}:" filter; use ${
            OPERATORS.map((o) => `${o}:`).join(", ")
          }, or put the word in quotes ("${word}") to search for it`,
        );
      }
      let value = op[2];
      if (value === "" && input[i] === '"') value = readQuoted(`the value of ${name}:`);
      value = value.trim();
      if (value === "") {
        throw new QueryError(
          "missing_value",
          `${name}: needs a value right after the colon, like ${example(name)}`,
        );
      }
      addFilter(query, name as Operator, value);
      lastBareWord = null;
      continue;
    }
    let text = word;
    let prefix = false;
    if (text.endsWith("*")) {
      text = text.replace(/\*+$/, "");
      prefix = true;
    }
    if (!searchable(text)) continue;
    if (prefix && [...text].length < 2) {
      throw new QueryError(
        "prefix_too_short",
        `"${word}": a prefix needs at least two letters before the *`,
      );
    }
    const term: Term = { text, phrase: false, prefix };
    query.terms.push(term);
    lastBareWord = term;
    lastTermEndedAt = i;
  }
  // Search as you type: the last bare word, when the query ends with it, also matches longer words.
  if (lastBareWord && lastTermEndedAt === n && [...lastBareWord.text].length >= 2) lastBareWord.prefix = true;
  if (query.terms.length > MAX_TERMS) {
    throw new QueryError(
      "too_many_terms",
      `a search has at most ${MAX_TERMS} words and phrases; this one has ${query.terms.length}`,
      422,
    );
  }
  if (
    query.terms.length === 0 && query.from.length === 0 && query.in.length === 0 && query.has.length === 0 &&
    query.before === null && query.after === null
  ) {
    throw new QueryError(
      "empty_query",
      "the search has no words to look for (punctuation alone matches nothing)",
    );
  }
  return query;
}

function example(name: string): string {
  switch (name) {
    case "from":
      return "from:alice";
    case "in":
      return "in:general";
    case "before":
      return "before:2026-01-31";
    case "after":
      return "after:2026-01-01";
    default:
      return "has:link";
  }
}

function addFilter(query: ParsedQuery, name: Operator, value: string): void {
  switch (name) {
    case "from":
    case "in": {
      const list = query[name];
      if (list.length >= MAX_FILTER_VALUES) {
        throw new QueryError(
          "too_many_filters",
          `a search takes at most ${MAX_FILTER_VALUES} ${name}: filters`,
          422,
        );
      }
      const v = name === "in" ? value.replace(/^#/, "") : value.replace(/^@/, "");
      if (v === "") throw new QueryError("missing_value", `${name}: needs a value, like ${example(name)}`);
      if (!list.includes(v)) list.push(v);
      return;
    }
    case "before": {
      const day = parseDay(value, "before");
      // Several bounds: the tightest wins.
      if (query.before === null || day < query.before) query.before = day;
      return;
    }
    case "after": {
      const day = parseDay(value, "after");
      if (query.after === null || day > query.after) query.after = day;
      return;
    }
    case "has": {
      const v = value.toLowerCase();
      if (v !== "link" && v !== "file") {
        throw new QueryError("invalid_filter", `has: takes "link" or "file", not "${value}"`);
      }
      if (!query.has.includes(v)) query.has.push(v);
      return;
    }
  }
}
