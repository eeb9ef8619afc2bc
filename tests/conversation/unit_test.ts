/** Emoji validation and local message links in Markdown. */
import assert from "node:assert/strict";
import { isEmoji } from "../../server/documents/signed.ts";
import { localPermalink, renderMarkdown } from "../../markup/markdown.ts";

Deno.test("a reaction is exactly one emoji grapheme of bounded length", () => {
  for (const ok of ["👍", "❤️", "🇫🇷", "1️⃣", "👩‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "©️"]) assert.ok(isEmoji(ok), ok);
  for (
    const bad of [
      "",
      "a",
      "ab",
      "👍👍",
      " 👍",
      "👍 ",
      "\u0007",
      "😀a",
      "x".repeat(33),
      "🏳️‍🌈".repeat(3),
      42,
      null,
    ]
  ) {
    assert.equal(isEmoji(bad), false, String(bad));
  }
});

Deno.test("a permalink of this instance renders as a link to the message; others stay plain links", () => {
  const origin = "https://chat.example";
  const uuid = "01a201b7-2511-7694-97b1-74d7f6366a28";
  const url = `${origin}/channels/abcdefghij/messages/${uuid}`;
  assert.equal(localPermalink(url, origin), `/channels/abcdefghij/messages/${uuid}`);
  const html = renderMarkdown(`see ${url} for context`, { localOrigin: origin });
  assert.match(html, new RegExp(`<a class="message-link" href="/channels/abcdefghij/messages/${uuid}"`));
  assert.doesNotMatch(html, /target="_blank"/);
  // Another host with the same path is an ordinary outside link.
  const other = renderMarkdown(`https://evil.example/channels/abcdefghij/messages/${uuid}`, {
    localOrigin: origin,
  });
  assert.doesNotMatch(other, /message-link/);
  assert.match(other, /rel="noopener noreferrer ugc nofollow"/);
  // Without the origin (federated HTML), nothing changes.
  assert.doesNotMatch(renderMarkdown(url), /message-link/);
  assert.equal(localPermalink(`${url}?x=<script>`, origin), null);
});
