/**
 * What the inboxes accept. Fedify checks every POST's signature first
 * (HTTP signatures, draft-cavage as Mastodon signs, or RFC 9421; Linked
 * Data signatures and FEP-8b32 proofs), answers 401 when it is missing or
 * wrong, and checks the signer owns the activity's actor; only then, from
 * the queue, are these listeners called.
 *
 * - Follow of a channel: recorded and decided by server/replication/followers.ts
 *   (accepted, pending an admin, or rejected for a members-only channel);
 *   the answer is sent by outbound.ts.
 * - Undo(Follow): unfollows.
 * - Create(Note) in reply to a channel's message, or addressed to a
 *   channel: enters the channel if its owner opened it to fediverse replies
 *   (server/replication/remoteMessages.ts); otherwise nothing happens.
 * - Update(Note) / Delete(Note) by the author of such a message: edits or
 *   deletes it. Delete of an actor: it follows nothing any more.
 *
 * Nothing from a blocked account or server gets this far (blocks.ts), and
 * each listener ignores one whose actor is blocked all the same.
 */
import type { InboxContext } from "@fedify/fedify";
import {
  type Activity,
  type Actor,
  Create,
  Delete,
  Follow,
  isActor,
  Note,
  type Object as ApObject,
  Undo,
  Update,
} from "@fedify/vocab";
import { eq } from "drizzle-orm";
import { messageIndex } from "../db/schema.ts";
import { HarmonyError } from "../server/shared/errors.ts";
import { forgetFollowerActor, requestFollow, undoFollow } from "../server/replication/followers.ts";
import type { Harmony } from "../server/harmony.ts";
import type { ChannelInfo } from "../server/shared/model.ts";
import {
  receiveRemoteDeletion,
  receiveRemoteEdit,
  receiveRemotePost,
  rememberRemoteActor,
} from "../server/replication/remoteMessages.ts";
import type { HarmonyFederation } from "./federation.ts";
import { cleanSource, htmlToMarkdown } from "./html.ts";
import { softwareOf } from "./software.ts";
import { withDms } from "./dms.ts";
import { unlessBlocked } from "./blocks.ts";
import type { KvStore } from "@fedify/fedify";
import { INSTANCE, messageIdOfNote, paths } from "./uris.ts";

type Ctx = InboxContext<void>;

export interface InboxOptions {
  kv: KvStore;
  /** Called after a follow request was recorded (the answer can be sent). */
  onFollow: () => void;
  log?: (message: string, error?: unknown) => void;
}

/** The activity's JSON as received (it is what the channel's Announce of a reply carries). */
async function received(activity: Activity): Promise<unknown> {
  return await activity.toJsonLd();
}

/** Domain refusals (policy, not found, not the author) end the processing quietly. */
async function quietly<T>(work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HarmonyError) return null;
    throw error;
  }
}

async function channelById(h: Harmony, id: string): Promise<ChannelInfo | null> {
  return (await h.snapshot()).channels.find((c) => c.id === id) ?? null;
}

/** The channel a reply belongs to: that of the message it answers, else a channel it is addressed to. */
async function channelOfReply(h: Harmony, ctx: Ctx, create: Create, note: Note): Promise<ChannelInfo | null> {
  const origin = h.config.origin;
  const target = note.replyTargetId?.href;
  if (target) {
    const id = messageIdOfNote(origin, target) ?? target;
    const [row] = await h.db.select({ channel: messageIndex.channel }).from(messageIndex)
      .where(eq(messageIndex.id, id));
    const channel = row && (await h.snapshot()).channels.find((c) => c.iri === row.channel);
    if (channel) return channel;
  }
  const addressed = [
    ...create.toIds,
    ...create.ccIds,
    ...create.audienceIds,
    ...note.toIds,
    ...note.ccIds,
    ...note.audienceIds,
  ];
  for (const address of addressed) {
    const parsed = ctx.parseUri(address);
    if (parsed?.type !== "actor") continue;
    const channel = await channelById(h, parsed.identifier);
    if (channel) return channel;
  }
  return null;
}

/** The Markdown of a Note: its Markdown or plain-text source if it has one, else its HTML converted. */
function contentOf(note: Note, max: number): string {
  const source = note.source;
  if (source?.content && /^text\/(markdown|plain)\b/.test(source.mediaType ?? "")) {
    return cleanSource(String(source.content), max);
  }
  return htmlToMarkdown(note.content ? String(note.content) : "", max);
}

/** The note of a Create/Update, if it is the sender's own (same actor, same server). */
async function ownNote(ctx: Ctx, activity: Create | Update): Promise<Note | null> {
  const object = await activity.getObject(ctx);
  if (!(object instanceof Note) || !object.id || !activity.actorId) return null;
  if (object.attributionId?.href !== activity.actorId.href) return null;
  if (object.id.origin !== activity.actorId.origin) return null;
  return object;
}

async function remember(h: Harmony, ctx: Ctx, activity: Activity): Promise<void> {
  let actor: Actor | null = null;
  try {
    actor = await activity.getActor(ctx);
  } catch {
    return;
  }
  if (!actor?.id) return;
  const icon = await actor.getIcon(ctx).catch(() => null);
  const url = actor.url instanceof URL ? actor.url.href : actor.url?.href?.href ?? null;
  await rememberRemoteActor(h, {
    iri: actor.id.href,
    name: actor.name ? String(actor.name) : null,
    preferredUsername: actor.preferredUsername ? String(actor.preferredUsername) : null,
    url,
    icon: icon?.url instanceof URL ? icon.url.href : null,
  });
}

export function onFollow(h: Harmony, options: InboxOptions) {
  return async (ctx: Ctx, follow: Follow) => {
    if (!follow.id || !follow.actorId || !follow.objectId) return;
    const parsed = ctx.parseUri(follow.objectId);
    if (parsed?.type !== "actor") return;
    const channel = await channelById(h, parsed.identifier);
    // Only public channels can be followed; a follow of a member, the instance or a members-only
    // channel (which does not exist for the outside: no Reject either) is ignored.
    if (!channel || channel.visibility !== "public") return;
    const follower = await follow.getActor(ctx);
    if (!follower?.id || !follower.inboxId || follower.id.href !== follow.actorId.href) return;
    const software = await softwareOf(options.kv, follower.id.origin, {
      outbound: h.outbound,
      userAgent: "Harmony",
    });
    await quietly(() =>
      requestFollow(h, {
        channelIri: channel.iri,
        actor: follower.id!.href,
        inbox: follower.inboxId!.href,
        sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
        followId: follow.id!.href,
        software,
      })
    );
    options.onFollow();
  };
}

export function onUndo(h: Harmony) {
  return async (ctx: Ctx, undo: Undo) => {
    if (!undo.actorId) return;
    const object = await undo.getObject(ctx).catch(() => null);
    if (!(object instanceof Follow) || !object.objectId) return;
    if (object.actorId?.href !== undo.actorId.href) return;
    const parsed = ctx.parseUri(object.objectId);
    if (parsed?.type !== "actor") return;
    const channel = await channelById(h, parsed.identifier);
    if (!channel) return;
    await undoFollow(h, channel.iri, undo.actorId.href, object.id?.href ?? null);
  };
}

export function onCreate(h: Harmony) {
  return async (ctx: Ctx, create: Create) => {
    const note = await ownNote(ctx, create);
    if (!note || !create.id || !create.actorId) return;
    const channel = await channelOfReply(h, ctx, create, note);
    // Refused with no effect unless the channel is public and open to fediverse replies.
    if (!channel || channel.visibility !== "public" || channel.fediverseReplies !== "open") return;
    const content = contentOf(note, h.config.maxMessageLength);
    if (!content) return;
    await remember(h, ctx, create);
    await quietly(async () =>
      receiveRemotePost(h, {
        channelIri: channel.iri,
        id: note.id!.href,
        author: create.actorId!.href,
        content,
        published: note.published?.toString() ?? new Date().toISOString(),
        activityId: create.id!.href,
        activity: await received(create),
      })
    );
  };
}

export function onUpdate(h: Harmony) {
  return async (ctx: Ctx, update: Update) => {
    if (!update.id || !update.actorId) return;
    const object: ApObject | null = await update.getObject(ctx).catch(() => null);
    if (isActor(object)) {
      // A fediverse author changed their profile: refresh the name shown beside their messages.
      if (
        object.id?.href === update.actorId.href && (await h.snapshot()).profiles.get(object.id.href)?.remote
      ) {
        await remember(h, ctx, update);
      }
      return;
    }
    const note = await ownNote(ctx, update);
    if (!note) return;
    const content = contentOf(note, h.config.maxMessageLength);
    if (!content) return;
    await quietly(async () =>
      receiveRemoteEdit(h, {
        id: note.id!.href,
        author: update.actorId!.href,
        content,
        updated: (note.updated ?? note.published)?.toString() ?? new Date().toISOString(),
        activityId: update.id!.href,
        activity: await received(update),
      })
    );
  };
}

export function onDelete(h: Harmony) {
  return async (_ctx: Ctx, deletion: Delete) => {
    if (!deletion.id || !deletion.actorId || !deletion.objectId) return;
    const actor = deletion.actorId.href;
    const object = deletion.objectId.href;
    if (object === actor) {
      await forgetFollowerActor(h, actor);
      return;
    }
    if (deletion.objectId.origin !== deletion.actorId.origin) return;
    await quietly(async () =>
      receiveRemoteDeletion(h, {
        id: object,
        author: actor,
        published: deletion.published?.toString() ?? new Date().toISOString(),
        activityId: deletion.id!.href,
        activity: await received(deletion),
      })
    );
  };
}

export function registerInbox(federation: HarmonyFederation, h: Harmony, options: InboxOptions): void {
  const log = options.log ?? ((message, error) => console.error(message, error ?? ""));
  federation
    .setInboxListeners(paths.inbox, paths.sharedInbox)
    .on(Follow, unlessBlocked(h, onFollow(h, options)))
    .on(Undo, unlessBlocked(h, onUndo(h)))
    .on(Create, unlessBlocked(h, withDms(h, onCreate(h))))
    .on(Update, unlessBlocked(h, onUpdate(h)))
    .on(Delete, unlessBlocked(h, onDelete(h)))
    // Objects fetched while handling the shared inbox are fetched as the instance (servers in secure mode).
    .setSharedKeyDispatcher(() => ({ identifier: INSTANCE }))
    .onError((_ctx, error) => log("federation: an inbox activity could not be processed", error));
}
