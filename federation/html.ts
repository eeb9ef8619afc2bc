/**
 * Fediverse posts arrive as HTML; messages are stored as Markdown source
 * (rendered by markup/markdown.ts, which escapes everything). This turns
 * the HTML into plain text with line breaks and links, and never lets
 * markup through: tags are dropped, entities decoded, control characters
 * removed.
 */

const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X"
        ? parseInt(name.slice(2), 16)
        : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
        ? String.fromCodePoint(code)
        : "";
    }
    return entities[name.toLowerCase()] ?? whole;
  });
}

const stripTags = (html: string) => html.replace(/<[^>]*>/g, "");

// C0/C1 controls (but tab and line feed), bidi overrides and isolates.
// deno-lint-ignore no-control-regex
const controls = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function safeHref(href: string): string | null {
  try {
    const url = new URL(href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** HTML of a fediverse post → the Markdown source of a message (at most `max` characters). */
export function htmlToMarkdown(html: string, max: number): string {
  // Links are set aside (as U+E000 n U+E000) while the rest is stripped and decoded.
  const held: string[] = [];
  const hold = (markdown: string) => `\uE000${held.push(markdown.replace(controls, "")) - 1}\uE000`;
  let text = html
    .replace(/\uE000/g, "")
    .replace(/<(script|style|template)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/\r\n?/g, "\n")
    .replace(/\n/g, " ");
  text = text.replace(
    /<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi,
    (_whole, attributes: string, inner: string) => {
      const label = decodeEntities(stripTags(inner)).trim();
      const hrefMatch = /\bhref\s*=\s*("([^"]*)"|'([^']*)')/i.exec(attributes);
      const href = hrefMatch ? safeHref(decodeEntities(hrefMatch[2] ?? hrefMatch[3] ?? "")) : null;
      // Mentions and hashtags keep their text; a link showing (part of) its address becomes the address.
      if (!href || /^[@#]/.test(label) || /\b(mention|hashtag)\b/.test(attributes)) return hold(label);
      const shown = label.replace(/[…]$/, "").replace(/^https?:\/\//, "");
      if (!label || href.includes(shown)) return hold(href);
      return hold(`[${label.replace(/[[\]\n]/g, "")}](${href.replace(/\)/g, "%29")})`);
    },
  );
  text = text
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|h[1-6]|li|blockquote|pre)\s*>/gi, "\n\n")
    .replace(/<li\b[^>]*>/gi, "- ");
  text = decodeEntities(stripTags(text))
    .replace(controls, "")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .replace(/\uE000(\d+)\uE000/g, (_, i) => held[Number(i)])
    .trim()
    .normalize("NFC");
  return cut(text, max);
}

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : text;
}

/** A post's plain-text or Markdown source, cleaned the same way (controls removed, length cut). */
export function cleanSource(text: string, max: number): string {
  return cut(
    text.replace(/\r\n?/g, "\n").replace(controls, "").replace(/\n{3,}/g, "\n\n").trim().normalize("NFC"),
    max,
  );
}
