/** Who a request counts against, for limits per requester (server/shared/requester.ts). */
import assert from "node:assert/strict";
import { canonical, requesterKey } from "../../server/shared/requester.ts";

Deno.test("addresses are compared in one spelling; anything else is not an address", () => {
  assert.equal(canonical("::ffff:10.0.0.7"), "10.0.0.7", "an IPv4 client of a dual-stack socket");
  assert.equal(canonical("2001:DB8:0:0:1::2"), "2001:db8:0:0:1:0:0:2");
  assert.equal(canonical("[2001:db8::5]"), "2001:db8:0:0:0:0:0:5");
  assert.equal(canonical("fe80::1%eth0"), "fe80:0:0:0:0:0:0:1");
  assert.equal(canonical("1:2:3:4:5:6:1.2.3.4"), "1:2:3:4:5:6:102:304");
  for (const bad of ["", "garbage", "300.1.1.1", "1::2::3", "1:2:3:4:5:6:7:8:9", ":1", "1.2.3"]) {
    assert.equal(canonical(bad), null, bad);
  }
});

Deno.test("an IPv6 requester counts by its /64; an unknown peer is one requester", () => {
  assert.equal(requesterKey("2001:db8:1:2:aaaa::1", null), "v6:2001:db8:1:2");
  assert.equal(requesterKey("2001:db8:1:2:bbbb::9", null), "v6:2001:db8:1:2");
  assert.equal(requesterKey("198.51.100.7", null), "198.51.100.7");
  assert.equal(requesterKey(undefined, "198.51.100.7", ["127.0.0.1"]), "unknown");
});

Deno.test("X-Forwarded-For counts only when it comes from a trusted proxy, from the nearest hop", () => {
  const proxies = ["127.0.0.1", "10.0.0.2"];
  // Not from a proxy: the header is the client's own claim.
  assert.equal(requesterKey("198.51.100.7", "192.0.2.1", proxies), "198.51.100.7");
  assert.equal(requesterKey("127.0.0.1", "192.0.2.1", []), "127.0.0.1", "no proxy configured");
  // From a proxy: the nearest hop that is not a trusted proxy; earlier hops were written by the client.
  assert.equal(requesterKey("127.0.0.1", "6.6.6.6, 198.51.100.7", proxies), "198.51.100.7");
  assert.equal(requesterKey("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2", proxies), "198.51.100.7");
  assert.equal(requesterKey("::ffff:127.0.0.1", "198.51.100.7", proxies), "198.51.100.7");
  // A malformed hop stops the walk at the last address trusted to have written it.
  assert.equal(requesterKey("127.0.0.1", "198.51.100.7, junk", proxies), "127.0.0.1");
});
