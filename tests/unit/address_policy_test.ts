/**
 * What the instance fetches on someone else's say (bridge peers, status
 * lists) must be https on a public address, unless private addresses are allowed.
 */
import assert from "node:assert/strict";
import { AddressRefused, isNonPublicAddress } from "../../server/net/address.ts";
import { Outbound } from "../../server/net/outbound.ts";

Deno.test("loopback, private, link-local and mapped addresses are not public; public ones are", () => {
  for (
    const address of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "0.0.0.0",
    ]
  ) {
    assert.equal(isNonPublicAddress(address), true, address);
  }
  for (const address of ["93.184.216.34", "2606:2800:220:1::1"]) {
    assert.equal(isNonPublicAddress(address), false, address);
  }
});

Deno.test("a bridge peer or status list on a private address, over http, or with credentials is refused", async () => {
  // Names resolve as the system would: localhost to loopback, anything else to a public address.
  const resolve = (host: string) =>
    Promise.resolve(host === "localhost" ? ["127.0.0.1", "::1"] : ["93.184.216.34"]);
  const strict = new Outbound({ allowPrivate: false, resolve });
  const lenient = new Outbound({ allowPrivate: true, resolve });
  const refused = (url: string) => assert.rejects(strict.fetch(url), AddressRefused, url);
  await refused("https://127.0.0.1/ap/actors/x");
  await refused("https://[::1]/inbox");
  await refused("https://localhost:8443/inbox");
  await refused("https://169.254.169.254/latest/meta-data");
  await refused("http://93.184.216.34/inbox");
  await refused("http://example.org/inbox");
  await refused("https://user:pass@93.184.216.34/inbox");
  await refused("ftp://example.org/file");
  await refused("not a url");
  assert.deepEqual(await strict.addressesOf(new URL("https://93.184.216.34/inbox")), ["93.184.216.34"]);
  assert.deepEqual(await strict.addressesOf(new URL("https://example.org/inbox")), ["93.184.216.34"]);
  assert.deepEqual(await lenient.addressesOf(new URL("http://localhost:8000/inbox")), ["127.0.0.1", "::1"]);
  await strict.close();
  await lenient.close();
});
