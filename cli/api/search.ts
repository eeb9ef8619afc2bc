/** Full-text search over the messages the caller may read. */
import type { HarmonyClient } from "../client.ts";

export class SearchApi {
  /** Full-text search (GET /api/search); `highlightText` marks the matches with ⟦ ⟧. */
  async search(
    this: HarmonyClient,
    query: string,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<SearchPageJson> {
    const params = new URLSearchParams({ q: query });
    if (options.cursor) params.set("cursor", options.cursor);
    if (options.limit) params.set("limit", String(options.limit));
    const page = await this.request<SearchPageJson>("GET", `/search?${params}`);
    for (const hit of page.results) hit.highlightText = markedText(hit.highlight);
    return page;
  }
}

/** One page of GET /api/search. */
export interface SearchPageJson {
  query: string;
  results: Array<{
    id: string;
    url: string;
    channel: { id: string; name: string };
    author: { did: string; name: string | null };
    published: string;
    updated: string | null;
    text: string;
    /** Escaped HTML, the matches in <mark>. */
    highlight: string;
    /** Added by the client: the highlight as text, the matches between ⟦ and ⟧. */
    highlightText: string;
  }>;
  nextCursor: string | null;
}

/** The search highlight (escaped HTML with <mark>) as plain text, the matches between ⟦ and ⟧. */
export function markedText(html: string): string {
  const entities: Record<string, string> = {
    "&amp;": "&",
    "&lt;": "<",
    "&gt;": ">",
    "&quot;": '"',
    "&#39;": "'",
  };
  return html.replace(/<mark>/g, "⟦").replace(/<\/mark>/g, "⟧").replace(
    /&(?:amp|lt|gt|quot|#39);/g,
    (e) => entities[e],
  );
}
