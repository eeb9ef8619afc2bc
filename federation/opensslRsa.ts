/**
 * RSASSA-PKCS1-v1_5 signatures made by the system's OpenSSL (libcrypto 3)
 * instead of Deno's WebCrypto.
 *
 * Every delivery to a Mastodon-compatible server carries an HTTP signature
 * made with the sending actor's RSA-2048 key, and a fan-out makes one per
 * receiving server (the signed `Host` differs). Deno's WebCrypto signs RSA
 * with the pure-Rust `rsa` crate: about 1.9 ms of CPU per signature on our
 * 2-core machines, against 0.3 ms for OpenSSL. In a fan-out to 1,000
 * followers the signatures alone were 1.5 s of CPU, most of the 2 s budget
 * (BENCHMARKS.md, fan-out).
 *
 * Fedify signs with `crypto.subtle.sign` and takes no signer of ours, so
 * `installOpenSslRsaSigning` wraps that one method. It answers only
 * RSASSA-PKCS1-v1_5 with an extractable private key that may sign; every
 * other call, and any call OpenSSL fails, goes to WebCrypto unchanged.
 * PKCS#1 v1.5 signatures are deterministic, so the bytes are the ones
 * WebCrypto would have produced (tests/federation/openssl_rsa_test.ts
 * compares them). Without libcrypto.so.3, or without permission to load it,
 * nothing is wrapped.
 */

const symbols = {
  d2i_AutoPrivateKey: { parameters: ["pointer", "pointer", "i64"], result: "pointer" },
  EVP_PKEY_get_size: { parameters: ["pointer"], result: "i32" },
  EVP_get_digestbyname: { parameters: ["buffer"], result: "pointer" },
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_MD_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_DigestSignInit: { parameters: ["pointer", "pointer", "pointer", "pointer", "pointer"], result: "i32" },
  // On a thread of Deno's blocking pool: the event loop goes on while OpenSSL signs.
  EVP_DigestSign: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
} as const;

type LibCrypto = Deno.DynamicLibrary<typeof symbols>["symbols"];

const ALGORITHM = "RSASSA-PKCS1-v1_5";
/** WebCrypto's hash names, as OpenSSL names them. */
const DIGESTS: Record<string, string> = {
  "SHA-1": "SHA1",
  "SHA-256": "SHA256",
  "SHA-384": "SHA384",
  "SHA-512": "SHA512",
};

/** Signs with OpenSSL; `null` means "not mine, or OpenSSL could not": let WebCrypto do it. */
export interface OpenSslRsaSigner {
  sign(key: CryptoKey, data: BufferSource): Promise<ArrayBuffer | null>;
}

/** Where OpenSSL 3's libcrypto is found: Linux distributions, then Homebrew on macOS. */
const LIBCRYPTO_PATHS = [
  "libcrypto.so.3",
  "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
  "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
];

function openLibCrypto(paths: readonly string[]): LibCrypto | null {
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  for (const path of paths) {
    try {
      return Deno.dlopen(path, symbols).symbols;
    } catch {
      // Not there: the next place.
    }
  }
  return null;
}

/** A copy, as WebCrypto takes one (the caller may change its buffer while OpenSSL reads); null when not bytes. */
function bytesOf(data: unknown): Uint8Array<ArrayBuffer> | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  // WebCrypto refuses views over shared memory (a TypeError it gives itself).
  if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  return null;
}

/** A signer over the first libcrypto of `paths` that loads (default: the system's); null when none does. */
export function openSslRsaSigner(paths: readonly string[] = LIBCRYPTO_PATHS): OpenSslRsaSigner | null {
  const lib = openLibCrypto(paths);
  if (lib === null) return null;
  const digests = new Map<string, Deno.PointerValue>();
  for (const [webName, sslName] of Object.entries(DIGESTS)) {
    const md = lib.EVP_get_digestbyname(new TextEncoder().encode(`${sslName}\0`));
    if (md !== null) digests.set(webName, md);
  }
  // OpenSSL's parsed keys, by the key's PKCS#8 bytes (Fedify imports a new CryptoKey for every
  // delivery) and by CryptoKey. An instance signs with a few keys, its actors', so none is ever freed:
  // a key freed here could still be in use by a signature running on another thread.
  const parsed = new Map<string, Deno.PointerObject>();
  const byKey = new WeakMap<CryptoKey, Deno.PointerObject>();

  async function opensslKey(key: CryptoKey): Promise<Deno.PointerObject | null> {
    const known = byKey.get(key);
    if (known) return known;
    const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
    const id = String.fromCharCode(...der);
    let pkey = parsed.get(id) ?? null;
    if (pkey === null) {
      // d2i_* reads through a pointer to the data's pointer (and advances it).
      const cursor = new BigUint64Array([BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(der)))]);
      pkey = lib!.d2i_AutoPrivateKey(null, Deno.UnsafePointer.of(cursor), BigInt(der.byteLength));
      if (pkey === null) return null;
      parsed.set(id, pkey);
    }
    byKey.set(key, pkey);
    return pkey;
  }

  return {
    async sign(key, data) {
      const algorithm = key.algorithm as RsaHashedKeyAlgorithm;
      if (
        key.type !== "private" || !key.extractable || !key.usages.includes("sign") ||
        algorithm.name !== ALGORITHM
      ) return null;
      const md = digests.get(algorithm.hash?.name);
      if (md === undefined) return null;
      const message = bytesOf(data);
      if (message === null) return null;
      const pkey = await opensslKey(key);
      if (pkey === null) return null;
      const ctx = lib.EVP_MD_CTX_new();
      if (ctx === null) return null;
      try {
        if (lib.EVP_DigestSignInit(ctx, null, md, null, pkey) !== 1) return null;
        const signature = new Uint8Array(lib.EVP_PKEY_get_size(pkey));
        const length = new BigUint64Array([BigInt(signature.byteLength)]);
        const ok = await lib.EVP_DigestSign(
          ctx,
          signature,
          new Uint8Array(length.buffer),
          message,
          BigInt(message.byteLength),
        );
        if (ok !== 1) return null;
        return signature.slice(0, Number(length[0])).buffer;
      } finally {
        lib.EVP_MD_CTX_free(ctx);
      }
    },
  };
}

let installed: "openssl" | "webcrypto" | null = null;

/**
 * Routes `crypto.subtle.sign` for RSASSA-PKCS1-v1_5 through OpenSSL when it
 * can load; says which one signs RSA from now on. Idempotent.
 */
export function installOpenSslRsaSigning(): "openssl" | "webcrypto" {
  if (installed !== null) return installed;
  const signer = openSslRsaSigner();
  if (signer === null) return installed = "webcrypto";
  const subtle = crypto.subtle;
  const webCryptoSign = subtle.sign;
  const sign = async function (
    this: SubtleCrypto,
    algorithm: AlgorithmIdentifier | RsaPssParams | EcdsaParams,
    key: CryptoKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> {
    const name = typeof algorithm === "string" ? algorithm : algorithm?.name;
    if (
      typeof name === "string" && name.toUpperCase() === ALGORITHM.toUpperCase() &&
      key instanceof CryptoKey
    ) {
      // WebCrypto reads the data when called: later changes to the caller's buffer must not count.
      const bytes = bytesOf(data);
      if (bytes !== null) {
        const signature = await signer.sign(key, bytes).catch(() => null);
        if (signature !== null) return signature;
        return await webCryptoSign.call(this ?? subtle, algorithm, key, bytes);
      }
    }
    return await webCryptoSign.call(this ?? subtle, algorithm, key, data);
  };
  Object.defineProperty(subtle, "sign", { value: sign, writable: true, configurable: true });
  return installed = "openssl";
}
