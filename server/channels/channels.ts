import { authorize } from "../authority/authorize.ts";
import { eq } from "drizzle-orm";
import { quadStore } from "../../db/quadstore.ts";
import { messageIndex, opLog } from "../../db/schema.ts";
import { boolean, integer, iri, literal, quad } from "../../db/terms.ts";
import { conflict, invalid, notFound } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { shortId } from "../shared/ids.ts";
import type { Actor, ChannelInfo, FediverseReplies, Visibility } from "../shared/model.ts";
import { canRead } from "../community/permissions.ts";
import { cleanText } from "../shared/text.ts";
import { AS, H, RDF } from "../rdf/vocab.ts";

const channelNamePattern = /^[\p{Ll}\p{Lo}\p{N}_-]{1,32}$/u;

/** "General Chat" becomes "general-chat", as Discord users expect. */
export function normalizeChannelName(value: unknown): string {
  if (typeof value !== "string") throw invalid("invalid_channel_name", "a channel name must be text");
  const name = value.normalize("NFC").trim().replace(/^#/, "").toLowerCase().replace(/\s+/g, "-");
  if (!channelNamePattern.test(name)) {
    throw invalid(
      "invalid_channel_name",
      "a channel name is 1 to 32 letters, digits, hyphens or underscores",
    );
  }
  return name;
}

function parseVisibility(value: unknown): Visibility {
  if (value === "public" || value === "members") return value;
  throw invalid("invalid_visibility", 'visibility must be "public" or "members"');
}

function parseFediverseReplies(value: unknown): FediverseReplies {
  if (value === "members" || value === "open") return value;
  throw invalid("invalid_fediverse_replies", 'fediverseReplies must be "members" or "open"');
}

function parseApproveFollowers(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  throw invalid("invalid_approve_followers", "approveFollowers must be true or false");
}

const cleanTopic = (value: unknown) => cleanText(value, { field: "topic", max: 1024, min: 0 });

/** The channels the actor may see, in order. */
export async function listChannels(h: Harmony, actor: Actor): Promise<ChannelInfo[]> {
  const { channels } = await h.snapshot();
  const visible: ChannelInfo[] = [];
  for (const channel of channels) if (await canRead(h, actor, channel)) visible.push(channel);
  return visible;
}

export async function findChannel(h: Harmony, idOrName: string): Promise<ChannelInfo> {
  const { channels } = await h.snapshot();
  const wanted = idOrName.replace(/^#/, "");
  const channel = channels.find((c) => c.id === wanted) ??
    channels.find((c) => c.name === wanted.toLowerCase()) ??
    channels.find((c) => c.iri === idOrName);
  if (!channel) throw notFound(`there is no channel "${idOrName}"`);
  return channel;
}

export interface NewChannel {
  name: unknown;
  topic?: unknown;
  visibility?: unknown;
  /** Fediverse follow requests wait for an admin (default false). */
  approveFollowers?: unknown;
  /** "members" (default): replies from the fediverse are refused; "open": they enter the channel. */
  fediverseReplies?: unknown;
}

export async function createChannel(h: Harmony, actor: Actor, input: NewChannel): Promise<ChannelInfo> {
  await authorize(h, actor, "manage-channels");
  const name = normalizeChannelName(input.name);
  const topic = input.topic === undefined ? "" : cleanTopic(input.topic);
  const visibility = input.visibility === undefined ? "public" : parseVisibility(input.visibility);
  const approveFollowers = input.approveFollowers === undefined
    ? false
    : parseApproveFollowers(input.approveFollowers);
  const replies = input.fediverseReplies === undefined
    ? "members"
    : parseFediverseReplies(input.fediverseReplies);
  const id = shortId();
  await h.writeCommunity(async (tx) => {
    const g = h.iris.community;
    const existing = await quadStore.match(tx, { graph: g, predicate: AS.name, object: literal(name) });
    for (const q of existing) {
      if (
        (await quadStore.count(tx, {
          graph: g,
          subject: q.subject,
          predicate: RDF.type,
          object: H.Channel,
        })) > 0
      ) {
        throw conflict("channel_exists", `there is already a channel named #${name}`);
      }
    }
    const { channels } = await h.snapshot();
    const position = channels.reduce((max, c) => Math.max(max, c.position + 1), 0);
    const channel = iri(h.iris.channel(id));
    await quadStore.insert(tx, [
      quad(channel, RDF.type, H.Channel, g),
      quad(channel, H.community, iri(h.iris.community), g),
      quad(channel, AS.name, literal(name), g),
      quad(channel, AS.summary, literal(topic), g),
      quad(channel, H.position, integer(position), g),
      quad(channel, H.visibility, visibility === "public" ? H.Public : H.MembersOnly, g),
      quad(channel, H.approveFollowers, boolean(approveFollowers), g),
      quad(channel, H.fediverseReplies, replies === "open" ? H.Open : H.MembersOnly, g),
    ]);
  });
  return await findChannel(h, id);
}

export interface ChannelUpdate {
  name?: unknown;
  topic?: unknown;
  visibility?: unknown;
  approveFollowers?: unknown;
  fediverseReplies?: unknown;
}

export async function updateChannel(
  h: Harmony,
  actor: Actor,
  id: string,
  update: ChannelUpdate,
): Promise<ChannelInfo> {
  await authorize(h, actor, "manage-channels");
  const channel = await findChannel(h, id);
  const name = update.name === undefined ? undefined : normalizeChannelName(update.name);
  const topic = update.topic === undefined ? undefined : cleanTopic(update.topic);
  const visibility = update.visibility === undefined ? undefined : parseVisibility(update.visibility);
  const approveFollowers = update.approveFollowers === undefined
    ? undefined
    : parseApproveFollowers(update.approveFollowers);
  const replies = update.fediverseReplies === undefined
    ? undefined
    : parseFediverseReplies(update.fediverseReplies);
  await h.writeCommunity(async (tx) => {
    const g = h.iris.community;
    const subject = iri(channel.iri);
    if (name !== undefined && name !== channel.name) {
      const { channels } = await h.snapshot();
      if (channels.some((c) => c.name === name && c.iri !== channel.iri)) {
        throw conflict("channel_exists", `there is already a channel named #${name}`);
      }
      await quadStore.set(tx, g, subject, AS.name, literal(name));
    }
    if (topic !== undefined) await quadStore.set(tx, g, subject, AS.summary, literal(topic));
    if (visibility !== undefined) {
      await quadStore.set(tx, g, subject, H.visibility, visibility === "public" ? H.Public : H.MembersOnly);
    }
    if (approveFollowers !== undefined) {
      await quadStore.set(tx, g, subject, H.approveFollowers, boolean(approveFollowers));
    }
    if (replies !== undefined) {
      await quadStore.set(tx, g, subject, H.fediverseReplies, replies === "open" ? H.Open : H.MembersOnly);
    }
  });
  const updated = await findChannel(h, channel.id);
  h.hub.publish(updated.iri, { kind: "channel", channelIri: updated.iri });
  return updated;
}

/** Puts the channels in the given order; channels not listed keep theirs after them. */
export async function reorderChannels(h: Harmony, actor: Actor, ids: unknown): Promise<ChannelInfo[]> {
  await authorize(h, actor, "manage-channels");
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
    throw invalid("invalid_order", "order must be a list of channel ids");
  }
  const { channels } = await h.snapshot();
  const byId = new Map(channels.map((c) => [c.id, c]));
  for (const id of ids) if (!byId.has(id)) throw notFound(`there is no channel "${id}"`);
  if (new Set(ids).size !== ids.length) throw invalid("invalid_order", "a channel is listed twice");
  const ordered = [...ids.map((id) => byId.get(id)!), ...channels.filter((c) => !ids.includes(c.id))];
  await h.writeCommunity(async (tx) => {
    for (const [position, channel] of ordered.entries()) {
      if (channel.position !== position) {
        await quadStore.set(tx, h.iris.community, iri(channel.iri), H.position, integer(position));
      }
    }
  });
  return (await h.snapshot()).channels;
}

/** Deletes a channel with all its messages. */
export async function deleteChannel(h: Harmony, actor: Actor, id: string): Promise<void> {
  await authorize(h, actor, "manage-channels");
  const channel = await findChannel(h, id);
  const { channels } = await h.snapshot();
  if (channels.length === 1) throw conflict("last_channel", "a community keeps at least one channel");
  await h.writeCommunity(async (tx) => {
    await quadStore.remove(tx, { graph: h.iris.community, subject: iri(channel.iri) });
    await quadStore.remove(tx, { graph: channel.iri });
    // Its fediverse followers go with it.
    const follows = { graph: h.iris.followers, predicate: H.channel, object: iri(channel.iri) };
    for (const q of await quadStore.match(tx, follows)) {
      await quadStore.remove(tx, { graph: h.iris.followers, subject: q.subject });
    }
    await tx.delete(messageIndex).where(eq(messageIndex.channel, channel.iri));
    await tx.delete(opLog).where(eq(opLog.channel, channel.iri));
  });
  h.hub.publish(channel.iri, { kind: "channel", channelIri: channel.iri });
}
