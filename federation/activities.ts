/**
 * The ActivityStreams objects this instance publishes, built from the
 * domain's state: Notes from messages, and for every operation of a public
 * channel its activity (Create, Update, Delete) and the channel's Announce
 * of it. They are built the same way when sent and when fetched at their
 * id, so a receiver that re-fetches gets what it was sent (minus the
 * signatures). Ids are derived from the operation, never random: a
 * re-send after a crash is the same activity.
 */
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Document,
  EmojiReact,
  Follow,
  Image,
  Like,
  Note,
  type Object as ApObject,
  Reject,
  Source,
  Tombstone,
  Undo,
  Update,
} from "@fedify/vocab";
import { and, asc, desc, eq, lt } from "drizzle-orm";
import { messageIndex, opLog } from "../db/schema.ts";
import type { Harmony } from "../server/harmony.ts";
import type { ChannelInfo, FollowerInfo, MessageView } from "../server/shared/model.ts";
import { type IndexRow, toView } from "../server/messages/oplog.ts";
import type { RemoteOpDocument } from "../server/replication/remoteMessages.ts";
import type { SignedDelete, SignedReact, SignedUnreact } from "../server/documents/signed.ts";
import { DEFAULT_REACTION } from "../server/conversation/model.ts";
import { renderMarkdown } from "../markup/markdown.ts";
import { renderMentions } from "../markup/mentions.ts";
import {
  acceptUri,
  actorUri,
  type AnnounceShape,
  announceUri,
  createUri,
  deleteUri,
  followersUri,
  likeUri,
  memberIdentifier,
  noteIdOf,
  noteKey,
  opKey,
  PUBLIC,
  reactUri,
  rejectUri,
  undoUri,
  updateUri,
} from "./uris.ts";

export type OpRow = typeof opLog.$inferSelect;

const url = (value: string) => new URL(value);
const instant = (value: string) => Temporal.Instant.from(new Date(value).toISOString());

/** The Person actor of a member (or of a fediverse author, whose actor is their own IRI). */
export function authorUri(origin: string, author: string): string {
  return author.startsWith("did:key:") ? actorUri(origin, memberIdentifier(author)) : author;
}

/** The Group actor of a channel. */
export const groupUri = (h: Harmony, channel: ChannelInfo) => actorUri(h.config.origin, channel.id);

/** FEP-1b12 addressing: public, to the group's followers, with the group as audience. */
function addressing(h: Harmony, channel: ChannelInfo) {
  const group = groupUri(h, channel);
  return {
    tos: [url(PUBLIC)],
    ccs: [url(group), url(followersUri(h.config.origin, channel.id))],
    audience: url(group),
  };
}

/** A message written here, as a Note (null for messages from the fediverse: they are not ours to serve). */
export function noteOf(h: Harmony, channel: ChannelInfo, message: MessageView): Note | null {
  const key = noteKey(message.id);
  if (!key || message.deleted) return null;
  const origin = h.config.origin;
  return new Note({
    id: url(noteIdOf(origin, message.id)),
    attribution: url(authorUri(origin, message.author)),
    // Mention tokens (server/attention) become "@…" spans, not escaped `<@did:key:…>` text.
    content: renderMentions(renderMarkdown(message.content)),
    mediaType: "text/html",
    source: new Source({ content: message.content, mediaType: "text/markdown" }),
    published: instant(message.published),
    updated: message.updated ? instant(message.updated) : null,
    // A reply answers its message; a thread reply, without one, answers the thread's root.
    replyTarget: message.inReplyTo || message.thread
      ? url(noteIdOf(origin, (message.inReplyTo || message.thread)!))
      : null,
    url: url(`${origin}/channels/${channel.id}#m-${key}`),
    attachments: attachmentsOf(message),
    ...addressing(h, channel),
  });
}

/**
 * A message's files as the fediverse knows them: Images (raster types, with
 * their pixel size) and Documents, each at its URL here. Only public
 * channels are published, and their files are readable by anyone.
 */
function attachmentsOf(message: MessageView): Array<Image | Document> {
  return (message.attachments ?? []).map((file) => {
    const values = { url: url(file.url), mediaType: file.mediaType, name: file.name };
    return /^image\/(png|jpeg|gif|webp)$/.test(file.mediaType)
      ? new Image({ ...values, width: file.width ?? null, height: file.height ?? null })
      : new Document(values);
  });
}

async function messageRow(h: Harmony, id: string): Promise<IndexRow | null> {
  const [row] = await h.db.select().from(messageIndex).where(eq(messageIndex.id, id));
  return row ?? null;
}

export async function opById(h: Harmony, opId: string): Promise<OpRow | null> {
  const [row] = await h.db.select().from(opLog).where(eq(opLog.id, opId));
  return row ?? null;
}

/** A public channel by IRI, or null (unknown, or members-only: nothing of it is published). */
export async function publicChannel(h: Harmony, channelIri: string): Promise<ChannelInfo | null> {
  const channel = (await h.snapshot()).channels.find((c) => c.iri === channelIri);
  return channel && channel.visibility === "public" ? channel : null;
}

/** The message an operation made or changed, as it is now, if it still shows. */
async function liveMessage(h: Harmony, op: OpRow): Promise<MessageView | null> {
  const row = await messageRow(h, op.target);
  return row && !row.deleted ? toView(row) : null;
}

/**
 * The activity behind an operation: Create(Note) for a post, Update(Note)
 * for the edit that currently wins, Delete(Tombstone) for a deletion;
 * for a fediverse reply, the activity as its author's server sent it.
 * Null when the operation no longer shows (its message was deleted, or
 * another edit won).
 */
export async function activityOf(h: Harmony, channel: ChannelInfo, op: OpRow): Promise<Activity | null> {
  const origin = h.config.origin;
  const key = opKey(op.id);
  if (op.kind === "Remote") {
    const doc = JSON.parse(op.document) as RemoteOpDocument;
    // A moderator's removal is said as the Group's Undo of its Announce (withdrawalOf).
    if (doc.action === "Remove") return null;
    if (doc.action !== "Delete" && !(await liveMessage(h, op))) return null;
    // Restored, the reply is shared again as it first came: its author's Create.
    const received = doc.action === "Restore" ? (await remoteCreateOf(h, op.target))?.activity : doc.activity;
    try {
      return await Activity.fromJsonLd(received);
    } catch {
      return null;
    }
  }
  if (op.kind === "React") return reactionOf(h, channel, op);
  if (op.kind === "Unreact") {
    // Undo of the reactions it removes (usually one), each embedded as it was sent.
    const doc = JSON.parse(op.document) as SignedUnreact;
    const undone: Activity[] = [];
    for (const id of doc.removes) {
      const react = await opById(h, id);
      const activity = react && react.kind === "React" && react.actor === doc.actor
        ? await reactionOf(h, channel, react)
        : null;
      if (activity) undone.push(activity);
    }
    if (undone.length === 0) return null;
    return new Undo({
      id: url(undoUri(origin, key)),
      actor: url(authorUri(origin, doc.actor)),
      // An EmojiReact is named by its id: embedded, its type would compact to a full IRI
      // (the Undo's context lacks litepub's), which receivers that do not expand JSON-LD miss.
      objects: undone.map((a) => a instanceof EmojiReact && a.id ? a.id : a),
      published: instant(doc.published),
      ...addressing(h, channel),
    });
  }
  if (op.kind === "Delete") {
    const doc = JSON.parse(op.document) as SignedDelete;
    if (!noteKey(op.target)) return null;
    return new Delete({
      id: url(deleteUri(origin, key)),
      actor: url(authorUri(origin, doc.actor)),
      object: new Tombstone({ id: url(noteIdOf(origin, op.target)) }),
      published: instant(doc.published),
      ...addressing(h, channel),
    });
  }
  const message = await liveMessage(h, op);
  if (!message) return null;
  const note = noteOf(h, channel, message);
  if (!note) return null;
  if (op.kind === "Message") {
    return new Create({
      id: url(createUri(origin, key)),
      actor: url(authorUri(origin, message.author)),
      object: note,
      published: instant(message.published),
      ...addressing(h, channel),
    });
  }
  if (op.kind === "Update") {
    const row = await messageRow(h, op.target);
    if (row?.editOp !== op.id) return null;
    return new Update({
      id: url(updateUri(origin, key)),
      actor: url(authorUri(origin, message.author)),
      object: note,
      published: message.updated ? instant(message.updated) : null,
      ...addressing(h, channel),
    });
  }
  return null;
}

/** The Create a fediverse reply arrived with, as its document logged it. */
async function remoteCreateOf(h: Harmony, messageId: string): Promise<RemoteOpDocument | null> {
  const rows = await h.db.select().from(opLog)
    .where(and(eq(opLog.target, messageId), eq(opLog.kind, "Remote"))).orderBy(asc(opLog.position));
  for (const row of rows) {
    const doc = JSON.parse(row.document) as RemoteOpDocument;
    if (doc.action === "Create") return doc;
  }
  return null;
}

/** Whether an operation is a moderator's removal of a fediverse reply. */
export function isRemoval(op: OpRow): boolean {
  return op.kind === "Remote" && (JSON.parse(op.document) as RemoteOpDocument).action === "Remove";
}

/**
 * A moderator removed a fediverse reply: the Group takes back what it
 * shared, an Undo of its Announce of the reply (the one made when it came,
 * or when it was last restored) in the shape that follower was sent: of
 * the Note (microblogs) or of its author's Create (FEP-1b12).
 */
export async function withdrawalOf(
  h: Harmony,
  channel: ChannelInfo,
  op: OpRow,
  shape: AnnounceShape,
): Promise<Undo | null> {
  if (!isRemoval(op)) return null;
  const earlier = await h.db.select().from(opLog)
    .where(and(eq(opLog.target, op.target), eq(opLog.kind, "Remote"), lt(opLog.position, op.position)))
    .orderBy(desc(opLog.position));
  const shared = earlier.find((row) => {
    const action = (JSON.parse(row.document) as RemoteOpDocument).action;
    return action === "Create" || action === "Restore";
  });
  const create = await remoteCreateOf(h, op.target);
  if (!shared || !create) return null;
  const origin = h.config.origin;
  const group = url(groupUri(h, channel));
  const doc = JSON.parse(op.document) as RemoteOpDocument;
  return new Undo({
    id: url(undoUri(origin, `${opKey(op.id)}-${shape}`)),
    actor: group,
    object: new Announce({
      id: url(announceUri(origin, opKey(shared.id), shape)),
      actor: group,
      object: url(shape === "object" ? op.target : create.activityId),
    }),
    published: doc.published ? instant(doc.published) : null,
    tos: [url(PUBLIC)],
    ccs: [url(followersUri(origin, channel.id))],
    audience: group,
  });
}

/**
 * A reaction as ActivityPub: the default reaction (❤️) as a plain `Like`,
 * any other emoji as an `EmojiReact` (FEP-c0e0, as Misskey and Pleroma
 * send it) whose `content` is the emoji. Null when the message is gone.
 */
export async function reactionOf(h: Harmony, channel: ChannelInfo, op: OpRow): Promise<Activity | null> {
  const origin = h.config.origin;
  const doc = JSON.parse(op.document) as SignedReact;
  const row = await messageRow(h, op.target);
  if (!row || row.deleted) return null;
  const values = {
    actor: url(authorUri(origin, doc.actor)),
    object: url(noteIdOf(origin, op.target)),
    published: instant(doc.published),
    ...addressing(h, channel),
  };
  return doc.content === DEFAULT_REACTION
    ? new Like({ id: url(likeUri(origin, opKey(op.id))), ...values })
    : new EmojiReact({ id: url(reactUri(origin, opKey(op.id))), content: doc.content, ...values });
}

/** The object a microblog-shaped Announce boosts: the Note itself (its IRI for a fediverse reply). */
async function boostedObject(h: Harmony, channel: ChannelInfo, op: OpRow): Promise<ApObject | URL | null> {
  const message = await liveMessage(h, op);
  if (!message) return null;
  return noteOf(h, channel, message) ?? url(message.id);
}

/**
 * The shape a post takes for a follower: "activity" (FEP-1b12) or
 * "object" (a boost of the Note). Edits and deletions are announced as
 * activities for everyone: there is no other way to say them.
 */
export function shapeFor(op: OpRow, follower: "group-aware" | "microblog"): AnnounceShape {
  const action = op.kind === "Remote" ? (JSON.parse(op.document) as RemoteOpDocument).action : null;
  const creates = op.kind === "Message" || action === "Create" || action === "Restore";
  return follower === "microblog" && creates ? "object" : "activity";
}

/** The channel's Announce of an operation, in the given shape; null if nothing should be announced. */
export async function announceOf(
  h: Harmony,
  channel: ChannelInfo,
  op: OpRow,
  shape: AnnounceShape,
): Promise<Announce | null> {
  if (shape === "object" && shapeFor(op, "microblog") !== "object") return null;
  const built = shape === "object" ? await boostedObject(h, channel, op) : await activityOf(h, channel, op);
  if (!built) return null;
  // An EmojiReact is announced by its id (served there with litepub's context), for the same reason.
  const object = built instanceof EmojiReact && built.id ? built.id : built;
  const group = groupUri(h, channel);
  const doc = JSON.parse(op.document) as { published?: string };
  return new Announce({
    id: url(announceUri(h.config.origin, opKey(op.id), shape)),
    actor: url(group),
    object,
    published: doc.published ? instant(doc.published) : null,
    tos: [url(PUBLIC)],
    ccs: [url(followersUri(h.config.origin, channel.id))],
    audience: url(group),
  });
}

/** Our answer to a Follow: an Accept or a Reject from the channel's Group, embedding the Follow. */
export function answerOf(h: Harmony, channel: ChannelInfo, follower: FollowerInfo): Accept | Reject | null {
  if (follower.state === "pending") return null;
  const group = url(groupUri(h, channel));
  const values = {
    actor: group,
    object: new Follow({ id: url(follower.followId), actor: url(follower.actor), object: group }),
    to: url(follower.actor),
  };
  return follower.state === "accepted"
    ? new Accept({ id: url(acceptUri(h.config.origin, follower.answer)), ...values })
    : new Reject({ id: url(rejectUri(h.config.origin, follower.answer)), ...values });
}
