/**
 * Files attached to messages (docs/api.md "Files", ARCHITECTURE.md).
 *
 * 1. A member uploads a file to a channel they may post in. The body
 *    streams through: its size is counted against the owner's limit (over
 *    it, the upload stops with 413 and nothing is kept), its SHA-256 is
 *    computed, its type sniffed from its bytes, and it is sealed with a new
 *    per-file key on its way to the BlobStore. The answer is the file's
 *    descriptor {id, url, name, mediaType, size, digest, width?, height?}.
 * 2. The member signs a Message whose `attachment` carries descriptors; the
 *    server accepts only descriptors of files that member uploaded to that
 *    channel, unchanged, and not attached elsewhere, and claims them for
 *    the message before storing it.
 * 3. Readers of the channel download the file at its url while the message
 *    lives. Deleting the message removes its files; uploads never attached
 *    are removed after a while (sweepFiles, on a timer and at start).
 */
import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64 } from "@scure/base";
import { files, messageIndex } from "../../db/schema.ts";
import { authorize } from "../authority/authorize.ts";
import { findChannel } from "../channels/channels.ts";
import { forbidden, HarmonyError, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo } from "../shared/model.ts";
import { requireRead } from "../community/permissions.ts";
import type { Attachment, SignedMessage } from "../documents/signed.ts";
import {
  chunkBytesOf,
  decryptSpan,
  decryptStream,
  encryptStream,
  HEADER_BYTES,
  type Kek,
  loadKek,
  newFileKey,
  sealedSpan,
  unwrapFileKey,
  wrapFileKey,
} from "./cipher.ts";
import { fileLimits } from "./limits.ts";
import { moderationState } from "../moderation/state.ts";
import { cleanFileName, urlSegment } from "./names.ts";
import { sniff, SNIFF_BYTES, TextCheck } from "./sniff.ts";
import { type BlobStore, LocalDiskStore, newStorageKey } from "./store.ts";

export type FileRow = typeof files.$inferSelect;
export type FileDescriptor = Attachment;

/** Uploads one member may leave unattached at a time. */
export const MAX_PENDING_UPLOADS = 50;
/** A claimed file whose message never got stored is swept after this long. */
const CLAIM_GRACE_MS = 10 * 60_000;
const DEFAULT_SWEEP_MS = 2 * 60_000;
/** Every this many sweeps, the sweep also walks attached files (deletions that came through a bridge). */
const ORPHAN_SWEEP_EVERY = 30;

export interface FilesService {
  store: BlobStore;
  kek: Kek;
  /** Unattached uploads older than this are swept. */
  unattachedMs: number;
  close(): Promise<void>;
}

const services = new WeakMap<Harmony, FilesService>();

/**
 * Loads the key-encryption key (creating the key file on first start),
 * opens the blob store and starts the sweeper (now, then on a timer).
 */
export async function startFilesService(
  h: Harmony,
  options: { store?: BlobStore; log?: (line: string) => void; sweepEveryMs?: number } = {},
): Promise<FilesService> {
  const dir = h.config.filesDir ?? "data/files";
  const kek = await loadKek({ keyText: h.config.filesKey, keyFile: h.config.filesKeyFile ?? `${dir}.key` });
  const store = options.store ?? new LocalDiskStore(dir);
  let running: Promise<unknown> = Promise.resolve();
  let closed = false;
  let sweeps = 0;
  const sweep = () => {
    if (closed) return;
    const orphans = sweeps++ % ORPHAN_SWEEP_EVERY === 0;
    running = running.then(() => sweepFiles(h, Date.now(), { orphans })).catch((error) => {
      if (!closed) (options.log ?? console.error)(`sweeping files failed: ${error}`);
    });
  };
  const timer = setInterval(sweep, options.sweepEveryMs ?? DEFAULT_SWEEP_MS);
  Deno.unrefTimer(timer);
  const service: FilesService = {
    store,
    kek,
    unattachedMs: (h.config.filesUnattachedSeconds ?? 24 * 3600) * 1000,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
      services.delete(h);
    },
  };
  services.set(h, service);
  sweep();
  return service;
}

export function filesOf(h: Harmony): FilesService {
  const service = services.get(h);
  if (!service) {
    throw new HarmonyError(503, "files_unavailable", "file storage is not running on this instance");
  }
  return service;
}

export const fileUrl = (h: Harmony, row: { id: string; name: string }) =>
  `${h.config.origin}/files/${row.id}/${urlSegment(row.name)}`;

export function descriptorOf(h: Harmony, row: FileRow): FileDescriptor {
  const out: FileDescriptor = {
    id: `urn:uuid:${row.id}`,
    url: fileUrl(h, row),
    name: row.name,
    mediaType: row.mediaType,
    size: row.size,
    digest: row.digest,
  };
  if (row.width !== null && row.height !== null) Object.assign(out, { width: row.width, height: row.height });
  return out;
}

const tooLarge = (max: number) =>
  new HarmonyError(
    413,
    "file_too_large",
    `the file is larger than this community's limit of ${formatBytes(max)}`,
  );

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return `${value >= 10 || Number.isInteger(value) ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export interface UploadInput {
  /** The channel's id (as in its URL). */
  channel: string;
  /** The name the uploader gave (cleaned here; never used as a path). */
  name: string;
  body: ReadableStream<Uint8Array> | null;
  /** Content-Length, when the request declared one. */
  declaredLength: number | null;
}

/** Stores an upload (see the module comment) and returns its descriptor. */
export async function uploadFile(h: Harmony, actor: Actor, input: UploadInput): Promise<FileDescriptor> {
  if (!actor.did) throw unauthorized("sign in to upload files");
  const service = filesOf(h);
  const channel = await findChannel(h, input.channel);
  await authorize(h, actor, "post", channel);
  const timeout = (await moderationState(h)).timeouts.get(actor.did);
  if (timeout && Date.parse(timeout.until) > Date.now()) {
    throw new HarmonyError(403, "timed_out", "you are timed out and cannot upload files until it ends");
  }
  const { maxFileSize } = await fileLimits(h);
  if (input.declaredLength !== null && input.declaredLength > maxFileSize) throw tooLarge(maxFileSize);
  const [{ pending }] = await h.db.select({ pending: sql<number>`count(*)` }).from(files)
    .where(and(eq(files.uploader, actor.did), sql`${files.message} is null`));
  if (pending >= MAX_PENDING_UPLOADS) {
    throw new HarmonyError(
      429,
      "too_many_uploads",
      `you have ${pending} uploads no message uses yet; post or wait before uploading more`,
    );
  }

  const id = crypto.randomUUID();
  const fileId = `urn:uuid:${id}`;
  const { raw, key } = await newFileKey();
  const hash = sha256.create();
  const text = new TextCheck();
  const head = new Uint8Array(SNIFF_BYTES);
  let headLength = 0;
  let size = 0;
  const meter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      size += chunk.length;
      // Over the limit: the stream fails, the store drops what it wrote, the request body is cancelled.
      if (size > maxFileSize) throw tooLarge(maxFileSize);
      hash.update(chunk);
      text.push(chunk);
      if (headLength < SNIFF_BYTES) {
        const part = chunk.subarray(0, SNIFF_BYTES - headLength);
        head.set(part, headLength);
        headLength += part.length;
      }
      controller.enqueue(chunk);
    },
  });
  const storageKey = newStorageKey();
  const body = input.body ?? ReadableStream.from<Uint8Array>([]);
  await service.store.put(storageKey, body.pipeThrough(meter).pipeThrough(encryptStream(key, fileId)));

  try {
    const sniffed = sniff(head.subarray(0, headLength), text.end());
    const row: FileRow = {
      id,
      storageKey,
      channel: channel.iri,
      uploader: actor.did,
      name: cleanFileName(input.name),
      mediaType: sniffed.mediaType,
      size,
      digest: `sha256-${base64.encode(hash.digest())}`,
      width: sniffed.width ?? null,
      height: sniffed.height ?? null,
      wrappedKey: await wrapFileKey(service.kek, fileId, raw),
      kekId: service.kek.id,
      created: Date.now(),
      message: null,
      attachedAt: null,
    };
    await h.database.write((tx) => tx.insert(files).values(row));
    return descriptorOf(h, row);
  } catch (error) {
    await service.store.delete(storageKey).catch(() => {});
    throw error;
  }
}

const uuidOf = (id: string) => id.replace(/^urn:uuid:/, "");
const sameDescriptor = (a: FileDescriptor, b: FileDescriptor) =>
  a.url === b.url && a.name === b.name && a.mediaType === b.mediaType && a.size === b.size &&
  a.digest === b.digest && a.width === b.width && a.height === b.height;

/**
 * Checks the attachments of a message about to be posted and claims its
 * files for it, in one transaction. Returns the undo, for a post that is
 * then refused.
 */
export async function claimAttachments(
  h: Harmony,
  author: string,
  channel: ChannelInfo,
  doc: SignedMessage,
): Promise<() => Promise<void>> {
  const attached = doc.attachment ?? [];
  if (attached.length === 0) return () => Promise.resolve();
  const { maxFilesPerMessage } = await fileLimits(h);
  if (attached.length > maxFilesPerMessage) {
    throw invalid(
      "too_many_files",
      `a message may carry at most ${maxFilesPerMessage} file${maxFilesPerMessage === 1 ? "" : "s"} here`,
    );
  }
  const ids = attached.map((a) => uuidOf(a.id));
  await h.database.write(async (tx) => {
    const rows = await tx.select().from(files).where(inArray(files.id, ids));
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const a of attached) {
      const row = byId.get(uuidOf(a.id));
      if (!row) throw invalid("unknown_file", `${a.name}: there is no such upload; upload the file first`);
      if (row.uploader !== author) throw forbidden(`${a.name}: you can only attach files you uploaded`);
      if (row.channel !== channel.iri) {
        throw invalid("wrong_channel", `${a.name}: the file was uploaded to another channel`);
      }
      if (!sameDescriptor(a, descriptorOf(h, row))) {
        throw invalid("attachment_mismatch", `${a.name}: the descriptor does not match the uploaded file`);
      }
      if (row.message !== null && row.message !== doc.id) {
        throw new HarmonyError(
          409,
          "file_attached",
          `${a.name}: the file is already attached to another message`,
        );
      }
    }
    await tx.update(files).set({ message: doc.id, attachedAt: Date.now() }).where(inArray(files.id, ids));
  });
  return async () => {
    // Refused: unless the message is stored anyway (a retry that raced), the files are free again.
    const [live] = await h.db.select().from(messageIndex).where(eq(messageIndex.id, doc.id));
    if (live && !live.deleted && live.author === author) return;
    await h.database.write((tx) =>
      tx.update(files).set({ message: null, attachedAt: null })
        .where(and(inArray(files.id, ids), eq(files.message, doc.id)))
    );
  };
}

/**
 * The file with this id, if `actor` may download it: a reader of the channel
 * of the live message that carries it, or (before it is attached) its
 * uploader. Anything else is "not found".
 */
export async function readableFile(h: Harmony, actor: Actor, id: string): Promise<FileRow> {
  const missing = () => notFound("there is no such file");
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw missing();
  const [row] = await h.db.select().from(files).where(eq(files.id, id));
  if (!row) throw missing();
  if (row.message !== null) {
    const [message] = await h.db.select().from(messageIndex).where(eq(messageIndex.id, row.message));
    const carried = message && !message.deleted && message.author === row.uploader &&
      (JSON.parse(message.attachments ?? "[]") as Attachment[]).some((a) => a.id === `urn:uuid:${id}`);
    if (carried) {
      const channel = (await h.snapshot()).channels.find((c) => c.iri === message.channel);
      if (!channel) throw missing();
      await requireRead(h, actor, channel);
      return row;
    }
  }
  if (actor.did !== null && actor.did === row.uploader) return row;
  throw missing();
}

/** The plaintext of a stored file, decrypted as it streams. */
export async function openFile(h: Harmony, row: FileRow): Promise<ReadableStream<Uint8Array>> {
  const service = filesOf(h);
  const key = await unwrapFileKey(service.kek, row.kekId, `urn:uuid:${row.id}`, row.wrappedKey);
  const blob = await service.store.get(row.storageKey);
  if (!blob) throw notFound("the file is no longer stored");
  return blob.pipeThrough(decryptStream(key, `urn:uuid:${row.id}`));
}

/** Bytes `start` to `end` (inclusive) of a stored file, decrypting only the chunks that hold them. */
export async function openFileRange(
  h: Harmony,
  row: FileRow,
  start: number,
  end: number,
): Promise<ReadableStream<Uint8Array>> {
  const service = filesOf(h);
  const key = await unwrapFileKey(service.kek, row.kekId, `urn:uuid:${row.id}`, row.wrappedKey);
  const header = await service.store.get(row.storageKey, { offset: 0, length: HEADER_BYTES });
  if (!header) throw notFound("the file is no longer stored");
  const span = sealedSpan(
    row.size,
    start,
    end,
    chunkBytesOf(new Uint8Array(await new Response(header).arrayBuffer())),
  );
  const sealed = await service.store.get(row.storageKey, { offset: span.offset, length: span.length });
  if (!sealed) throw notFound("the file is no longer stored");
  return sealed.pipeThrough(decryptSpan(key, `urn:uuid:${row.id}`, span));
}

/** Removes files (blob first, then row: a crash in between leaves a row the next sweep finishes). */
async function removeFiles(h: Harmony, rows: Array<{ id: string; storageKey: string }>): Promise<number> {
  if (rows.length === 0) return 0;
  const { store } = filesOf(h);
  for (const row of rows) await store.delete(row.storageKey);
  const ids = rows.map((r) => r.id);
  await h.database.write((tx) => tx.delete(files).where(inArray(files.id, ids)));
  return rows.length;
}

/** After a deletion: the message's files go at once (the sweeper catches deletions from elsewhere). */
export async function removeFilesOfMessage(h: Harmony, messageId: string): Promise<number> {
  if (!services.has(h)) return 0;
  const rows = await h.db.select({ id: files.id, storageKey: files.storageKey }).from(files).where(
    and(
      eq(files.message, messageId),
      sql`not exists (select 1 from ${messageIndex} m where m.id = ${files.message} and m.deleted = 0)`,
    ),
  );
  return await removeFiles(h, rows);
}

export interface SweepResult {
  removed: number;
}

/**
 * Removes what no live message carries: uploads never attached once older
 * than the unattached window (an indexed look-up, every sweep) and, with
 * `orphans`, files of messages deleted without passing through
 * deleteMessage (a bridge, a deleted channel) and claims whose message
 * never got stored, walking the attached files a page at a time. `now` is
 * injectable for tests.
 */
export async function sweepFiles(
  h: Harmony,
  now = Date.now(),
  options: { orphans?: boolean } = { orphans: true },
): Promise<SweepResult> {
  const service = filesOf(h);
  let removed = 0;
  for (;;) {
    const rows = await h.db.select({ id: files.id, storageKey: files.storageKey }).from(files)
      .where(and(isNull(files.message), lt(files.created, now - service.unattachedMs))).limit(200);
    removed += await removeFiles(h, rows);
    if (rows.length < 200) break;
  }
  if (!options.orphans) return { removed };
  let after = "";
  for (;;) {
    const rows = await h.db.select().from(files).where(and(isNotNull(files.message), gt(files.id, after)))
      .orderBy(asc(files.id)).limit(500);
    if (rows.length === 0) break;
    after = rows[rows.length - 1].id;
    const messageIds = [...new Set(rows.map((r) => r.message!))];
    const messages = new Map(
      (await h.db.select({ id: messageIndex.id, deleted: messageIndex.deleted, author: messageIndex.author })
        .from(messageIndex).where(inArray(messageIndex.id, messageIds))).map((m) => [m.id, m]),
    );
    const doomed = rows.filter((r) => {
      const message = messages.get(r.message!);
      if (message?.deleted) return true;
      const stale = (r.attachedAt ?? 0) < now - CLAIM_GRACE_MS;
      return stale && (!message || message.author !== r.uploader);
    });
    removed += await removeFiles(h, doomed);
    if (rows.length < 500) break;
  }
  return { removed };
}
