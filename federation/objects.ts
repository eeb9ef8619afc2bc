/**
 * Every object and activity this instance sends is served at its id
 * (receivers re-fetch them to check they are genuine): Notes, the
 * Create/Update/Delete of each operation, the channels' Announces, and
 * the Accept or Reject of each Follow. Nothing of a members-only channel
 * is served (its answers to Follows included), nor anything deleted (404).
 */
import {
  Accept,
  Announce,
  Create,
  Delete,
  EmojiReact,
  Like,
  Note,
  Reject,
  Undo,
  Update,
} from "@fedify/vocab";
import { eq } from "drizzle-orm";
import { messageIndex } from "../db/schema.ts";
import { followerByAnswer } from "../server/replication/followers.ts";
import type { Harmony } from "../server/harmony.ts";
import { toView } from "../server/messages/oplog.ts";
import {
  activityOf,
  announceOf,
  answerOf,
  noteOf,
  opById,
  publicChannel,
  withdrawalOf,
} from "./activities.ts";
import type { HarmonyFederation } from "./federation.ts";
import { paths } from "./uris.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const hex = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);

/** The operation an activity path names, with its channel, if that channel is public. */
async function publicOp(h: Harmony, key: string) {
  if (!hex(40).test(key)) return null;
  const op = await opById(h, `urn:harmony:op:${key}`);
  if (!op) return null;
  const channel = await publicChannel(h, op.channel);
  return channel ? { op, channel } : null;
}

export function registerObjects(federation: HarmonyFederation, h: Harmony): void {
  federation.setObjectDispatcher(Note, paths.note, async (_ctx, { id }) => {
    if (!uuid.test(id)) return null;
    const [row] = await h.db.select().from(messageIndex).where(eq(messageIndex.id, `urn:uuid:${id}`));
    if (!row) return null;
    const channel = await publicChannel(h, row.channel);
    return channel ? noteOf(h, channel, toView(row)) : null;
  });

  federation.setObjectDispatcher(Create, paths.create, async (_ctx, { op: key }) => {
    const found = await publicOp(h, key);
    if (found?.op.kind !== "Message") return null;
    const activity = await activityOf(h, found.channel, found.op);
    return activity instanceof Create ? activity : null;
  });

  federation.setObjectDispatcher(Update, paths.update, async (_ctx, { op: key }) => {
    const found = await publicOp(h, key);
    if (found?.op.kind !== "Update") return null;
    const activity = await activityOf(h, found.channel, found.op);
    return activity instanceof Update ? activity : null;
  });

  federation.setObjectDispatcher(Delete, paths.delete, async (_ctx, { op: key }) => {
    const found = await publicOp(h, key);
    if (found?.op.kind !== "Delete") return null;
    const activity = await activityOf(h, found.channel, found.op);
    return activity instanceof Delete ? activity : null;
  });

  // Reactions (server/conversation/): Like for the default, EmojiReact otherwise, and their Undo.
  federation.setObjectDispatcher(EmojiReact, paths.react, async (_ctx, { op: key }) => {
    const found = await publicOp(h, key);
    if (found?.op.kind !== "React") return null;
    const activity = await activityOf(h, found.channel, found.op);
    return activity instanceof EmojiReact ? activity : null;
  });
  federation.setObjectDispatcher(Like, paths.like, async (_ctx, { op: key }) => {
    const found = await publicOp(h, key);
    if (found?.op.kind !== "React") return null;
    const activity = await activityOf(h, found.channel, found.op);
    return activity instanceof Like ? activity : null;
  });
  // Undo of reactions (the Unreact's key), or the Group taking back its Announce of a removed
  // fediverse reply ("{removal's key}-{shape}").
  federation.setObjectDispatcher(Undo, paths.undo, async (_ctx, { op: param }) => {
    const [, key, shape] = /^([0-9a-f]{40})(?:-(activity|object))?$/.exec(param) ?? [];
    const found = key ? await publicOp(h, key) : null;
    if (!found) return null;
    if (shape) return await withdrawalOf(h, found.channel, found.op, shape as "activity" | "object");
    if (found.op.kind !== "Unreact") return null;
    const activity = await activityOf(h, found.channel, found.op);
    return activity instanceof Undo ? activity : null;
  });

  federation.setObjectDispatcher(Announce, paths.announce, async (_ctx, { op: key, shape }) => {
    if (shape !== "activity" && shape !== "object") return null;
    const found = await publicOp(h, key);
    return found ? await announceOf(h, found.channel, found.op, shape) : null;
  });

  const answer = async (key: string) => {
    if (!hex(32).test(key)) return null;
    const follower = await followerByAnswer(h, key);
    const channel = follower && await publicChannel(h, follower.channel);
    return follower && channel ? answerOf(h, channel, follower) : null;
  };
  federation.setObjectDispatcher(Accept, paths.accept, async (_ctx, { key }) => {
    const found = await answer(key);
    return found instanceof Accept ? found : null;
  });
  federation.setObjectDispatcher(Reject, paths.reject, async (_ctx, { key }) => {
    const found = await answer(key);
    return found instanceof Reject ? found : null;
  });
}
