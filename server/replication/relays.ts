/**
 * Relayed operations, and how they are proven. In a mesh (A–B–C, A and C
 * bridged only with B), B delivers to C what A made; C must know that A's
 * channel really is part of the mesh, or any peer could pass off a message
 * signed for some other server's channel as relayed.
 *
 * The proof is the path of bridge grants from the sender's channel to the
 * channel the operation was signed for: the sender's community granted the
 * next channel actor write access to the sender's channel, that one's
 * community granted the next, and so on until the operation's channel. Each
 * grant is a capability delegated from the root of an inbox and signed by
 * that instance's community key, which the receiver learns from the
 * instance itself (`PeerDirectory`); every grant must allow the operation's
 * action. An instance that accepts a relayed operation remembers the path,
 * prefixed with its own grant to the sender, in `bridge_relays`, so that it
 * can prove it in turn when it relays the operation further.
 */
import { and, eq } from "drizzle-orm";
import { bridgeRelays } from "../../db/schema.ts";
import { rootCapabilityId } from "../capabilities/root.ts";
import { HarmonyError } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { bridgeState, type Capability } from "./bridges.ts";

/** Where a community's root key can be learned: from the instance at its origin. */
export interface PeerDirectory {
  /**
   * The did:key controlling the community root of the instance at `origin`,
   * or null when it cannot be learned now. Only called for origins a bridge
   * grant or a verified relay path names.
   */
  communityDid(origin: string): Promise<string | null>;
}

/** The longest relay path accepted: channels more hops away than this do not reach us. */
export const MAX_RELAY_HOPS = 4;
const VERIFIED_TTL_MS = 10 * 60_000;

/** A channel's actor from its IRI (`{origin}/channels/{id}` → `{origin}/ap/actors/{id}`). */
export function channelActorOf(channelIri: string): string | null {
  const match = /^(https?:\/\/[^/]+)\/channels\/([^/?#]+)$/.exec(channelIri);
  return match ? `${match[1]}/ap/actors/${match[2]}` : null;
}

/** A channel's IRI from its actor (the inverse of channelActorOf). */
export function channelOfActor(actor: string): string | null {
  const match = /^(https?:\/\/[^/]+)\/ap\/actors\/([^/?#]+)$/.exec(actor);
  return match ? `${match[1]}/channels/${match[2]}` : null;
}

export function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

const verified = new WeakMap<Harmony, Map<string, number>>();

/** Verifies one bridge grant up to the root of `inbox`, held by the community at its origin. */
async function verifyGrant(
  h: Harmony,
  grant: Record<string, unknown>,
  inbox: string,
  directory: PeerDirectory,
): Promise<string | null> {
  const origin = originOf(inbox)!;
  const did = await directory.communityDid(origin);
  if (!did) {
    throw new HarmonyError(503, "peer_unreachable", `the community key of ${origin} cannot be learned now`);
  }
  const proof = grant.proof as { proofValue?: unknown } | undefined;
  const key = `${String(grant.id)} ${String(proof?.proofValue)} ${did} ${inbox}`;
  let cache = verified.get(h);
  if (!cache) verified.set(h, cache = new Map());
  const until = cache.get(key);
  if (until && until > Date.now() && Date.parse(String(grant.expires)) > Date.now()) return null;
  const result = await h.proofs.verifyDelegation(grant, { rootTarget: inbox, rootController: did });
  if (!result.verified) return result.reason;
  if (cache.size > 10_000) cache.clear();
  cache.set(key, Date.now() + VERIFIED_TTL_MS);
  return null;
}

/**
 * Checks that `path` proves the channel `channelIri` is bridged, hop by
 * hop, with the channel of `sender` (the peer channel actor that sent the
 * operation) for `action`. Throws 403 `unproven_relay` otherwise.
 */
export async function verifyRelayPath(
  h: Harmony,
  sender: string,
  channelIri: string,
  action: string,
  path: unknown,
  directory: PeerDirectory,
): Promise<Capability[]> {
  const unproven = (why: string) =>
    new HarmonyError(
      403,
      "unproven_relay",
      `the operation is not shown to come from a bridged channel: ${why}`,
    );
  const last = channelActorOf(channelIri);
  if (!last) throw unproven("it names no channel");
  if (!Array.isArray(path) || path.length === 0) throw unproven("no relay path was sent with it");
  if (path.length > MAX_RELAY_HOPS) throw unproven(`its relay path is longer than ${MAX_RELAY_HOPS} hops`);
  let holder = sender;
  for (const [i, value] of path.entries()) {
    const grant = value as Record<string, unknown>;
    const inbox = `${holder}/inbox`;
    if (
      typeof grant !== "object" || grant === null || grant.invocationTarget !== inbox ||
      grant.parentCapability !== rootCapabilityId(inbox) || typeof grant.controller !== "string" ||
      !Array.isArray(grant.allowedAction) || !grant.allowedAction.includes(action) ||
      !originOf(grant.controller)
    ) {
      throw unproven(`hop ${i + 1} is not a grant of ${inbox} allowing ${action}`);
    }
    const reason = await verifyGrant(h, grant, inbox, directory);
    if (reason) throw unproven(`hop ${i + 1} does not verify: ${reason}`);
    holder = grant.controller;
    if (holder === last) return path as Capability[];
  }
  throw unproven(`its relay path does not lead to ${last}`);
}

const known = new WeakMap<Harmony, Map<string, string>>();

/**
 * Remembers how `foreignChannel` reaches our `channel`: our grant to the
 * peer that relayed it, then the peer's path.
 */
export async function rememberRelayPath(
  h: Harmony,
  channel: string,
  foreignChannel: string,
  ourGrant: Capability,
  peerPath: Capability[],
): Promise<void> {
  const path = JSON.stringify([ourGrant, ...peerPath]);
  if (peerPath.length + 1 > MAX_RELAY_HOPS) return;
  let cache = known.get(h);
  if (!cache) known.set(h, cache = new Map());
  const key = `${channel} ${foreignChannel}`;
  if (cache.get(key) === path) return;
  const now = Date.now();
  await h.database.write((tx) =>
    tx.insert(bridgeRelays).values({ channel, foreignChannel, path, updated: now }).onConflictDoUpdate({
      target: [bridgeRelays.channel, bridgeRelays.foreignChannel],
      set: { path, updated: now },
    })
  );
  cache.set(key, path);
}

/**
 * The proof that `foreignChannel` (a channel of another instance, whose
 * operation we relay) is bridged with our `channel`: our own grant to it,
 * or the path we learned; null when we have none.
 */
export async function relayPathFor(
  h: Harmony,
  channel: string,
  foreignChannel: string,
): Promise<Capability[] | null> {
  const actor = channelActorOf(foreignChannel);
  const now = Date.now();
  const direct = (await bridgeState(h)).grants.find((g) =>
    g.channel === channel && g.grantee === actor && !g.revoked && Date.parse(g.expires) > now
  );
  if (direct) return [direct.capability];
  const [row] = await h.db.select().from(bridgeRelays).where(
    and(eq(bridgeRelays.channel, channel), eq(bridgeRelays.foreignChannel, foreignChannel)),
  );
  return row ? JSON.parse(row.path) : null;
}
