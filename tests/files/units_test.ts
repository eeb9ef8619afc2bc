/** The pieces of server/files on their own: the BlobStore contract, sealing, sniffing and names. */
import assert from "node:assert/strict";
import { type BlobStore, LocalDiskStore, MemoryStore, newStorageKey } from "../../server/files/store.ts";
import {
  CHUNK_BYTES,
  decryptStream,
  encryptStream,
  newFileKey,
  sealedSize,
} from "../../server/files/cipher.ts";
import { sniff, TextCheck } from "../../server/files/sniff.ts";
import { asciiFallback, cleanFileName, contentDisposition } from "../../server/files/names.ts";

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

for (const [name, make] of [["LocalDiskStore", null], ["MemoryStore", () => new MemoryStore()]] as const) {
  Deno.test(`${name} keeps the BlobStore contract: atomic put, get, exists, idempotent delete`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const store: BlobStore = make ? make() : new LocalDiskStore(dir);
      const key = newStorageKey();
      assert.equal(await store.exists(key), false);
      assert.equal(await store.get(key), null);
      assert.deepEqual(
        await store.put(key, ReadableStream.from([new Uint8Array([1, 2]), new Uint8Array([3])])),
        {
          bytes: 3,
        },
      );
      assert.equal(await store.exists(key), true);
      assert.deepEqual(await bytesOf((await store.get(key))!), new Uint8Array([1, 2, 3]));
      await store.delete(key);
      await store.delete(key);
      assert.equal(await store.exists(key), false);
      // A stream that fails leaves nothing under the key.
      const failing = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(10));
          controller.error(new Error("over the limit"));
        },
      });
      const other = newStorageKey();
      await assert.rejects(store.put(other, failing), /over the limit/);
      assert.equal(await store.exists(other), false);
      if (!make) assert.deepEqual([...Deno.readDirSync(`${dir}/${other.slice(0, 2)}`)], []);
      // Keys are random hex only: nothing path-like gets through.
      await assert.rejects(store.put("../../etc/passwd", ReadableStream.from([])), /not a storage key/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("sealed files round-trip at every size around the chunk boundary and refuse tampering", async () => {
  for (const size of [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES]) {
    const plain = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536))).slice();
    const data = new Uint8Array(size);
    for (let at = 0; at < size; at += plain.length || 1) {
      data.set(plain.subarray(0, Math.min(plain.length, size - at)), at);
    }
    const { key } = await newFileKey();
    const sealed = await bytesOf(ReadableStream.from([data]).pipeThrough(encryptStream(key, "urn:uuid:a")));
    assert.equal(sealed.length, sealedSize(size));
    assert.deepEqual(
      await bytesOf(ReadableStream.from([sealed]).pipeThrough(decryptStream(key, "urn:uuid:a"))),
      data,
    );
    // Another file's id, a flipped bit, a missing last chunk: all refused.
    await assert.rejects(
      bytesOf(ReadableStream.from([sealed]).pipeThrough(decryptStream(key, "urn:uuid:b"))),
    );
    const flipped = sealed.slice();
    flipped[flipped.length - 1] ^= 1;
    await assert.rejects(
      bytesOf(ReadableStream.from([flipped]).pipeThrough(decryptStream(key, "urn:uuid:a"))),
    );
    if (size > CHUNK_BYTES) {
      const truncated = sealed.slice(0, 8 + CHUNK_BYTES + 16);
      await assert.rejects(
        bytesOf(ReadableStream.from([truncated]).pipeThrough(decryptStream(key, "urn:uuid:a"))),
      );
    }
  }
});

Deno.test("sniffing reads signatures and image headers, and text only when all of it is UTF-8 text", () => {
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0, 20, 0, 30, 3]);
  assert.deepEqual(sniff(jpeg, false), { mediaType: "image/jpeg", width: 30, height: 20 });
  const webp = new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0\0\0");
  const vp8x = new Uint8Array(30);
  vp8x.set(webp);
  vp8x.set([99, 0, 0, 49, 0, 0], 24);
  assert.deepEqual(sniff(vp8x, false), { mediaType: "image/webp", width: 100, height: 50 });
  const check = new TextCheck();
  check.push(new Uint8Array([0xe2, 0x82])); // "€" split across chunks
  check.push(new Uint8Array([0xac, 0x0a]));
  assert.equal(check.end(), true);
  const binary = new TextCheck();
  binary.push(new TextEncoder().encode("text then a NUL \0"));
  assert.equal(binary.end(), false);
  const cut = new TextCheck();
  cut.push(new Uint8Array([0x61, 0xe2, 0x82]));
  assert.equal(cut.end(), false, "a truncated sequence at the end is not text");
});

Deno.test("file names are cleaned for display and headers", () => {
  assert.equal(cleanFileName("C:\\Users\\me\\..\\photo.jpg"), "photo.jpg");
  assert.equal(cleanFileName(".htaccess"), "htaccess");
  assert.equal(asciiFallback('naïve "résumé"/%.pdf'), "naive _resume___.pdf");
  assert.equal(
    contentDisposition("attachment", "über\n.txt"),
    `attachment; filename="uber.txt"; filename*=UTF-8''%C3%BCber.txt`,
  );
});
