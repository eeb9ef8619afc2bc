/**
 * What the sign-in limits count against (server/http/address.ts) and the
 * configuration of the limits (server/config.ts).
 */
import assert from "node:assert/strict";
import { addressKey, isIpAddress, normalizeIp } from "../../server/http/address.ts";
import { ConfigError, loadConfig } from "../../server/config.ts";

Deno.test("client address: one spelling per address, IPv6 counted by its /64", () => {
  assert.equal(normalizeIp("::ffff:192.0.2.1"), "192.0.2.1", "IPv4-mapped IPv6 is the IPv4 address");
  assert.equal(normalizeIp("2001:DB8::1"), "2001:0db8:0000:0000:0000:0000:0000:0001");
  assert.equal(normalizeIp("2001:db8:0:0:0:0:0:1"), normalizeIp("2001:db8::1"));
  assert.equal(addressKey("192.0.2.1"), "192.0.2.1");
  assert.equal(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
  for (const good of ["127.0.0.1", "::1", "::", "fe80::1%eth0", "64:ff9b::192.0.2.33"]) {
    assert.ok(isIpAddress(good), good);
  }
  for (const bad of ["", "1.2.3", "256.1.1.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "example.org", "::g"]) {
    assert.ok(!isIpAddress(bad), bad);
  }
});

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
  assert.deepEqual(set.trustedProxies, ["127.0.0.1", "0000:0000:0000:0000:0000:0000:0000:0001"]);
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
