/**
 * What the outside may see of a channel. A public channel is a Group
 * anyone can look up. A members-only channel does not exist for the
 * outside: its actor, WebFinger handle, collections, objects and inbox
 * answer as an unknown one would (404). The one exception is its actor
 * document, which the channel's bridge peers need for its keys: it is
 * served to a request signed (HTTP signature) by the peer instance's
 * actor or the peer channel actor of a standing grant or link of that
 * channel. federation/bridge/peers.ts signs those fetches with the
 * instance actor.
 */
import type { RequestContext } from "@fedify/fedify";
import type { Harmony } from "../server/harmony.ts";
import { bridgeState } from "../server/replication/bridges.ts";
import type { ChannelInfo } from "../server/shared/model.ts";
import { actorUri, INSTANCE } from "./uris.ts";

/** The actors whose signed requests may see `channel` although it is members-only. */
export async function bridgePeerActors(h: Harmony, channel: ChannelInfo): Promise<Set<string>> {
  const { grants, links } = await bridgeState(h);
  const now = Date.now();
  const peers = [
    ...grants.filter((g) => g.channel === channel.iri && !g.revoked && Date.parse(g.expires) > now)
      .map((g) => g.grantee),
    ...links.filter((l) => l.channel === channel.iri && Date.parse(l.expires) > now).map((l) => l.peerActor),
  ];
  const actors = new Set<string>();
  for (const peer of peers) {
    actors.add(peer);
    try {
      actors.add(actorUri(new URL(peer).origin, INSTANCE));
    } catch { /* not a URL: nothing to add */ }
  }
  return actors;
}

/** Whether the request carries a valid HTTP signature by one of `channel`'s bridge peers. */
export async function signedByBridgePeer(
  h: Harmony,
  ctx: RequestContext<void>,
  channel: ChannelInfo,
): Promise<boolean> {
  const request = ctx.request;
  if (!request.headers.has("signature") && !request.headers.has("signature-input")) return false;
  const peers = await bridgePeerActors(h, channel);
  if (peers.size === 0) return false;
  const key = await ctx.getSignedKey().catch(() => null);
  if (!key?.id) return false;
  const owner = key.id.href.split("#")[0];
  return peers.has(owner) && (key.ownerId === null || key.ownerId.href === owner);
}

/** `channel` if the requester may see it: public, or members-only and asked for by a bridge peer. */
export async function visibleChannel(
  h: Harmony,
  ctx: RequestContext<void> | null,
  channel: ChannelInfo | null,
): Promise<ChannelInfo | null> {
  if (!channel) return null;
  if (channel.visibility === "public") return channel;
  return ctx && await signedByBridgePeer(h, ctx, channel) ? channel : null;
}
