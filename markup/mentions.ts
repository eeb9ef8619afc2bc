/**
 * Mention tokens in rendered message HTML (server/attention/mentionText.ts):
 * `<@did:key:…>` and `<@&role>` arrive escaped from the Markdown renderer and
 * become `@CurrentName` spans. The HTML names who is mentioned, never who is
 * reading: the page's script highlights mentions of the signed-in member, so
 * one rendering serves every subscriber of a live stream.
 */
import { escapeHtml } from "./markdown.ts";

export interface MentionNames {
  member(did: string): string;
  role(slug: string): string | null;
}

const fallback: MentionNames = {
  member: (did) => {
    const key = did.replace(/^did:key:/, "");
    return `${key.slice(0, 8)}…${key.slice(-4)}`;
  },
  role: (slug) => slug,
};

export function renderMentions(html: string, names: MentionNames = fallback): string {
  return html
    .replace(
      /&lt;@(did:key:z[1-9A-HJ-NP-Za-km-z]{1,100})&gt;/g,
      (_, did) => `<span class="mention" data-mention="${did}">@${escapeHtml(names.member(did))}</span>`,
    )
    .replace(/&lt;@&amp;([a-z0-9][a-z0-9-]{0,39})&gt;/g, (whole, slug) => {
      const name = names.role(slug);
      return name === null
        ? whole
        : `<span class="mention role-mention" data-mention-role="${slug}">@${escapeHtml(name)}</span>`;
    });
}
