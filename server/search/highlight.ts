/**
 * Highlights from FTS5's snippet(): the index wraps each match in two
 * private-use marker characters; this escapes everything else as HTML and
 * turns well-paired markers into <mark>. The indexed text is never trusted
 * as HTML: a marker the text itself contains can at worst open or close a
 * <mark>, always balanced.
 */
export const MARK_START = "\uE000";
export const MARK_END = "\uE001";

const escapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => escapes[ch]);
}

/** The snippet as safe HTML with <mark> around the matches. */
export function highlightHtml(snippet: string): string {
  let out = "";
  let open = false;
  let plain = "";
  const flush = () => {
    out += escapeHtml(plain);
    plain = "";
  };
  for (const ch of snippet) {
    if (ch === MARK_START) {
      if (!open) {
        flush();
        out += "<mark>";
        open = true;
      }
    } else if (ch === MARK_END) {
      if (open) {
        flush();
        out += "</mark>";
        open = false;
      }
    } else {
      plain += ch;
    }
  }
  flush();
  if (open) out += "</mark>";
  return out;
}

/** The snippet as plain text (markers removed), for clients that do their own rendering. */
export function plainText(snippet: string): string {
  return snippet.replaceAll(MARK_START, "").replaceAll(MARK_END, "");
}
