/**
 * Encryption at rest. Every file has its own random AES-256-GCM key; the
 * blob is the file cut into 64 KiB chunks, each sealed on its own (nonce =
 * chunk number and a "last chunk" flag, the file id as associated data), so
 * files stream in and out in bounded memory and a truncated, reordered or
 * swapped blob fails to decrypt. The file key is stored wrapped (AES-GCM)
 * by the instance's key-encryption key, which lives outside the database
 * (HARMONY_FILES_KEY or a key file): a stolen database alone opens nothing.
 */
import { base64, base64urlnopad } from "@scure/base";
import { sha256Hex } from "../shared/ids.ts";

/** Plaintext bytes per sealed chunk. */
export const CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
/** The blob starts with a format marker and the chunk size. */
const MAGIC = [0x48, 0x46, 0x42, 0x31]; // "HFB1"
export const HEADER_BYTES = 8;

export interface Kek {
  key: CryptoKey;
  /** A fingerprint of the key (stored with each wrapped key; reveals nothing). */
  id: string;
}

export class FilesKeyError extends Error {
  override name = "FilesKeyError";
}

async function importKek(bytes: Uint8Array): Promise<Kek> {
  if (bytes.length !== 32) throw new FilesKeyError("the files key must be 32 bytes");
  const key = await crypto.subtle.importKey("raw", bytes.slice().buffer, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  return {
    key,
    id: (await sha256Hex(new Uint8Array([...new TextEncoder().encode("harmony-kek:"), ...bytes])))
      .slice(0, 16),
  };
}

/** Parses a key given as 64 hex digits or as (url-safe) base64 of 32 bytes. */
export function parseKeyText(text: string): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Uint8Array.from(t.match(/../g)!.map((x) => parseInt(x, 16)));
  try {
    const bytes = t.includes("+") || t.includes("/") || t.endsWith("=")
      ? base64.decode(t)
      : base64urlnopad.decode(t);
    if (bytes.length === 32) return bytes;
  } catch { /* fall through */ }
  throw new FilesKeyError("the files key must be 32 bytes, as 64 hex digits or base64");
}

/**
 * The key-encryption key: from HARMONY_FILES_KEY if set, else from the key
 * file, created (mode 0600) with a random key on first start.
 */
export async function loadKek(options: { keyText?: string; keyFile: string }): Promise<Kek> {
  if (options.keyText) return await importKek(parseKeyText(options.keyText));
  try {
    return await importKek(parseKeyText(await Deno.readTextFile(options.keyFile)));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const dir = options.keyFile.replace(/[/\\][^/\\]*$/, "");
  if (dir && dir !== options.keyFile) await Deno.mkdir(dir, { recursive: true });
  try {
    await Deno.writeTextFile(options.keyFile, base64urlnopad.encode(bytes) + "\n", {
      createNew: true,
      mode: 0o600,
    });
  } catch (error) {
    // Another process created it first: use theirs.
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    return await importKek(parseKeyText(await Deno.readTextFile(options.keyFile)));
  }
  return await importKek(bytes);
}

const wrapAad = (fileId: string) => new TextEncoder().encode(`harmony-file-key:${fileId}`);

/** A fresh random file key: the raw bytes (to wrap) and the key to seal chunks with. */
export async function newFileKey(): Promise<{ raw: Uint8Array; key: CryptoKey }> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return { raw, key: await importFileKey(raw) };
}

function importFileKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw.slice().buffer, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** The file key sealed by the KEK, bound to the file id: base64(nonce || ciphertext). */
export async function wrapFileKey(kek: Kek, fileId: string, raw: Uint8Array): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: wrapAad(fileId) },
      kek.key,
      raw.slice(),
    ),
  );
  return base64.encode(new Uint8Array([...iv, ...sealed]));
}

export async function unwrapFileKey(
  kek: Kek,
  kekId: string,
  fileId: string,
  wrapped: string,
): Promise<CryptoKey> {
  if (kekId !== kek.id) {
    throw new FilesKeyError(
      `this file was sealed with another files key (${kekId}); the instance has ${kek.id}`,
    );
  }
  const bytes = base64.decode(wrapped);
  try {
    const raw = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: wrapAad(fileId) },
      kek.key,
      bytes.slice(12),
    );
    return await importFileKey(new Uint8Array(raw));
  } catch {
    throw new FilesKeyError("the file key cannot be unwrapped with the instance's files key");
  }
}

function nonce(index: number, last: boolean): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(3, BigInt(index));
  iv[11] = last ? 1 : 0;
  return iv;
}

/** Collects bytes and hands out fixed-size pieces. */
class Buffer {
  #parts: Uint8Array[] = [];
  length = 0;

  push(chunk: Uint8Array): void {
    this.#parts.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const part = this.#parts[0];
      const used = Math.min(part.length, n - filled);
      out.set(part.subarray(0, used), filled);
      filled += used;
      if (used === part.length) this.#parts.shift();
      else this.#parts[0] = part.subarray(used);
    }
    this.length -= n;
    return out;
  }
}

/** Plaintext in, blob out (header, then sealed chunks). */
export function encryptStream(key: CryptoKey, fileId: string): TransformStream<Uint8Array, Uint8Array> {
  const aad = new TextEncoder().encode(fileId);
  const buffer = new Buffer();
  let index = 0;
  const seal = async (plain: Uint8Array<ArrayBuffer>, last: boolean) =>
    new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce(index++, last), additionalData: aad },
        key,
        plain,
      ),
    );
  return new TransformStream({
    start(controller) {
      const header = new Uint8Array(HEADER_BYTES);
      header.set(MAGIC);
      new DataView(header.buffer).setUint32(4, CHUNK_BYTES);
      controller.enqueue(header);
    },
    async transform(chunk, controller) {
      buffer.push(chunk);
      // A chunk is sealed once more bytes follow it: the last one is sealed at the end, flagged as last.
      while (buffer.length > CHUNK_BYTES) controller.enqueue(await seal(buffer.take(CHUNK_BYTES), false));
    },
    async flush(controller) {
      controller.enqueue(await seal(buffer.take(buffer.length), true));
    },
  });
}

/** Blob in, plaintext out; fails on any change to the blob (including truncation). */
export function decryptStream(key: CryptoKey, fileId: string): TransformStream<Uint8Array, Uint8Array> {
  const aad = new TextEncoder().encode(fileId);
  const buffer = new Buffer();
  let index = 0;
  let chunkBytes = -1;
  const open = async (sealed: Uint8Array<ArrayBuffer>, last: boolean) => {
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: nonce(index++, last), additionalData: aad },
          key,
          sealed,
        ),
      );
    } catch {
      throw new FilesKeyError("the stored file is damaged or was tampered with");
    }
  };
  const readHeader = () => {
    if (chunkBytes >= 0 || buffer.length < HEADER_BYTES) return;
    const header = buffer.take(HEADER_BYTES);
    if (!MAGIC.every((b, i) => header[i] === b)) {
      throw new FilesKeyError("the stored file has an unknown format");
    }
    chunkBytes = new DataView(header.buffer).getUint32(4);
  };
  return new TransformStream({
    async transform(chunk, controller) {
      buffer.push(chunk);
      readHeader();
      if (chunkBytes < 0) return;
      while (buffer.length > chunkBytes + TAG_BYTES) {
        controller.enqueue(await open(buffer.take(chunkBytes + TAG_BYTES), false));
      }
    },
    async flush(controller) {
      readHeader();
      if (chunkBytes < 0 || buffer.length < TAG_BYTES) {
        throw new FilesKeyError("the stored file is truncated");
      }
      const plain = await open(buffer.take(buffer.length), true);
      if (plain.length) controller.enqueue(plain);
    },
  });
}

/**
 * Where plaintext bytes `start` to `end` (inclusive) of a file of `size`
 * bytes lie in its blob: the sealed chunks holding them (`offset`,
 * `length` in the blob), and which of their bytes to keep.
 */
export interface SealedSpan {
  size: number;
  chunkBytes: number;
  offset: number;
  length: number;
  firstChunk: number;
  lastChunk: number;
  /** Plaintext bytes to drop from the first chunk, and to keep in all. */
  skip: number;
  take: number;
}

export function sealedSpan(size: number, start: number, end: number, chunkBytes = CHUNK_BYTES): SealedSpan {
  if (!(0 <= start && start <= end && end < size)) {
    throw new RangeError(`no bytes ${start}-${end} in ${size}`);
  }
  const sealedChunk = chunkBytes + TAG_BYTES;
  const finalChunk = Math.max(1, Math.ceil(size / chunkBytes)) - 1;
  const firstChunk = Math.floor(start / chunkBytes);
  const lastChunk = Math.floor(end / chunkBytes);
  const offset = HEADER_BYTES + firstChunk * sealedChunk;
  const stop = lastChunk === finalChunk
    ? HEADER_BYTES + size + TAG_BYTES * (finalChunk + 1)
    : HEADER_BYTES + (lastChunk + 1) * sealedChunk;
  return {
    size,
    chunkBytes,
    offset,
    length: stop - offset,
    firstChunk,
    lastChunk,
    skip: start - firstChunk * chunkBytes,
    take: end - start + 1,
  };
}

/** The chunk size a blob's header declares; refuses what is not one of our blobs. */
export function chunkBytesOf(header: Uint8Array): number {
  if (header.length < HEADER_BYTES || !MAGIC.every((b, i) => header[i] === b)) {
    throw new FilesKeyError("the stored file has an unknown format");
  }
  const chunkBytes = new DataView(header.buffer, header.byteOffset, HEADER_BYTES).getUint32(4);
  if (chunkBytes === 0) throw new FilesKeyError("the stored file has an unknown format");
  return chunkBytes;
}

/**
 * The sealed chunks of a span in (the blob's bytes `span.offset` on), its
 * plaintext bytes out. Each chunk is opened with its own number and "last"
 * flag, so chunks from elsewhere in the blob, or another blob, fail.
 */
export function decryptSpan(
  key: CryptoKey,
  fileId: string,
  span: SealedSpan,
): TransformStream<Uint8Array, Uint8Array> {
  const aad = new TextEncoder().encode(fileId);
  const buffer = new Buffer();
  const finalChunk = Math.max(1, Math.ceil(span.size / span.chunkBytes)) - 1;
  const sealedLength = (index: number) =>
    (index === finalChunk ? span.size - finalChunk * span.chunkBytes : span.chunkBytes) + TAG_BYTES;
  let index = span.firstChunk;
  let left = span.take;
  return new TransformStream({
    async transform(chunk, controller) {
      buffer.push(chunk);
      while (index <= span.lastChunk && buffer.length >= sealedLength(index)) {
        let plain: Uint8Array;
        try {
          plain = new Uint8Array(
            await crypto.subtle.decrypt(
              { name: "AES-GCM", iv: nonce(index, index === finalChunk), additionalData: aad },
              key,
              buffer.take(sealedLength(index)),
            ),
          );
        } catch {
          throw new FilesKeyError("the stored file is damaged or was tampered with");
        }
        if (index === span.firstChunk) plain = plain.subarray(span.skip);
        if (plain.length > left) plain = plain.subarray(0, left);
        left -= plain.length;
        index++;
        if (plain.length) controller.enqueue(plain);
      }
    },
    flush() {
      if (index <= span.lastChunk || left > 0) throw new FilesKeyError("the stored file is truncated");
    },
  });
}

/** Size of the blob that holds `size` bytes of plaintext. */
export function sealedSize(size: number): number {
  return HEADER_BYTES + size + TAG_BYTES * Math.max(1, Math.ceil(size / CHUNK_BYTES));
}
