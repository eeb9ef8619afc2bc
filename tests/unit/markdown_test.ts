import assert from "node:assert/strict";
import { escapeHtml, renderMarkdown } from "../../markup/markdown.ts";

const allowedTags: Record<string, string[]> = {
  a: ["href", "rel", "target"],
  strong: [],
  em: [],
  u: [],
  del: [],
  span: ["class", "tabindex"],
  code: [],
  pre: [],
  blockquote: [],
  br: [],
};

/**
 * Asserts rendered HTML is inert: only the subset's tags, only their
 * attributes, double-quoted values with nothing unescaped inside, link
 * targets restricted to http(s) and mailto, and no stray "<".
 */
function assertInert(html: string, source: string): void {
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-z-]+="[^"<>]*")*)\s*(\/?)>/g;
  const remainder = html.replace(tag, (_whole, _close, name: string, attrs: string) => {
    const allowed = allowedTags[name];
    assert.ok(allowed, `tag <${name}> must not be produced (from ${JSON.stringify(source)}): ${html}`);
    for (const [, attr, value] of attrs.matchAll(/\s+([a-z-]+)="([^"]*)"/g)) {
      assert.ok(allowed.includes(attr), `attribute ${attr} on <${name}> (from ${JSON.stringify(source)})`);
      if (attr === "href") assert.match(value, /^(https?:\/\/|mailto:)/, `unsafe href ${value}`);
      if (attr === "rel") assert.equal(value, "noopener noreferrer ugc nofollow");
    }
    return "";
  });
  assert.doesNotMatch(remainder, /[<>]/, `stray markup in ${JSON.stringify(source)}: ${html}`);
  assert.doesNotMatch(html, /<[^>]*\son[a-z]+=/i, `event handler attribute in ${html}`);
}

const attacks = [
  "<script>alert(1)</script>",
  "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
  "<img src=x onerror=alert(1)>",
  "<svg/onload=alert(1)>",
  '<a href="javascript:alert(1)">x</a>',
  "<iframe src=javascript:alert(1)>",
  "[click](javascript:alert(1))",
  "[click](JaVaScRiPt:alert(1))",
  "[click](javascript&#58;alert(1))",
  "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "[click](vbscript:msgbox(1))",
  "[click](\tjavascript:alert(1))",
  "[click](//evil.example)",
  '[a](http://x.example/"onmouseover="alert(1))',
  "[a](http://x.example/'onmouseover='alert(1))",
  '[a](https://x.example/"><script>alert(1)</script>)',
  "[<img src=x onerror=alert(1)>](https://ok.example)",
  '["><script>alert(1)</script>](https://ok.example)',
  '[x" onclick="alert(1)](https://ok.example)',
  "**<script>alert(1)</script>**",
  "*_<b onclick=alert(1)>x</b>_*",
  "~~<img src=x onerror=alert(1)>~~ ||<script>||",
  "`<script>alert(1)</script>`",
  "```\n<script>alert(1)</script>\n```",
  "```html\n<img src=x onerror=alert(1)>```",
  "> <script>alert(1)</script>\n> **<img src=x onerror=alert(1)>**",
  'https://example.com/"><script>alert(1)</script>',
  "https://example.com/<img/src/onerror=alert(1)>",
  "https://x.example/\u0000<script>\u0000",
  "\u00000\u0000 placeholders cannot be forged \u00010\u0001 [a](https://x.example)",
  "&lt;script&gt; already escaped stays text",
  "[a](https://x.y/`)`<script>`",
];

Deno.test("markdown: HTML and script attempts render as inert text", async (t) => {
  for (const source of attacks) {
    await t.step(`inert: ${JSON.stringify(source).slice(0, 60)}`, () => {
      const html = renderMarkdown(source);
      assertInert(html, source);
      assert.doesNotMatch(html, /<(script|img|svg|iframe)|href="(javascript|vbscript|data):/i);
    });
  }
});

Deno.test("markdown: the inertness check itself rejects live markup", () => {
  for (
    const live of [
      "<script>x</script>",
      '<img src="x">',
      '<a href="javascript:alert(1)" rel="noopener noreferrer ugc nofollow">x</a>',
      '<a href="https://x.example" onclick="y">x</a>',
      '<span class="a" style="b">x</span>',
      "text <b",
    ]
  ) {
    assert.throws(() => assertInert(live, live), assert.AssertionError, live);
  }
});

Deno.test("markdown: raw HTML is shown as its text, escaped", () => {
  assert.equal(
    renderMarkdown("<script>alert(1)</script>"),
    "&lt;script&gt;alert(1)&lt;/script&gt;",
  );
  assert.equal(
    renderMarkdown('<img src=x onerror="alert(1)">'),
    "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;",
  );
  assert.equal(renderMarkdown("&lt;"), "&amp;lt;");
  assert.equal(escapeHtml(`<>&"'`), "&lt;&gt;&amp;&quot;&#39;");
});

Deno.test("markdown: links to javascript:, data: and vbscript: stay plain text", () => {
  for (
    const scheme of ["javascript:alert(1)", "data:text/html,x", "vbscript:msgbox(1)", "file:///etc/passwd"]
  ) {
    const html = renderMarkdown(`[click](${scheme})`);
    assert.doesNotMatch(html, /<a /, scheme);
    assert.equal(html, escapeHtml(`[click](${scheme})`));
  }
});

Deno.test("markdown: quotes in link URLs and labels cannot break out of the attribute", () => {
  assert.equal(
    renderMarkdown('[a](http://x.example/"onmouseover="alert(1))'),
    '<a href="http://x.example/%22onmouseover=%22alert(1" rel="noopener noreferrer ugc nofollow" target="_blank">a</a>)',
  );
  assert.equal(
    renderMarkdown("[a](http://x.example/'q')"),
    '<a href="http://x.example/&#39;q&#39;" rel="noopener noreferrer ugc nofollow" target="_blank">a</a>',
  );
  assert.equal(
    renderMarkdown('["><b>](https://ok.example)'),
    '<a href="https://ok.example/" rel="noopener noreferrer ugc nofollow" target="_blank">&quot;&gt;&lt;b&gt;</a>',
  );
});

Deno.test("markdown: links carry rel=noopener noreferrer ugc nofollow", () => {
  for (
    const source of ["[site](https://example.com)", "see https://example.com/x", "[m](mailto:a@example.com)"]
  ) {
    const html = renderMarkdown(source);
    const anchors = [...html.matchAll(/<a [^>]*>/g)];
    assert.equal(anchors.length, 1, source);
    assert.match(anchors[0][0], /\srel="noopener noreferrer ugc nofollow"/);
    assert.match(anchors[0][0], /\starget="_blank"/);
  }
});

Deno.test("markdown: code spans and blocks show HTML and markdown literally", () => {
  assert.equal(renderMarkdown("`<b>**x**</b>`"), "<code>&lt;b&gt;**x**&lt;/b&gt;</code>");
  assert.equal(renderMarkdown("`[a](https://x.example)`"), "<code>[a](https://x.example)</code>");
  assert.equal(
    renderMarkdown('before\n```js\nif (a < b && c) { x = "<i>"; }\n```\nafter'),
    "before<pre><code>if (a &lt; b &amp;&amp; c) { x = &quot;&lt;i&gt;&quot;; }</code></pre>after",
  );
});

Deno.test("markdown: emphasis around HTML wraps the escaped text", () => {
  assert.equal(renderMarkdown("**<script>x</script>**"), "<strong>&lt;script&gt;x&lt;/script&gt;</strong>");
  assert.equal(renderMarkdown("*_<b>x</b>_*"), "<em><em>&lt;b&gt;x&lt;/b&gt;</em></em>");
});

Deno.test("markdown: the safe subset renders as expected", () => {
  assert.equal(
    renderMarkdown("**bold** *it* _it_ ~~del~~ ||spoiler|| __under__"),
    '<strong>bold</strong> <em>it</em> <em>it</em> <del>del</del> <span class="spoiler" tabindex="0">spoiler</span> <u>under</u>',
  );
  assert.equal(renderMarkdown("> quoted\n> more\nafter"), "<blockquote>quoted<br>more</blockquote>after");
  assert.equal(renderMarkdown("one\ntwo"), "one<br>two");
  assert.equal(
    renderMarkdown("[site](https://example.com/a?b=c&d=e)"),
    '<a href="https://example.com/a?b=c&amp;d=e" rel="noopener noreferrer ugc nofollow" target="_blank">site</a>',
  );
  assert.equal(
    renderMarkdown("go to https://example.com/path?a=1&b=2."),
    'go to <a href="https://example.com/path?a=1&amp;b=2" rel="noopener noreferrer ugc nofollow" target="_blank">https://example.com/path?a=1&amp;b=2</a>.',
  );
  assert.equal(
    renderMarkdown("[**b**](https://x.example)"),
    '<a href="https://x.example/" rel="noopener noreferrer ugc nofollow" target="_blank"><strong>b</strong></a>',
  );
  assert.equal(renderMarkdown("snake_case_name and 2*3*4"), "snake_case_name and 2<em>3</em>4");
  assert.equal(renderMarkdown("café 🎉"), "café 🎉");
});
