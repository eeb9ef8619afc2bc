/**
 * What the instance fetches on someone else's say (bridge peers, status
 * lists) must be https on a public address, unless private addresses are allowed.
 */
import assert from "node:assert/strict";
import { AddressRefused, checkFetchAddress, isNonPublicAddress } from "../../server/net/address.ts";

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
  const refused = (url: string) => assert.rejects(checkFetchAddress(url, false), AddressRefused, url);
  await refused("https://127.0.0.1/ap/actors/x");
  await refused("https://[::1]/inbox");
  await refused("https://localhost:8443/inbox");
  await refused("https://169.254.169.254/latest/meta-data");
  await refused("http://93.184.216.34/inbox");
  await refused("https://user:pass@93.184.216.34/inbox");
  await refused("not a url");
  await checkFetchAddress("https://93.184.216.34/inbox", false);
  await checkFetchAddress("http://127.0.0.1:8000/inbox", true);
});
