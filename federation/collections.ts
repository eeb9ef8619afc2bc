/**
 * Collections: a channel's outbox (its Announces, newest first, paged),
 * its followers, and the instance's list of public channels. A
 * members-only channel has neither outbox nor followers (404). Members
 * and the instance have empty outboxes.
 */
import { Group, type Recipient } from "@fedify/vocab";
import { and, count, desc, eq, lt } from "drizzle-orm";
import { messageIndex, opLog } from "../db/schema.ts";
import { acceptedFollowers } from "../server/replication/followers.ts";
import type { Harmony } from "../server/harmony.ts";
import type { Announce } from "@fedify/vocab";
import { announceOf } from "./activities.ts";
import { channelOf } from "./actors.ts";
import type { HarmonyFederation } from "./federation.ts";
import { actorUri, INSTANCE, paths } from "./uris.ts";

/** Announces per outbox page. */
const PAGE = 20;
/** Followers per collection page. */
const FOLLOWERS_PAGE = 100;
const FIRST = "top";

export function registerCollections(federation: HarmonyFederation, h: Harmony): void {
  const publicChannelOf = async (identifier: string) => {
    const channel = await channelOf(h, identifier);
    return channel?.visibility === "public" ? channel : null;
  };
  const otherActor = async (identifier: string) =>
    identifier === INSTANCE || (!(await channelOf(h, identifier)) && /^z6Mk/.test(identifier));

  federation
    .setOutboxDispatcher(paths.outbox, async (_ctx, identifier, cursor) => {
      const channel = await publicChannelOf(identifier);
      if (!channel) return (await otherActor(identifier)) ? { items: [], nextCursor: null } : null;
      let before = cursor === null || cursor === FIRST ? Number.MAX_SAFE_INTEGER : Number(cursor);
      if (!Number.isSafeInteger(before)) return null;
      const items: Announce[] = [];
      // Operations that no longer show (deleted messages, edits that lost) are skipped.
      for (let scanned = 0; items.length < PAGE && scanned < PAGE * 10;) {
        const rows = await h.db.select().from(opLog)
          .where(and(eq(opLog.channel, channel.iri), lt(opLog.position, before)))
          .orderBy(desc(opLog.position)).limit(PAGE);
        if (rows.length === 0) return { items, nextCursor: null };
        for (const op of rows) {
          scanned++;
          before = op.position;
          const announce = await announceOf(h, channel, op, "activity");
          if (announce) items.push(announce);
          if (items.length === PAGE) break;
        }
      }
      return { items, nextCursor: String(before) };
    })
    // Only a public channel's outbox pages; the others answer in one go (empty) or not at all (404).
    .setFirstCursor(async (_ctx, identifier) => (await publicChannelOf(identifier)) ? FIRST : null)
    .setCounter(async (_ctx, identifier) => {
      const channel = await publicChannelOf(identifier);
      if (!channel) return 0;
      const [row] = await h.db.select({ n: count() }).from(messageIndex)
        .where(and(eq(messageIndex.channel, channel.iri), eq(messageIndex.deleted, false)));
      return row?.n ?? 0;
    });

  federation
    .setFollowersDispatcher(paths.followers, async (_ctx, identifier, cursor) => {
      const channel = await publicChannelOf(identifier);
      if (!channel) return (await otherActor(identifier)) ? { items: [], nextCursor: null } : null;
      const all: Recipient[] = (await acceptedFollowers(h, channel.iri)).map((f) => ({
        id: new URL(f.actor),
        inboxId: new URL(f.inbox),
        endpoints: f.sharedInbox ? { sharedInbox: new URL(f.sharedInbox) } : null,
      }));
      if (cursor === null) return { items: all };
      const offset = Number(cursor);
      if (!Number.isSafeInteger(offset) || offset < 0) return null;
      const items = all.slice(offset, offset + FOLLOWERS_PAGE);
      const next = offset + FOLLOWERS_PAGE;
      return { items, nextCursor: next < all.length ? String(next) : null };
    })
    .setFirstCursor(async (_ctx, identifier) => (await publicChannelOf(identifier)) ? "0" : null)
    .setCounter(async (_ctx, identifier) => {
      const channel = await publicChannelOf(identifier);
      return channel ? (await acceptedFollowers(h, channel.iri)).length : 0;
    });

  federation
    .setCollectionDispatcher("channels", Group, paths.channels, async (_ctx, { identifier }) => {
      if (identifier !== INSTANCE) return null;
      const { channels } = await h.snapshot();
      return {
        items: channels.filter((c) => c.visibility === "public").map((c) =>
          new Group({
            id: new URL(actorUri(h.config.origin, c.id)),
            preferredUsername: c.name,
            name: `#${c.name}`,
          })
        ),
      };
    });
}
