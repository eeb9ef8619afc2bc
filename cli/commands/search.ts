/** `harmony search QUERY`: full-text search of the channels the identity may read (docs/cli.md). */
import type { SearchPageJson } from "../client.ts";
import { integerOption, stringOption } from "./args.ts";
import type { Command } from "./command.ts";
import { localTime, shortDid } from "./io.ts";

/** One hit: time, channel and author, the matching text (matches between ⟦ ⟧), the link to the message. */
export function searchLines(page: SearchPageJson, server: string): string {
  if (page.results.length === 0) return `No messages match ${JSON.stringify(page.query)}.\n`;
  return page.results.map((hit) => {
    const author = hit.author.name ?? shortDid(hit.author.did);
    const text = hit.highlightText.replace(/\s+/g, " ").trim();
    return `${localTime(hit.published)}  #${hit.channel.name}  ${author}${hit.updated ? " (edited)" : ""}\n` +
      `  ${text}\n  ${server}${hit.url}\n`;
  }).join("");
}

export const searchCommands: Command[] = [
  {
    name: "search",
    synopsis: "QUERY... [--limit N] [--cursor CURSOR] [--json]",
    summary: 'search messages: words, "phrases", from:, in:, before:, after:, has:link, has:file',
    arity: [1, 64],
    options: ["limit", "cursor", "json"],
    async run({ args, options, connect, io }) {
      const limit = integerOption(options, "limit", 1, 50);
      const cursor = stringOption(options, "cursor");
      const query = args.join(" ");
      const client = await connect();
      const page = await client.search(query, { limit, cursor });
      if (options.json) {
        await io.out(JSON.stringify(page, null, 2) + "\n");
        return;
      }
      await io.out(searchLines(page, client.server));
      if (page.nextCursor) {
        await io.out(`More: harmony search ${JSON.stringify(query)} --cursor ${page.nextCursor}\n`);
      }
    },
  },
];
