/**
 * The actors: the instance (an Application), every channel (a Group,
 * FEP-1b12) and every member (a Person whose key is their did:key).
 * Identifiers: "instance", a channel id, or the multibase part of a
 * member's did:key ("z6Mk…"). WebFinger handles: a public channel's name
 * (acct:general@host), a member's identifier, and "instance". Members-only
 * channels are left out (see visibility.ts).
 */
import { Application, Endpoints, Group, Image, Multikey, Person } from "@fedify/vocab";
import type { RequestContext } from "@fedify/fedify";
import { and, eq } from "drizzle-orm";
import { quads } from "../db/schema.ts";
import { isDidKey, publicKeyFromDid } from "../server/crypto/didkey.ts";
import type { Harmony } from "../server/harmony.ts";
import { shortDid } from "../server/community/members.ts";
import type { ChannelInfo } from "../server/shared/model.ts";
import { AS } from "../server/rdf/vocab.ts";
import { escapeHtml } from "../markup/markdown.ts";
import type { HarmonyFederation } from "./federation.ts";
import { actorKeys, ed25519KeyId } from "./keys.ts";
import { INSTANCE, paths } from "./uris.ts";
import { visibleChannel } from "./visibility.ts";

type Ctx = RequestContext<void>;

/** A member (or a former member whose profile or messages are still here) by actor identifier. */
export async function knownMember(h: Harmony, identifier: string): Promise<string | null> {
  const did = `did:key:${identifier}`;
  if (!isDidKey(did)) return null;
  const snapshot = await h.snapshot();
  if (snapshot.members.has(did) || (snapshot.profiles.has(did) && !snapshot.profiles.get(did)?.remote)) {
    return did;
  }
  // Authors of messages keep their actor after leaving (their Notes name it).
  const [authored] = await h.db.select({ id: quads.id }).from(quads).where(
    and(eq(quads.predicate, AS.attributedTo.value), eq(quads.object, did), eq(quads.objectKind, 0)),
  ).limit(1);
  return authored ? did : null;
}

export async function channelOf(h: Harmony, identifier: string): Promise<ChannelInfo | null> {
  return (await h.snapshot()).channels.find((c) => c.id === identifier) ?? null;
}

/** The key pairs Fedify signs with: RSA first (#main-key), Ed25519 second (#key-2, Multikey #multikey-2). */
async function keyPairsOf(h: Harmony, identifier: string): Promise<CryptoKeyPair[]> {
  if (identifier !== INSTANCE && !(await channelOf(h, identifier))) return [];
  const { rsa, ed25519 } = await actorKeys(h, identifier);
  return [rsa, ed25519];
}

async function signingKeys(ctx: Ctx, identifier: string) {
  const pairs = await ctx.getActorKeyPairs(identifier);
  const actor = ctx.getActorUri(identifier);
  const rsa = pairs.find((p) => p.privateKey.algorithm.name === "RSASSA-PKCS1-v1_5");
  const ed25519 = pairs.find((p) => p.multikey.id?.href === ed25519KeyId(actor));
  return { publicKey: rsa?.cryptographicKey ?? null, assertionMethods: ed25519 ? [ed25519.multikey] : [] };
}

function common(ctx: Ctx, identifier: string) {
  return {
    id: ctx.getActorUri(identifier),
    inbox: ctx.getInboxUri(identifier),
    outbox: ctx.getOutboxUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
  };
}

async function groupActor(h: Harmony, ctx: Ctx, channel: ChannelInfo): Promise<Group> {
  const community = (await h.snapshot()).community;
  const open = channel.visibility === "public";
  return new Group({
    ...common(ctx, channel.id),
    ...await signingKeys(ctx, channel.id),
    preferredUsername: channel.name,
    name: `#${channel.name}${community ? ` · ${community.name}` : ""}`,
    summary: channel.topic ? `<p>${escapeHtml(channel.topic)}</p>` : null,
    url: new URL(`/channels/${channel.id}`, h.config.origin),
    followers: ctx.getFollowersUri(channel.id),
    manuallyApprovesFollowers: !open || channel.approveFollowers,
    discoverable: open,
    indexable: open,
  });
}

async function personActor(h: Harmony, ctx: Ctx, identifier: string, did: string): Promise<Person> {
  const profile = (await h.snapshot()).profiles.get(did);
  const actor = ctx.getActorUri(identifier);
  const didKey = await crypto.subtle.importKey(
    "raw",
    publicKeyFromDid(did) as BufferSource,
    { name: "Ed25519" },
    true,
    ["verify"],
  );
  return new Person({
    ...common(ctx, identifier),
    preferredUsername: identifier,
    name: profile?.name || shortDid(did),
    url: new URL(`/members/${encodeURIComponent(did)}`, h.config.origin),
    icon: profile?.avatarType && profile.avatarHash
      ? new Image({
        url: new URL(`/avatars/${encodeURIComponent(did)}`, h.config.origin),
        mediaType: profile.avatarType,
      })
      : null,
    // The member's own key (the one in their did:key): their signed messages verify against it.
    aliases: [new URL(did)],
    assertionMethods: [
      new Multikey({ id: new URL(`#${identifier}`, actor), controller: actor, publicKey: didKey }),
    ],
    manuallyApprovesFollowers: true,
  });
}

async function instanceActor(h: Harmony, ctx: Ctx): Promise<Application> {
  const community = (await h.snapshot()).community;
  return new Application({
    ...common(ctx, INSTANCE),
    ...await signingKeys(ctx, INSTANCE),
    preferredUsername: INSTANCE,
    name: community?.name ?? "Harmony",
    summary: "The Harmony instance hosting this community; its channels are Groups you can follow.",
    url: new URL("/", h.config.origin),
    streams: [ctx.getCollectionUri("channels", { identifier: INSTANCE })],
    manuallyApprovesFollowers: true,
  });
}

export function registerActors(federation: HarmonyFederation, h: Harmony): void {
  federation
    .setActorDispatcher(paths.actor, async (ctx, identifier) => {
      if (identifier === INSTANCE) return await instanceActor(h, ctx);
      const channel = await channelOf(h, identifier);
      // A members-only channel is unknown to the outside (its bridge peers excepted).
      if (channel) {
        const visible = await visibleChannel(h, ctx, channel);
        return visible ? await groupActor(h, ctx, visible) : null;
      }
      const did = await knownMember(h, identifier);
      return did ? await personActor(h, ctx, identifier, did) : null;
    })
    .setKeyPairsDispatcher((_ctx, identifier) => keyPairsOf(h, identifier))
    .mapHandle(async (_ctx, username) => {
      const { channels } = await h.snapshot();
      // Only public channels have a handle; nothing answers for a members-only channel's name.
      const channel = channels.find((c) => c.name === username.toLowerCase() && c.visibility === "public");
      if (channel) return channel.id;
      if (username === INSTANCE) return INSTANCE;
      return await knownMember(h, username) ? username : null;
    });
}
