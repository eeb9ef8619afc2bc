import assert from "node:assert/strict";
import { installOpenSslRsaSigning, openSslRsaSigner } from "../../federation/opensslRsa.ts";
import { dependenciesRequired } from "../helpers/requirements.ts";

const signer = openSslRsaSigner();
if (signer === null) {
  console.warn("openssl_rsa_test: libcrypto.so.3 (OpenSSL 3) not found; the tests that need it are skipped");
}
const withOpenSsl = { ignore: signer === null, sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "OpenSSL 3 is found where CI installs it (its tests are never skipped there)",
  ignore: !dependenciesRequired,
  fn() {
    assert.ok(signer, "libcrypto.so.3 (OpenSSL 3) was not found, and .ci/run installs it");
  },
});

async function rsaKeys(hash: string, modulusLength = 2048, extractable = true): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash },
    extractable,
    ["sign", "verify"],
  );
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

const messages: Array<[string, () => BufferSource]> = [
  ["empty", () => new Uint8Array(0)],
  ["an HTTP signature's signing string", () =>
    new TextEncoder().encode(
      "(request-target): post /inbox\nhost: example.test\ndate: Sun, 22 Nov 2026 11:00:00 GMT\ndigest: SHA-256=x",
    )],
  ["10 KiB in an ArrayBuffer", () => crypto.getRandomValues(new Uint8Array(10_240)).buffer],
  ["a view into the middle of a buffer", () => crypto.getRandomValues(new Uint8Array(300)).subarray(17, 201)],
  ["a DataView", () => new DataView(crypto.getRandomValues(new Uint8Array(64)).buffer, 8, 40)],
];

Deno.test(
  "OpenSSL's RSASSA-PKCS1-v1_5 signatures are the bytes WebCrypto makes, for every hash and input shape",
  withOpenSsl,
  async () => {
    for (const hash of ["SHA-256", "SHA-384", "SHA-512", "SHA-1"]) {
      const keys = await rsaKeys(hash, hash === "SHA-256" ? 2048 : 1024);
      for (const [what, message] of messages) {
        const data = message();
        const expected = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", keys.privateKey, data);
        const actual = await signer!.sign(keys.privateKey, data);
        assert.ok(actual !== null, `${hash}, ${what}: OpenSSL signed`);
        assert.equal(hex(actual), hex(expected), `${hash}, ${what}`);
        assert.ok(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", keys.publicKey, actual, data));
      }
    }
  },
);

Deno.test("OpenSSL signs concurrently: 200 signatures at once, each the right one", withOpenSsl, async () => {
  const keys = await rsaKeys("SHA-256");
  const data = Array.from({ length: 200 }, (_, i) => new TextEncoder().encode(`delivery ${i}`));
  const signatures = await Promise.all(data.map((d) => signer!.sign(keys.privateKey, d)));
  for (const [i, signature] of signatures.entries()) {
    assert.ok(signature !== null);
    assert.equal(
      hex(signature),
      hex(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", keys.privateKey, data[i])),
    );
  }
});

Deno.test(
  "keys OpenSSL is not given are left to WebCrypto: not extractable, public, or not RSA PKCS#1",
  withOpenSsl,
  async () => {
    const data = new TextEncoder().encode("x");
    const sealed = await rsaKeys("SHA-256", 2048, false);
    assert.equal(await signer!.sign(sealed.privateKey, data), null);
    const keys = await rsaKeys("SHA-256");
    assert.equal(await signer!.sign(keys.publicKey, data), null);
    const pss = await crypto.subtle.generateKey(
      { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    );
    assert.equal(await signer!.sign(pss.privateKey, data), null);
    const ed = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]) as CryptoKeyPair;
    assert.equal(await signer!.sign(ed.privateKey, data), null);
  },
);

Deno.test(
  "with OpenSSL installed, crypto.subtle.sign gives the same signatures and the same errors",
  withOpenSsl,
  async () => {
    const keys = await rsaKeys("SHA-256");
    const data = new TextEncoder().encode("same bytes either way");
    const before = await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, keys.privateKey, data);
    assert.equal(installOpenSslRsaSigning(), "openssl");
    assert.equal(installOpenSslRsaSigning(), "openssl", "installing twice changes nothing");
    const after = await crypto.subtle.sign("rsassa-pkcs1-v1_5", keys.privateKey, data);
    assert.equal(hex(after), hex(before));
    // Refusals still come from WebCrypto, with its error.
    await assert.rejects(
      crypto.subtle.sign("RSASSA-PKCS1-v1_5", keys.publicKey, data),
      (error: Error) => error.name === "InvalidAccessError",
    );
    await assert.rejects(
      crypto.subtle.sign("RSASSA-PKCS1-v1_5", keys.privateKey, "not bytes" as never),
      TypeError,
    );
    await assert.rejects(
      crypto.subtle.sign(
        "RSASSA-PKCS1-v1_5",
        keys.privateKey,
        new Uint8Array(new SharedArrayBuffer(8)) as never,
      ),
      TypeError,
    );
    // The data is read when sign is called, as WebCrypto reads it: a later change does not count.
    const changing = new TextEncoder().encode("read at the call");
    const pending = crypto.subtle.sign("RSASSA-PKCS1-v1_5", keys.privateKey, changing);
    changing.fill(0);
    const expected = await crypto.subtle.sign(
      "RSASSA-PKCS1-v1_5",
      keys.privateKey,
      new TextEncoder().encode("read at the call"),
    );
    assert.equal(hex(await pending), hex(expected));
    // Other algorithms are untouched.
    const ed = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]) as CryptoKeyPair;
    const edSignature = await crypto.subtle.sign("Ed25519", ed.privateKey, data);
    assert.ok(await crypto.subtle.verify("Ed25519", ed.publicKey, edSignature, data));
  },
);

Deno.test("without a libcrypto to load there is no OpenSSL signer", () => {
  assert.equal(openSslRsaSigner(["/nonexistent/libcrypto.so.3"]), null);
});
