/**
 * Bridged channels, the domain side. A bridge between our channel and a
 * channel on another Harmony instance is two capabilities:
 *
 * - a grant: a capability we delegate from our community's root capability
 *   to the peer's channel actor, for exactly one of our channels' inboxes,
 *   for some actions, until an expiry. The peer invokes it to write here.
 * - a link: the capability the peer granted us, installed here; we invoke
 *   it to deliver our operations to the peer's channel inbox.
 *
 * Both are stored as quads in the bridges graph. Transport (signing
 * invocations, delivering, verifying) is federation/bridge/'s work.
 */
import { authorize } from "../authority/authorize.ts";
import { quadStore } from "../../db/quadstore.ts";
import { boolean, dateTime, iri, literal, quad } from "../../db/terms.ts";
import { findChannel } from "../channels/channels.ts";
import { badRequest, HarmonyError, invalid, notFound } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ChannelInfo } from "../shared/model.ts";

import { AS, H, RDF, RDF_JSON } from "../rdf/vocab.ts";
import { communityKey } from "../capabilities/communityKey.ts";
import { rootCapabilityId } from "../capabilities/root.ts";

/** Actions a bridge capability can allow. */
export const BRIDGE_ACTIONS = ["post", "edit", "delete", "react", "pin", "sync"] as const;
export type BridgeAction = (typeof BRIDGE_ACTIONS)[number];

export interface Capability {
  "@context": unknown;
  id: string;
  controller: string;
  parentCapability: string;
  invocationTarget: string;
  allowedAction: string[];
  expires: string;
  proof: Record<string, unknown>;
}

export interface Grant {
  id: string;
  channel: string;
  /** The peer channel actor the capability was delegated to. */
  grantee: string;
  actions: string[];
  expires: string;
  created: string;
  createdBy: string;
  revoked: boolean;
  capability: Capability;
}

export interface Link {
  id: string;
  channel: string;
  peerActor: string;
  peerInbox: string;
  actions: string[];
  expires: string;
  installed: string;
  installedBy: string;
  capability: Capability;
}

const MAX_TTL_SECONDS = 5 * 365 * 86400;
const DEFAULT_TTL_SECONDS = 90 * 86400;

function parseActions(value: unknown): BridgeAction[] {
  if (value === undefined) return ["post", "edit", "delete", "react", "pin", "sync"];
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid("invalid_actions", `actions must be a list drawn from ${BRIDGE_ACTIONS.join(", ")}`);
  }
  for (const action of value) {
    if (!BRIDGE_ACTIONS.includes(action)) {
      throw invalid("invalid_actions", `"${action}" is not a bridge action (${BRIDGE_ACTIONS.join(", ")})`);
    }
  }
  return [...new Set(value as BridgeAction[])];
}

function httpUrl(value: unknown, what: string): string {
  if (typeof value !== "string") throw invalid("invalid_url", `${what} must be a URL`);
  try {
    const url = new URL(value);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error();
    if (url.hash || url.username || url.password) throw new Error();
    return url.href;
  } catch {
    throw invalid("invalid_url", `${what} must be an http(s) URL without credentials or fragment`);
  }
}

type BridgeStateData = { grants: Grant[]; links: Link[] };

/**
 * Bridge state is read on every bridged delivery, so it is cached per
 * instance and dropped whenever this module writes it.
 */
const cached = new WeakMap<Harmony, Promise<BridgeStateData>>();

function readAll(h: Harmony): Promise<BridgeStateData> {
  let state = cached.get(h);
  if (!state) {
    state = readFromQuads(h);
    cached.set(h, state);
    state.catch(() => cached.delete(h));
  }
  return state;
}

async function changed<T>(h: Harmony, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } finally {
    cached.delete(h);
  }
}

async function readFromQuads(h: Harmony): Promise<BridgeStateData> {
  const rows = await quadStore.match(h.db, { graph: h.iris.bridges });
  const subjects = new Map<string, Map<string, string>>();
  for (const q of rows) {
    let props = subjects.get(q.subject.value);
    if (!props) subjects.set(q.subject.value, props = new Map());
    props.set(q.predicate.value, q.object.value);
  }
  const grants: Grant[] = [];
  const links: Link[] = [];
  for (const [id, p] of subjects) {
    const capability = JSON.parse(p.get(H.capability.value) ?? "{}") as Capability;
    if (p.get(RDF.type.value) === H.BridgeGrant.value) {
      grants.push({
        id,
        channel: p.get(H.channel.value)!,
        grantee: p.get(H.grantee.value)!,
        actions: capability.allowedAction,
        expires: p.get(H.expires.value)!,
        created: p.get(AS.published.value)!,
        createdBy: p.get(AS.attributedTo.value)!,
        revoked: p.get(H.revoked.value) === "true",
        capability,
      });
    } else if (p.get(RDF.type.value) === H.BridgeLink.value) {
      links.push({
        id,
        channel: p.get(H.channel.value)!,
        peerActor: p.get(H.peerActor.value)!,
        peerInbox: p.get(H.peerInbox.value)!,
        actions: capability.allowedAction,
        expires: p.get(H.expires.value)!,
        installed: p.get(AS.published.value)!,
        installedBy: p.get(AS.attributedTo.value)!,
        capability,
      });
    }
  }
  const byTime = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  return { grants: grants.sort(byTime), links: links.sort(byTime) };
}

/** Every grant and link (no permission check: the transport layer uses this). */
export function bridgeState(h: Harmony): Promise<{ grants: Grant[]; links: Link[] }> {
  return readAll(h);
}

export async function listBridges(h: Harmony, actor: Actor) {
  await authorize(h, actor, "manage-bridges");
  return await readAll(h);
}

/**
 * Offers a bridge: delegates, from our community's root capability for the
 * channel's inbox, a capability to the peer's channel actor.
 */
export async function offerBridge(
  h: Harmony,
  actor: Actor,
  channelId: string,
  input: { to: unknown; expiresIn?: unknown; actions?: unknown },
): Promise<Grant> {
  const admin = await authorize(h, actor, "manage-bridges");
  const channel = await findChannel(h, channelId);
  const grantee = httpUrl(input.to, "the peer channel actor (to)");
  if (new URL(grantee).origin === h.config.origin) {
    throw invalid("own_channel", "a bridge joins a channel of another instance");
  }
  const ttl = input.expiresIn === undefined ? DEFAULT_TTL_SECONDS : input.expiresIn;
  if (!Number.isInteger(ttl) || (ttl as number) < 60 || (ttl as number) > MAX_TTL_SECONDS) {
    throw invalid("invalid_expiry", "a bridge capability lasts 60 seconds to 5 years");
  }
  const actions = parseActions(input.actions);
  const now = new Date();
  const target = h.iris.channelInbox(channel.id);
  const key = await communityKey(h);
  const capability = await h.proofs.delegate({
    parent: rootCapabilityId(target),
    controller: grantee,
    invocationTarget: target,
    allowedAction: actions,
    expires: new Date(now.getTime() + (ttl as number) * 1000),
    signer: key.signer,
    now,
  }) as unknown as Capability;
  await recordGrant(h, channel, grantee, capability, admin.did, now);
  return (await readAll(h)).grants.find((g) => g.id === capability.id)!;
}

/** Records a capability we delegated for one of our channels. */
export async function recordGrant(
  h: Harmony,
  channel: ChannelInfo,
  grantee: string,
  capability: Capability,
  by: string,
  now = new Date(),
): Promise<void> {
  await changed(
    h,
    h.database.write(async (tx) => {
      const g = h.iris.bridges;
      const s = iri(capability.id);
      await quadStore.insert(tx, [
        quad(s, RDF.type, H.BridgeGrant, g),
        quad(s, H.channel, iri(channel.iri), g),
        quad(s, H.grantee, iri(grantee), g),
        quad(s, H.capability, literal(JSON.stringify(capability), RDF_JSON), g),
        quad(s, AS.published, dateTime(now), g),
        quad(s, H.expires, dateTime(capability.expires), g),
        quad(s, AS.attributedTo, iri(by), g),
        quad(s, H.revoked, boolean(false), g),
      ]);
    }),
  );
}

function checkCapabilityShape(value: unknown): Capability {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("malformed_capability", "the capability must be a JSON object");
  }
  const c = value as Record<string, unknown>;
  const contexts = Array.isArray(c["@context"]) ? c["@context"] : [c["@context"]];
  if (contexts[0] !== "https://w3id.org/zcap/v1") {
    throw badRequest("malformed_capability", 'a capability\'s first @context is "https://w3id.org/zcap/v1"');
  }
  for (const field of ["id", "controller", "parentCapability", "invocationTarget", "expires"]) {
    if (typeof c[field] !== "string") {
      throw badRequest("malformed_capability", `the capability has no "${field}"`);
    }
  }
  if (!Array.isArray(c.allowedAction) || c.allowedAction.some((a) => typeof a !== "string")) {
    throw badRequest("malformed_capability", "the capability's allowedAction must be a list of actions");
  }
  const proof = c.proof as Record<string, unknown> | undefined;
  if (typeof proof !== "object" || proof === null || proof.proofPurpose !== "capabilityDelegation") {
    throw badRequest("malformed_capability", "the capability carries no delegation proof");
  }
  return c as unknown as Capability;
}

/**
 * Installs a capability a peer granted to one of our channels: from now on
 * that channel's operations are delivered to the peer's channel inbox.
 */
export async function installBridge(h: Harmony, actor: Actor, value: unknown): Promise<Link> {
  const admin = await authorize(h, actor, "manage-bridges");
  const capability = checkCapabilityShape(value);
  const channelId = h.iris.channelIdOfActor(capability.controller);
  if (!channelId) {
    throw invalid(
      "not_ours",
      `the capability is for ${capability.controller}, which is not one of this instance's channels`,
    );
  }
  const channel: ChannelInfo = await findChannel(h, channelId);
  const peerInbox = httpUrl(capability.invocationTarget, "the capability's invocationTarget");
  if (!/\/inbox$/.test(new URL(peerInbox).pathname) || new URL(peerInbox).origin === h.config.origin) {
    throw invalid("invalid_target", "the capability must target a channel inbox on another instance");
  }
  if (!(Date.parse(capability.expires) > Date.now())) {
    throw invalid("expired", "this capability has already expired");
  }
  const existing = (await readAll(h)).links.find((l) => l.id === capability.id);
  if (existing) return existing;
  const now = new Date();
  await changed(
    h,
    h.database.write(async (tx) => {
      const g = h.iris.bridges;
      const s = iri(capability.id);
      await quadStore.insert(tx, [
        quad(s, RDF.type, H.BridgeLink, g),
        quad(s, H.channel, iri(channel.iri), g),
        quad(s, H.peerActor, iri(peerInbox.replace(/\/inbox$/, "")), g),
        quad(s, H.peerInbox, iri(peerInbox), g),
        quad(s, H.capability, literal(JSON.stringify(capability), RDF_JSON), g),
        quad(s, AS.published, dateTime(now), g),
        quad(s, H.expires, dateTime(capability.expires), g),
        quad(s, AS.attributedTo, iri(admin.did), g),
      ]);
    }),
  );
  h.hub.publishBridges();
  h.hub.publishOps();
  return (await readAll(h)).links.find((l) => l.id === capability.id)!;
}

/**
 * Revokes a grant (the peer's next delivery is refused) or removes an
 * installed link (we stop delivering to the peer).
 */
export async function revokeBridge(h: Harmony, actor: Actor, id: string): Promise<"revoked" | "removed"> {
  await authorize(h, actor, "manage-bridges");
  const { grants, links } = await readAll(h);
  const grant = grants.find((g) => g.id === id);
  if (grant) {
    await changed(
      h,
      h.database.write((tx) => quadStore.set(tx, h.iris.bridges, iri(id), H.revoked, boolean(true))),
    );
    return "revoked";
  }
  if (links.some((l) => l.id === id)) {
    await changed(
      h,
      h.database.write((tx) => quadStore.remove(tx, { graph: h.iris.bridges, subject: iri(id) })),
    );
    return "removed";
  }
  throw notFound("there is no bridge capability with this id");
}

/**
 * Whether the chain of an invocation is revoked or unknown here. The first
 * delegation under our root must be a grant we issued, for that channel,
 * and still standing.
 */
export async function chainRevoked(
  h: Harmony,
  chainIds: string[],
  channelIri: string,
): Promise<string | null> {
  const { grants } = await readAll(h);
  const [, first] = chainIds;
  const grant = grants.find((g) => g.id === first);
  if (!grant || grant.channel !== channelIri) {
    return "the capability was not granted by this instance for this channel";
  }
  for (const id of chainIds) {
    if (grants.some((g) => g.id === id && g.revoked)) return "the capability was revoked";
  }
  return null;
}

export function bridgeError(message: string): HarmonyError {
  return new HarmonyError(403, "capability_refused", message);
}
