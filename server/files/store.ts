/**
 * Where encrypted file blobs live. The files module only ever talks to a
 * BlobStore; the local disk is the default, and an S3-compatible object
 * store implements the same four calls (PutObject with a streamed body,
 * GetObject with a Range, DeleteObject, HeadObject). Blobs are already encrypted when
 * they reach the store, so the store is never trusted with plaintext.
 */

/**
 * The contract:
 * - keys are opaque strings of 32 lower-case hex digits, chosen by the
 *   caller at random (never from a file name);
 * - `put` consumes the stream to its end and stores the bytes under the key
 *   atomically: when it resolves the whole blob is stored, and when the
 *   stream errors (an upload over its size limit, say) or the store fails,
 *   it rejects and nothing is left under the key;
 * - `get` returns the blob as a stream, or null when there is none; with a
 *   range, only those bytes (fewer if the blob ends first);
 * - `delete` removes the blob; deleting a missing key is not an error;
 * - `exists` says whether a blob is stored under the key.
 */
/** Bytes `offset` to `offset + length - 1` of a blob. */
export interface ByteRange {
  offset: number;
  length: number;
}

export interface BlobStore {
  put(key: string, body: ReadableStream<Uint8Array>): Promise<{ bytes: number }>;
  get(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

const keyPattern = /^[0-9a-f]{32}$/;

export function newStorageKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

function checkKey(key: string): void {
  if (!keyPattern.test(key)) throw new Error(`not a storage key: ${JSON.stringify(key)}`);
}

/** Blobs as files under a directory: {dir}/{first two hex digits}/{key}. */
export class LocalDiskStore implements BlobStore {
  constructor(readonly dir: string) {}

  #path(key: string): string {
    checkKey(key);
    return `${this.dir}/${key.slice(0, 2)}/${key}`;
  }

  async put(key: string, body: ReadableStream<Uint8Array>): Promise<{ bytes: number }> {
    const path = this.#path(key);
    await Deno.mkdir(`${this.dir}/${key.slice(0, 2)}`, { recursive: true });
    // Written under a temporary name and renamed when complete: a reader never sees half a blob.
    const temporary = `${path}.${newStorageKey().slice(0, 8)}.part`;
    const file = await Deno.open(temporary, { write: true, createNew: true, mode: 0o600 });
    let bytes = 0;
    try {
      const counted = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            bytes += chunk.length;
            controller.enqueue(chunk);
          },
        }),
      );
      await counted.pipeTo(file.writable); // closes the file
      await Deno.rename(temporary, path);
      return { bytes };
    } catch (error) {
      try {
        file.close();
      } catch { /* already closed by pipeTo */ }
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path(key), { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    if (!range) return file.readable;
    try {
      await file.seek(range.offset, Deno.SeekMode.Start);
    } catch (error) {
      file.close();
      throw error;
    }
    let left = range.length;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const buffer = new Uint8Array(Math.min(left, 64 * 1024));
        let read: number | null;
        try {
          read = left > 0 ? await file.read(buffer) : null;
        } catch (error) {
          file.close();
          throw error;
        }
        if (read === null) {
          file.close();
          controller.close();
          return;
        }
        left -= read;
        controller.enqueue(buffer.subarray(0, read));
      },
      cancel() {
        file.close();
      },
    });
  }

  async delete(key: string): Promise<void> {
    await Deno.remove(this.#path(key)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.#path(key))).isFile;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }
}

/** A store in memory (tests, and a model of the contract). */
export class MemoryStore implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();

  async put(key: string, body: ReadableStream<Uint8Array>): Promise<{ bytes: number }> {
    checkKey(key);
    const parts: Uint8Array[] = [];
    for await (const chunk of body) parts.push(chunk);
    const blob = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) blob.set(p, (at += p.length) - p.length);
    this.blobs.set(key, blob);
    return { bytes: blob.length };
  }

  get(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null> {
    const blob = this.blobs.get(key);
    if (!blob) return Promise.resolve(null);
    const bytes = range ? blob.slice(range.offset, range.offset + range.length) : blob.slice();
    return Promise.resolve(ReadableStream.from([bytes]));
  }

  delete(key: string): Promise<void> {
    this.blobs.delete(key);
    return Promise.resolve();
  }

  exists(key: string): Promise<boolean> {
    return Promise.resolve(this.blobs.has(key));
  }
}
