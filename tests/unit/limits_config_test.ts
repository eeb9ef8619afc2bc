/**
 * The configuration of the limits (server/config.ts); what they count
 * against is tested in requester_test.ts.
 */
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../server/config.ts";

Deno.test("configuration: body timeout, sign-in limit and trusted proxies are checked", () => {
  const base = { PORT: "0" };
  const defaults = loadConfig(base);
  assert.equal(defaults.bodyTimeoutSeconds, 30);
  assert.deepEqual(defaults.signInLimit, { count: 30, seconds: 60 });
  assert.deepEqual(defaults.trustedProxies, []);
  const set = loadConfig({
    ...base,
    HARMONY_BODY_TIMEOUT_SECONDS: "5",
    HARMONY_SIGN_IN_LIMIT: "10/300",
    HARMONY_TRUSTED_PROXIES: "127.0.0.1, ::1",
  });
  assert.equal(set.bodyTimeoutSeconds, 5);
  assert.deepEqual(set.signInLimit, { count: 10, seconds: 300 });
  assert.deepEqual(set.trustedProxies, ["127.0.0.1", "::1"]);
  for (
    const [name, value] of [
      ["HARMONY_BODY_TIMEOUT_SECONDS", "0"],
      ["HARMONY_BODY_TIMEOUT_SECONDS", "soon"],
      ["HARMONY_SIGN_IN_LIMIT", "30"],
      ["HARMONY_SIGN_IN_LIMIT", "0/60"],
      ["HARMONY_TRUSTED_PROXIES", "proxy.example.org"],
    ]
  ) {
    assert.throws(() => loadConfig({ ...base, [name]: value }), ConfigError, `${name}=${value}`);
  }
});
