import assert from "node:assert/strict";
import { cleanSource, htmlToMarkdown } from "../../federation/html.ts";

Deno.test("fediverse HTML becomes plain text with links, and no markup survives", () => {
  const mastodon =
    '<p><span class="h-card"><a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a>' +
    '</span> hi &amp; bye <a href="https://m.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a></p>' +
    '<p>see <a href="https://example.com/a/long/path"><span class="invisible">https://</span>' +
    '<span class="ellipsis">example.com/a/long</span></a><br>and <a href="https://example.org/">this page</a></p>';
  assert.equal(
    htmlToMarkdown(mastodon, 500),
    "@bob hi & bye #x\n\nsee https://example.com/a/long/path\nand [this page](https://example.org/)",
  );
  assert.equal(htmlToMarkdown("<script>alert(1)</script><b>bold</b>", 500), "bold");
  assert.equal(htmlToMarkdown('<img src=x onerror="alert(1)">&lt;img&gt;', 500), "<img>");
  assert.equal(htmlToMarkdown('<a href="javascript:alert(1)">click</a>', 500), "click");
  assert.equal(htmlToMarkdown("a\u202eb\u0007c&#8238;d", 500), "abcd");
  assert.equal(htmlToMarkdown("<p>" + "x".repeat(20) + "</p>", 10), "xxxxxxxxx…");
  assert.equal(cleanSource("line one\r\nline two\u0000\n\n\n\nend", 500), "line one\nline two\n\nend");
});
