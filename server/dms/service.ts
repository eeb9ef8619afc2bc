/**
 * Sending and receiving direct messages (docs/dms.md). The server checks
 * what it can without the plaintext: the envelope's shape, size and
 * signature, that its sender is the signed-in member, that its recipient
 * is a member here or a member of another Harmony instance, and that its id
 * is new. Delivery to another instance is the federation layer's
 * (federation/dms.ts), plugged in at start-up as a DmTransport: domain code
 * never imports federation/.
 */
import { checkClock } from "../documents/signed.ts";
import { conflict, HarmonyError, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { memberOf } from "../community/permissions.ts";
import { checkEnvelope, type EncryptedMessage } from "./crypto.ts";
import { type DmRecord, isKnownDm, peerActorOf, storeDm } from "./store.ts";

export interface RemoteMember {
  did: string;
  /** Their ActivityPub actor on their home Harmony instance. */
  actor: string;
}

export interface DmTransport {
  /**
   * The member an actor URL names, if it is a member actor of a Harmony
   * instance (its alsoKnownAs holds their did:key); refuses anything else
   * (HarmonyError 422), so DMs never go to other software.
   */
  resolveMember(actor: string): Promise<RemoteMember>;
  /** Queues the envelope for the recipient's inbox (durable, retried). */
  deliver(envelope: EncryptedMessage, to: RemoteMember): Promise<void>;
}

const transports = new WeakMap<Harmony, DmTransport>();

export function setDmTransport(h: Harmony, transport: DmTransport): void {
  transports.set(h, transport);
}

function transportOf(h: Harmony): DmTransport {
  const transport = transports.get(h);
  if (!transport) throw new HarmonyError(503, "no_federation", "this instance cannot reach other instances");
  return transport;
}

async function requireMember(h: Harmony, actor: Actor): Promise<string> {
  if (!actor.did) throw unauthorized("sign in to use direct messages");
  if (!(await memberOf(h, actor.did))) {
    throw new HarmonyError(403, "forbidden", "only members of this community can use direct messages here");
  }
  return actor.did;
}

/** The signed-in member's DID, for reading their own conversations. */
export const dmReader = requireMember;

/** Resolves a remote Harmony member (for the browser and CLI, which need their DID to encrypt). */
export async function resolveRemoteMember(
  h: Harmony,
  actor: Actor,
  actorUrl: unknown,
): Promise<RemoteMember> {
  await requireMember(h, actor);
  if (typeof actorUrl !== "string" || !/^https?:\/\/\S+$/.test(actorUrl) || actorUrl.length > 2048) {
    throw invalid("invalid_actor", "actor must be the http(s) URL of a member's actor");
  }
  return await transportOf(h).resolveMember(actorUrl);
}

/** POST /api/dms: `{ envelope, actor? }` (actor: the recipient's actor URL when they live elsewhere). */
export async function sendDm(h: Harmony, actor: Actor, body: Record<string, unknown>): Promise<DmRecord> {
  const me = await requireMember(h, actor);
  const envelope = await checkEnvelope(body.envelope);
  if (envelope.attributedTo !== me) {
    throw new HarmonyError(403, "not_sender", "you can only send direct messages you signed yourself");
  }
  checkClock(envelope.published);
  if (await isKnownDm(h, envelope.id)) {
    throw conflict("duplicate_message", "a direct message with this id was already received");
  }
  if (await memberOf(h, envelope.recipient)) return await storeDm(h, envelope);

  const target = body.actor ?? await peerActorOf(h, envelope.recipient);
  if (target === null || target === undefined) {
    throw notFound(
      "the recipient is not a member of this community; give their actor URL on their own Harmony instance",
    );
  }
  if (typeof target !== "string" || !/^https?:\/\/\S+$/.test(target) || target.length > 2048) {
    throw invalid("invalid_actor", "actor must be the http(s) URL of the recipient's actor");
  }
  const transport = transportOf(h);
  const peer = await transport.resolveMember(target);
  if (peer.did !== envelope.recipient) {
    throw invalid("recipient_mismatch", "that actor is not the envelope's recipient");
  }
  const record = await storeDm(h, envelope, peer);
  await transport.deliver(envelope, peer);
  return record;
}

/**
 * An envelope another Harmony instance delivered (federation/dms.ts has
 * checked its signature and that `senderActor` is the sender's actor).
 * Returns null when it is not for a member here or was already received.
 */
export async function receiveRemoteDm(
  h: Harmony,
  value: unknown,
  senderActor: string,
): Promise<DmRecord | null> {
  const envelope = await checkEnvelope(value);
  if (!(await memberOf(h, envelope.recipient))) return null;
  if (await memberOf(h, envelope.attributedTo)) return null; // a member here writes here
  if (await isKnownDm(h, envelope.id)) return null;
  try {
    return await storeDm(h, envelope, { did: envelope.attributedTo, actor: senderActor });
  } catch (error) {
    if (error instanceof HarmonyError && error.status === 409) return null;
    throw error;
  }
}
