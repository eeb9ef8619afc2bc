/** Every full page is an HTML5 document (standards mode); htmx fragments are not documents. */
import assert from "node:assert/strict";
import type { ChannelJson } from "../../cli/client.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { http } from "./support.ts";

Deno.test("full pages start with the HTML5 doctype, signed in or out, errors included; fragments do not", async () => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const origin = instance.origin;
  const [general] = (await http(origin, "GET", "/api/channels")).json as ChannelJson[];
  const pages: Array<[string, string | undefined, number]> = [
    [`/channels/${general.id}`, undefined, 200],
    [`/channels/${general.id}`, owner.token!, 200],
    ["/identity", undefined, 200],
    ["/no-such-page", undefined, 404],
  ];
  for (const [path, token, status] of pages) {
    const reply = await http(origin, "GET", path, { token });
    assert.equal(reply.status, status, `${path}: ${reply.text.slice(0, 200)}`);
    assert.match(reply.text, /^<!DOCTYPE html><html lang="en"/, path);
    assert.equal(reply.text.match(/<!DOCTYPE/gi)?.length, 1, path);
  }
  const fragment = await http(origin, "GET", "/search?q=hello", {
    headers: { "hx-request": "true", "hx-target": "search-results" },
  });
  assert.equal(fragment.status, 200, fragment.text);
  assert.doesNotMatch(fragment.text, /<!DOCTYPE|<html/i);
});
