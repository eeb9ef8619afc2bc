/**
 * The owner's limits on files, kept as quads on the community (graph
 * {origin}/community): the largest file and the most files per message.
 */
import { quadStore } from "../../db/quadstore.ts";
import { integer, iri } from "../../db/terms.ts";
import { authorize } from "../authority/authorize.ts";
import { invalid } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { MAX_ATTACHMENTS } from "../documents/signed.ts";
import { HARMONY_NS } from "../rdf/vocab.ts";

export const FILES_VOCAB = {
  maxFileSize: iri(`${HARMONY_NS}maxFileSize`),
  maxFilesPerMessage: iri(`${HARMONY_NS}maxFilesPerMessage`),
};

export interface FileLimits {
  /** Bytes. */
  maxFileSize: number;
  maxFilesPerMessage: number;
}

export const DEFAULT_LIMITS: FileLimits = { maxFileSize: 10 * 1024 * 1024, maxFilesPerMessage: 10 };
/** What an owner may choose from. */
export const LIMIT_RANGES = {
  maxFileSize: [1024, 1024 * 1024 * 1024],
  maxFilesPerMessage: [1, MAX_ATTACHMENTS],
} as const;

export async function fileLimits(h: Harmony): Promise<FileLimits> {
  const subject = iri(h.iris.community);
  const read = async (predicate: ReturnType<typeof iri>, fallback: number) => {
    const [found] = await quadStore.match(h.db, { graph: h.iris.community, subject, predicate });
    const value = found ? Number(found.object.value) : NaN;
    return Number.isSafeInteger(value) ? value : fallback;
  };
  return {
    maxFileSize: await read(FILES_VOCAB.maxFileSize, DEFAULT_LIMITS.maxFileSize),
    maxFilesPerMessage: await read(FILES_VOCAB.maxFilesPerMessage, DEFAULT_LIMITS.maxFilesPerMessage),
  };
}

function checkLimit(name: keyof FileLimits, value: unknown): number {
  const [low, high] = LIMIT_RANGES[name];
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (!Number.isSafeInteger(n) || (n as number) < low || (n as number) > high) {
    throw invalid(
      `invalid_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`,
      `${name} must be a whole number from ${low} to ${high}`,
    );
  }
  return n as number;
}

/** Changes the limits (admins and the owner: "manage-community"); unnamed limits stay as they are. */
export async function setFileLimits(
  h: Harmony,
  actor: Actor,
  input: Record<string, unknown>,
): Promise<FileLimits> {
  await authorize(h, actor, "manage-community");
  const update: Partial<FileLimits> = {};
  for (const name of ["maxFileSize", "maxFilesPerMessage"] as const) {
    if (input[name] !== undefined) update[name] = checkLimit(name, input[name]);
  }
  if (Object.keys(update).length === 0) {
    throw invalid("nothing_to_change", "send maxFileSize (bytes) and/or maxFilesPerMessage");
  }
  await h.writeCommunity(async (tx) => {
    const g = h.iris.community;
    const subject = iri(h.iris.community);
    for (const [name, value] of Object.entries(update)) {
      await quadStore.set(tx, g, subject, FILES_VOCAB[name as keyof FileLimits], integer(value));
    }
  });
  return await fileLimits(h);
}
