import assert from "node:assert/strict";
import type { ChannelJson } from "../../cli/client.ts";
import { claimedInstance } from "../helpers/instance.ts";
import {
  assertNoInjectedMarkup,
  assertRefused,
  cookieSession,
  http,
  joinedMember,
  startTags,
} from "./support.ts";

const MESSAGE = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))";
const NAME = "<img src=x onerror=alert(4)>";
const TOPIC = "<script>alert(5)</script><img src=x onerror=alert(6)>";
const COMMUNITY = "<script>alert(7)</script>";
const BREAKOUT = '" onmouseover="alert(8)" x="';

Deno.test("the markup checker catches live tags and handlers (so the XSS test can fail)", () => {
  const page = (body: string) =>
    `<html><head><title>t</title><script src="/static/app.js"></script></head><body><main><p>x</p><p>y</p>${body}</main></body></html>`;
  assertNoInjectedMarkup(page("&lt;script&gt;alert(1)&lt;/script&gt;"), "escaped");
  assertNoInjectedMarkup(page('<div data-source="&lt;img src=x onerror=alert(1)&gt;"></div>'), "attribute");
  for (
    const live of [
      "<script>alert(1)</script>",
      "<img src=x onerror=alert(2)>",
      '<a href="javascript:alert(3)">x</a>',
      '<p title="" onmouseover="alert(8)">',
    ]
  ) {
    assert.throws(() => assertNoInjectedMarkup(page(live), "live"), assert.AssertionError, live);
  }
});

Deno.test("XSS: messages, names, topics and the community name appear escaped in real pages", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const origin = instance.origin;
  const alice = await joinedMember(origin, owner);
  const admin = owner.token!;
  const [general] = (await http(origin, "GET", "/api/channels")).json as ChannelJson[];

  assert.equal(
    (await http(origin, "PATCH", "/api/community", { body: { name: COMMUNITY }, token: admin })).status,
    200,
  );
  assert.equal(
    (await http(origin, "PATCH", `/api/channels/${general.id}`, { body: { topic: TOPIC }, token: admin }))
      .status,
    200,
  );
  assertRefused(
    await http(origin, "POST", "/api/channels", {
      body: { name: "<script>alert(9)</script>" },
      token: admin,
    }),
    422,
    "invalid_channel_name",
  );
  assertRefused(
    await http(origin, "PATCH", `/api/channels/${general.id}`, { body: { name: NAME }, token: admin }),
    422,
  );
  await alice.setProfile(NAME);
  const posted = await alice.post(general.id, MESSAGE);
  await alice.post(general.id, `[label${BREAKOUT}](https://example.com/${BREAKOUT})`);
  const invite = await owner.request<{ code: string }>("POST", "/invites", {});

  const aliceBrowser = await cookieSession(alice);
  const ownerBrowser = await cookieSession(owner);
  const pages: Array<[string, string, string | undefined]> = [
    ["channel page, signed out", `/channels/${general.id}`, undefined],
    ["channel page, as the author", `/channels/${general.id}`, aliceBrowser.cookie],
    ["channel page, as the owner", `/channels/${general.id}`, ownerBrowser.cookie],
    ["member page", `/members/${encodeURIComponent(alice.did)}`, undefined],
    ["own profile page", "/profile", aliceBrowser.cookie],
    ["settings page", "/settings", ownerBrowser.cookie],
    ["invite page", `/invite/${invite.code}`, undefined],
    ["sign-in page", "/identity", undefined],
  ];
  for (const [where, path, cookie] of pages) {
    const page = await http(origin, "GET", path, { headers: cookie ? { cookie } : {} });
    assert.equal(page.status, 200, `${where}: ${page.status}`);
    assertNoInjectedMarkup(page.text, where);
    assert.doesNotMatch(page.text, /<script>alert|<img src=x/, where);
  }

  const signedOut = (await http(origin, "GET", `/channels/${general.id}`)).text;
  assert.ok(
    signedOut.includes("&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;"),
    "message shown as text",
  );
  assert.ok(signedOut.includes("[x](javascript:alert(3))"), "the javascript: link stays text");
  assert.ok(signedOut.includes("&lt;img src=x onerror=alert(4)&gt;"), "display name shown as text");
  assert.ok(
    signedOut.includes("&lt;script&gt;alert(5)&lt;/script&gt;&lt;img src=x onerror=alert(6)&gt;"),
    "topic shown as text",
  );
  assert.ok(signedOut.includes("&lt;script&gt;alert(7)&lt;/script&gt;"), "community name shown as text");

  // The author's page carries the raw source in an attribute, for editing: escaped there too.
  const authorPage =
    (await http(origin, "GET", `/channels/${general.id}`, { headers: { cookie: aliceBrowser.cookie } })).text;
  const article = startTags(authorPage).find((t) =>
    t.name === "article" && t.attributes.get("data-id") === posted.id
  );
  assert.ok(article, "the message is on the page");
  // The tokenizer decoded nothing: the value holds the entities, so the quote never ended the attribute.
  assert.ok(article.attributes.get("data-source")?.includes("&lt;script&gt;alert(1)"));

  // The link label and URL with quotes did not open new attributes.
  const links = startTags(signedOut).filter((t) =>
    t.name === "a" && (t.attributes.get("href") ?? "").startsWith("https://example.com/")
  );
  assert.equal(links.length, 1);
  assert.deepEqual([...links[0].attributes.keys()].sort(), ["href", "rel", "target"]);
  assert.equal(links[0].attributes.get("rel"), "noopener noreferrer ugc nofollow");
});
