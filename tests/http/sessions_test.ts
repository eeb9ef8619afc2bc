import assert from "node:assert/strict";
import { claimedInstance } from "../helpers/instance.ts";
import { assertRefused, cookieSession, http } from "./support.ts";

Deno.test("sessions and CSRF: cookies need the CSRF token and our Origin; bearer tokens do not", async (t) => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const origin = instance.origin;
  const browser = await cookieSession(owner);
  let n = 0;
  const newChannel = () => ({ name: `room-${++n}` });

  await t.step("a cookie alone identifies the user on reads", async () => {
    const me = await http(origin, "GET", "/api/me", { headers: { cookie: browser.cookie } });
    assert.equal(me.status, 200);
    assert.equal(me.json.did, owner.did);
  });

  await t.step("refuses a cookie-authenticated change without X-CSRF-Token (403)", async () => {
    const before = (await http(origin, "GET", "/api/channels")).json.length;
    const reply = await http(origin, "POST", "/api/channels", {
      body: newChannel(),
      headers: { cookie: browser.cookie },
    });
    assertRefused(reply, 403, "csrf");
    assert.equal((await http(origin, "GET", "/api/channels")).json.length, before, "nothing was created");
  });

  await t.step("refuses a cookie-authenticated change with another session's CSRF token", async () => {
    const other = await cookieSession(owner);
    assert.notEqual(other.csrfToken, browser.csrfToken);
    const reply = await http(origin, "POST", "/api/channels", {
      body: newChannel(),
      headers: { cookie: browser.cookie, "x-csrf-token": other.csrfToken },
    });
    assertRefused(reply, 403, "csrf");
  });

  await t.step("a cookie-authenticated change with the CSRF token works", async () => {
    const reply = await http(origin, "POST", "/api/channels", {
      body: newChannel(),
      headers: { cookie: browser.cookie, "x-csrf-token": browser.csrfToken },
    });
    assert.equal(reply.status, 201, reply.text);
  });

  await t.step("a same-origin Origin header is accepted", async () => {
    const reply = await http(origin, "POST", "/api/channels", {
      body: newChannel(),
      headers: { cookie: browser.cookie, "x-csrf-token": browser.csrfToken, origin },
    });
    assert.equal(reply.status, 201, reply.text);
  });

  await t.step("refuses a cross-origin request even with a valid CSRF token (403)", async () => {
    for (const foreign of ["https://evil.example", `${origin}.evil.example`, "null"]) {
      const reply = await http(origin, "POST", "/api/channels", {
        body: newChannel(),
        headers: { cookie: browser.cookie, "x-csrf-token": browser.csrfToken, origin: foreign },
      });
      assertRefused(reply, 403, "cross_origin");
    }
  });

  await t.step("the htmx form endpoints enforce CSRF too", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded", cookie: browser.cookie };
    const refused = await http(origin, "POST", "/ui/channels", { raw: "name=via-form", headers: form });
    assert.equal(refused.status, 403);
    const ok = await http(origin, "POST", "/ui/channels", {
      raw: `name=via-form&_csrf=${encodeURIComponent(browser.csrfToken)}`,
      headers: form,
    });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(
      (await http(origin, "GET", "/api/channels")).json.some((c: { name: string }) => c.name === "via-form"),
    );
  });

  await t.step("a bearer token works without a CSRF token", async () => {
    const reply = await http(origin, "POST", "/api/channels", { body: newChannel(), token: owner.token! });
    assert.equal(reply.status, 201, reply.text);
  });

  await t.step("an unknown bearer token or a malformed Authorization header is refused (401)", async () => {
    assertRefused(await http(origin, "GET", "/api/me", { token: "not-a-session" }), 401, "invalid_session");
    assertRefused(
      await http(origin, "GET", "/api/me", { headers: { authorization: "Basic abc" } }),
      401,
      "bad_authorization",
    );
    assertRefused(
      await http(origin, "GET", "/api/me", { headers: { cookie: "harmony_session=forged" } }),
      401,
      "unauthenticated",
    );
  });

  await t.step("signing out closes the session: its token stops working", async () => {
    const session = await cookieSession(owner);
    assert.equal((await http(origin, "GET", "/api/me", { token: session.token })).status, 200);
    assert.equal((await http(origin, "DELETE", "/api/auth/session", { token: session.token })).status, 204);
    assertRefused(await http(origin, "GET", "/api/me", { token: session.token }), 401, "invalid_session");
    // The cookie carried the same session: it is gone too.
    assertRefused(
      await http(origin, "GET", "/api/me", { headers: { cookie: session.cookie } }),
      401,
      "unauthenticated",
    );
  });

  await t.step("signing out through the page closes the cookie session", async () => {
    const session = await cookieSession(owner);
    const refused = await http(origin, "POST", "/ui/signout", { headers: { cookie: session.cookie } });
    assert.equal(refused.status, 403, "sign-out needs the CSRF token too");
    const out = await http(origin, "POST", "/ui/signout", {
      headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken, "hx-request": "true" },
    });
    assert.equal(out.status, 204);
    assert.match(out.headers.get("set-cookie") ?? "", /harmony_session=;/);
    assertRefused(await http(origin, "GET", "/api/me", { headers: { cookie: session.cookie } }), 401);
    assertRefused(await http(origin, "GET", "/api/me", { token: session.token }), 401, "invalid_session");
  });

  await t.step("other sessions of the same DID stay open", async () => {
    assert.equal((await http(origin, "GET", "/api/me", { headers: { cookie: browser.cookie } })).status, 200);
    assert.equal((await http(origin, "GET", "/api/me", { token: owner.token! })).status, 200);
  });
});
