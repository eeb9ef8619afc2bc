/**
 * The safe Markdown subset messages use: **bold**, *italic* or _italic_,
 * ~~strike~~, ||spoiler||, `code`, fenced ``` blocks, > quotes, [links](url)
 * and bare URLs. Raw HTML is never interpreted: all text is escaped first
 * and only these constructs produce tags. Links allow http, https and
 * mailto, and carry rel="noopener noreferrer ugc nofollow".
 *
 * The one renderer of message text: the pages (views/) and the Notes sent to
 * the fediverse (federation/activities.ts) both use it, so they say the same
 * thing. Like all of markup/, it imports nothing from outside markup/.
 */

const htmlEscapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => htmlEscapes[ch]);
}

function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "mailto:") {
      return parsed.href;
    }
  } catch { /* not a URL */ }
  return null;
}

function link(href: string, label: string): string {
  return `<a href="${escapeHtml(href)}" rel="noopener noreferrer ugc nofollow" target="_blank">${label}</a>`;
}

// Placeholders use U+0000 (inline) and U+0001 (code blocks), which
// message content can never contain.
const hold = (store: string[], html: string, mark = "\u0000") => `${mark}${store.push(html) - 1}${mark}`;
const release = (store: string[], text: string, mark = "\u0000") =>
  text.replace(new RegExp(`${mark}(\\d+)${mark}`, "g"), (_, i) => store[Number(i)]);

function emphasis(escaped: string): string {
  return escaped
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/__(?=\S)([\s\S]*?\S)__/g, "<u>$1</u>")
    .replace(/\*(?=\S)([^*]*?\S)\*/g, "<em>$1</em>")
    .replace(/(^|[^\w])_(?=\S)([^_]*?\S)_(?!\w)/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>")
    .replace(/\|\|(?=\S)([\s\S]*?\S)\|\|/g, '<span class="spoiler" tabindex="0">$1</span>');
}

/** Options of renderMarkdown. */
export interface MarkdownOptions {
  /** This instance's origin: its message permalinks become links to the message, in the same tab. */
  localOrigin?: string;
}

const permalinkPath = /^\/channels\/[a-z2-7]{10}\/messages\/[0-9a-f-]{36}$/;

/** A permalink of this instance (`{origin}/channels/{id}/messages/{uuid}`) as a local path, or null. */
export function localPermalink(url: string, localOrigin: string | undefined): string | null {
  if (!localOrigin) return null;
  try {
    const parsed = new URL(url);
    if (parsed.origin !== localOrigin || parsed.search || !permalinkPath.test(parsed.pathname)) return null;
    return parsed.pathname;
  } catch {
    return null;
  }
}

function inline(text: string, options: MarkdownOptions = {}): string {
  const store: string[] = [];
  let work = text.replace(/`([^`\n]+)`/g, (_, code) => hold(store, `<code>${escapeHtml(code)}</code>`));
  work = work.replace(/\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)/g, (whole, label, url) => {
    const href = safeHref(url);
    return href ? hold(store, link(href, emphasis(escapeHtml(label)))) : whole;
  });
  // deno-lint-ignore no-control-regex -- placeholders are control characters on purpose
  work = work.replace(/\b(https?:\/\/[^\s<>"'\u0000]+[^\s<>"'.,;:!?)\]\u0000])/g, (url) => {
    const local = localPermalink(url, options.localOrigin);
    if (local) {
      return hold(
        store,
        `<a class="message-link" href="${escapeHtml(local)}" title="${escapeHtml(url)}">↪ message</a>`,
      );
    }
    const href = safeHref(url);
    return href ? hold(store, link(href, escapeHtml(url))) : url;
  });
  return release(store, emphasis(escapeHtml(work)));
}

/** Renders message content to HTML that is safe to insert as-is. */
export function renderMarkdown(content: string, options: MarkdownOptions = {}): string {
  const blocks: string[] = [];
  // deno-lint-ignore no-control-regex -- placeholders are control characters on purpose
  const fenced = content.replace(/[\u0000\u0001]/g, "").replace(
    /```([a-z0-9+-]{0,20})\n?([\s\S]*?)```/gi,
    (_, _lang, code) =>
      hold(blocks, `<pre><code>${escapeHtml(code.replace(/\n$/, ""))}</code></pre>`, "\u0001"),
  );
  const out: string[] = [];
  let quote: string[] = [];
  const flushQuote = () => {
    if (quote.length) out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
    quote = [];
  };
  for (const line of fenced.split("\n")) {
    const quoted = /^>\s?(.*)$/.exec(line);
    if (quoted) {
      quote.push(inline(quoted[1], options));
      continue;
    }
    flushQuote();
    out.push(inline(line, options));
  }
  flushQuote();
  const html = out.join("<br>").replace(/<br>(<blockquote>)/g, "$1").replace(/(<\/blockquote>)<br>/g, "$1");
  return release(blocks, html, "\u0001").replace(/<br>(<pre>)/g, "$1").replace(/(<\/pre>)<br>/g, "$1");
}
