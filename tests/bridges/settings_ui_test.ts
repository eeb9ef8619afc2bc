/** Bridges in the settings page: offer (the capability to copy), install (pasted), revoke. */
import assert from "node:assert/strict";
import { newClient } from "../helpers/instance.ts";
import { cookieSession, http } from "../http/support.ts";
import { startNode } from "./support.ts";

Deno.test({
  name: "admins offer, install and revoke bridges from the settings page",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await startNode("a");
    await using b = await startNode("b");
    const sessions = [];
    const channels = [];
    for (const node of [a, b]) {
      const owner = await newClient({ origin: node.direct });
      await owner.request("POST", "/claim", { token: node.instance.claimUrl!.split("/claim/")[1] });
      channels.push(await owner.createChannel("shared"));
      sessions.push(await cookieSession(owner));
    }
    const form = (session: { cookie: string; csrfToken: string }, fields: Record<string, string>) => ({
      raw: new URLSearchParams(fields).toString(),
      headers: {
        cookie: session.cookie,
        "x-csrf-token": session.csrfToken,
        "hx-request": "true",
        "content-type": "application/x-www-form-urlencoded",
      },
    });

    const page = await http(b.direct, "GET", "/settings", { headers: { cookie: sessions[1].cookie } });
    assert.match(page.text, /<h2 id="s-bridges">Bridges<\/h2>/);

    const actorA = `${a.link.origin}/ap/actors/${channels[0].id}`;
    const offered = await http(
      b.direct,
      "POST",
      "/ui/bridges/offer",
      form(sessions[1], { channel: channels[1].id, to: actorA, expiresIn: "604800" }),
    );
    assert.equal(offered.status, 200, offered.text);
    const json = /<textarea id="offered-json"[^>]*>([^<]+)<\/textarea>/.exec(offered.text)?.[1];
    assert.ok(json, "the capability is shown to copy");
    const capability = JSON.parse(
      json.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&#39;", "'"),
    );
    assert.equal(capability.controller, actorA);

    const installed = await http(
      a.direct,
      "POST",
      "/ui/bridges/install",
      form(sessions[0], { capability: JSON.stringify(capability) }),
    );
    assert.equal(installed.status, 200, installed.text);
    assert.match(installed.text, /Installed/);
    const bad = await http(
      a.direct,
      "POST",
      "/ui/bridges/install",
      form(sessions[0], { capability: "{not json" }),
    );
    assert.equal(bad.status, 400);
    assert.match(bad.text, /not valid JSON/);

    const revoked = await http(
      b.direct,
      "POST",
      `/ui/bridges/revoke?id=${encodeURIComponent(capability.id)}`,
      form(sessions[1], {}),
    );
    assert.equal(revoked.status, 200, revoked.text);
    assert.match(revoked.text, /Capability revoked/);
    assert.match(revoked.text, /revoked/);
  },
});
