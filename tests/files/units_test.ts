/** The pieces of server/files on their own: the BlobStore contract, sealing, sniffing and names. */
import assert from "node:assert/strict";
import { type BlobStore, LocalDiskStore, MemoryStore, newStorageKey } from "../../server/files/store.ts";
import {
  CHUNK_BYTES,
  chunkBytesOf,
  decryptSpan,
  decryptStream,
  encryptStream,
  HEADER_BYTES,
  newFileKey,
  sealedSize,
  sealedSpan,
} from "../../server/files/cipher.ts";
import { requestedSpan } from "../../server/files/range.ts";
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
      // A range reads only its bytes, and stops where the blob ends.
      assert.deepEqual(await bytesOf((await store.get(key, { offset: 1, length: 1 }))!), new Uint8Array([2]));
      assert.deepEqual(
        await bytesOf((await store.get(key, { offset: 1, length: 9 }))!),
        new Uint8Array([2, 3]),
      );
      assert.deepEqual(await bytesOf((await store.get(key, { offset: 3, length: 2 }))!), new Uint8Array([]));
      assert.equal(await store.get(newStorageKey(), { offset: 0, length: 1 }), null);
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

Deno.test("a span of a sealed file decrypts only its chunks, at every boundary, and refuses chunks from elsewhere", async () => {
  const size = 3 * CHUNK_BYTES + 100;
  const data = crypto.getRandomValues(new Uint8Array(65536));
  const file = new Uint8Array(size);
  for (let at = 0; at < size; at += data.length) {
    file.set(data.subarray(0, Math.min(data.length, size - at)), at);
  }
  const { key } = await newFileKey();
  const sealed = await bytesOf(ReadableStream.from([file]).pipeThrough(encryptStream(key, "urn:uuid:a")));
  const chunkBytes = chunkBytesOf(sealed.subarray(0, HEADER_BYTES));
  assert.equal(chunkBytes, CHUNK_BYTES);
  const read = (start: number, end: number, id = "urn:uuid:a") => {
    const span = sealedSpan(size, start, end, chunkBytes);
    const blob = sealed.slice(span.offset, span.offset + span.length);
    return bytesOf(
      ReadableStream.from([blob.subarray(0, 7), blob.subarray(7)]).pipeThrough(decryptSpan(key, id, span)),
    );
  };
  const C = CHUNK_BYTES;
  for (
    const [start, end] of [[0, 0], [0, size - 1], [C - 1, C], [C, 2 * C - 1], [5, 3 * C + 7], [
      size - 1,
      size - 1,
    ], [
      3 * C,
      size - 1,
    ]]
  ) {
    assert.deepEqual(await read(start, end), file.slice(start, end + 1), `bytes ${start}-${end}`);
  }
  // The first span only reads chunk 0 and nothing of the others.
  assert.deepEqual(sealedSpan(size, 0, 0).length, C + 16);
  assert.equal(sealedSpan(size, 0, size - 1).length + HEADER_BYTES, sealedSize(size));
  // Another file's id, or chunk 0's bytes offered as chunk 1: refused.
  await assert.rejects(read(0, 10, "urn:uuid:b"), /damaged or was tampered/);
  const second = sealedSpan(size, C, C + 10);
  const wrongChunk = sealed.slice(HEADER_BYTES, HEADER_BYTES + second.length);
  await assert.rejects(
    bytesOf(ReadableStream.from([wrongChunk]).pipeThrough(decryptSpan(key, "urn:uuid:a", second))),
  );
  // Cut short: refused.
  const cut = sealed.slice(second.offset, second.offset + 10);
  await assert.rejects(
    bytesOf(ReadableStream.from([cut]).pipeThrough(decryptSpan(key, "urn:uuid:a", second))),
    /truncated/,
  );
  assert.throws(() => chunkBytesOf(new Uint8Array(8)), /unknown format/);
  assert.throws(() => sealedSpan(size, 10, size), RangeError);
});

Deno.test("Range headers: one span served, past-the-end refused, anything else means the whole file", () => {
  const cases: Array<[string | undefined, unknown]> = [
    [undefined, null],
    ["bytes=0-0", { start: 0, end: 0 }],
    ["bytes=10-19", { start: 10, end: 19 }],
    ["BYTES=10-", { start: 10, end: 99 }],
    ["bytes=90-500", { start: 90, end: 99 }],
    ["bytes=-10", { start: 90, end: 99 }],
    ["bytes=-500", { start: 0, end: 99 }],
    ["bytes=100-", "unsatisfiable"],
    ["bytes=100-200", "unsatisfiable"],
    ["bytes=-0", "unsatisfiable"],
    ["bytes=20-10", null],
    ["bytes=0-1,5-6", null],
    ["bytes=-", null],
    ["items=0-1", null],
    ["bytes=a-b", null],
    ["bytes=99999999999999999999-", null],
  ];
  for (const [header, expected] of cases) assert.deepEqual(requestedSpan(header, 100), expected, header);
  assert.equal(requestedSpan("bytes=0-", 0), "unsatisfiable");
  assert.equal(requestedSpan("bytes=-5", 0), "unsatisfiable");
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
