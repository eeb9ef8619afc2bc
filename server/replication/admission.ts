/**
 * Admitting an operation a bridge peer sent, delivered to a channel inbox
 * or carried in a Sync answer: the two paths run the same checks, here,
 * before the operation reaches the writer (which then applies the rules
 * every operation obeys, server/messages/oplog.ts).
 *
 * - The envelope is well formed and within what a channel can holds.
 * - Its origin is not ours, and is the origin of the channel the operation
 *   was signed for: the sender's own bridged channel, or a channel it
 *   relays for, proven by a path of bridge grants (relays.ts).
 * - The author's signature verifies (a redacted trace, which has none, is
 *   only ever a placeholder: named after its place, never folded).
 * - The author is not banned here; the text and signed time are within the
 *   channel's limits.
 * - An edit is the author's; a deletion of someone else's message, a pin or
 *   an unpin carries the capability that gave its signer the action, and
 *   its chain verifies up to the root of the community the operation was
 *   made in (whose key that instance itself publishes).
 *
 * Refusals are HarmonyErrors; the caller records them with the peer
 * (refusals.ts).
 */
import { eq } from "drizzle-orm";
import { messageIndex } from "../../db/schema.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { isInstant, verifySigned } from "../documents/signed.ts";
import type { Harmony } from "../harmony.ts";
import { authorityCovers, type Capability, moderationAction } from "../messages/authority.ts";
import {
  actorOf,
  type Envelope,
  isRedacted,
  MAX_LAMPORT,
  MAX_SEQ,
  type OpDocument,
  opIdOf,
  type OpSubmission,
  placeholderId,
  type RedactedOp,
  targetOf,
} from "../messages/oplog.ts";
import { isBanned } from "../moderation/guard.ts";
import { HarmonyError } from "../shared/errors.ts";
import { isUrnUuid } from "../shared/ids.ts";
import type { ChannelInfo } from "../shared/model.ts";
import { characterCount, hasForbiddenCharacters } from "../shared/text.ts";
import type { Grant } from "./bridges.ts";
import {
  channelOfActor,
  originOf,
  type PeerDirectory,
  rememberRelayPath,
  verifyRelayPath,
} from "./relays.ts";
import { REPLICATED_KINDS } from "./sync.ts";

export type { PeerDirectory } from "./relays.ts";

/** How far ahead of our clock a peer's operation may be signed (a peer's clock a little off). */
export const MAX_FUTURE_MS = 60 * 60_000;

/** What a peer sent: an envelope and a document, with a moderation's capability and a relay's proof. */
export interface PeerOp {
  envelope: unknown;
  document: unknown;
  authority?: unknown;
  relay?: unknown;
}

/** Where it came from. */
export interface FromPeer {
  /** Our channel it is for. */
  channel: ChannelInfo;
  /** The peer channel actor that sent it (the invoker, or the peer a Sync asked). */
  peer: string;
  /** Our grant to that peer, which let it write here. */
  grant: Grant;
  directory: PeerDirectory;
  /** The kind the activity announced (a delivery); a Sync answer's operations say it themselves. */
  kind?: string;
}

/** The capability action each kind of operation needs of a bridge grant. */
export const bridgeActionOf: Record<string, string> = {
  Message: "post",
  Update: "edit",
  Delete: "delete",
  React: "react",
  Unreact: "react",
  Pin: "pin",
  Unpin: "pin",
};

const refuse = (status: number, code: string, message: string) =>
  new HarmonyError(status as HarmonyError["status"], code, message);

/** An envelope's shape and its absolute bounds (the bounds relative to the channel are the writer's). */
export function parseEnvelope(value: unknown): Envelope {
  const e = value as Record<string, unknown> | null;
  const malformed = () =>
    refuse(
      422,
      "malformed_activity",
      "the operation's envelope (origin, seq, lamport) is missing or invalid",
    );
  if (typeof e !== "object" || e === null || typeof e.origin !== "string") throw malformed();
  if (!/^https?:\/\/[^/]+$/.test(e.origin) || originOf(e.origin) !== e.origin) throw malformed();
  for (const [field, max] of [["seq", MAX_SEQ], ["lamport", MAX_LAMPORT]] as const) {
    const n = e[field];
    if (typeof n !== "number" || !Number.isInteger(n)) throw malformed();
    if (n < 1 || n > max) {
      throw refuse(
        422,
        "envelope_out_of_range",
        `the envelope's ${field} ${n} is out of range (1 to ${max})`,
      );
    }
  }
  return { origin: e.origin, seq: e.seq as number, lamport: e.lamport as number };
}

/** A redacted trace's exact shape; it carries no signature, so nothing in it is believed but its place. */
async function parsePlaceholder(doc: Record<string, unknown>, envelope: Envelope): Promise<RedactedOp> {
  const keys = ["@context", "type", "redacted", "opId", "target", "channel", "actor", "published"];
  const ok = Object.keys(doc).every((k) => keys.includes(k)) &&
    (doc.type === "Message" || doc.type === "Update") &&
    typeof doc["@context"] === "string" &&
    (isUrnUuid(doc.target) ||
      (typeof doc.target === "string" && /^https?:\/\/\S{1,2000}$/.test(doc.target))) &&
    typeof doc.channel === "string" && /^https?:\/\/\S{1,2000}$/.test(doc.channel) &&
    isDidKey(doc.actor) && isInstant(doc.published);
  if (!ok) {
    throw refuse(422, "malformed_operation", "a redacted operation must be a post's or an edit's trace");
  }
  return { ...(doc as unknown as RedactedOp), opId: await placeholderId(doc.channel as string, envelope) };
}

async function verifyAuthorship(kind: OpDocument["type"], document: unknown): Promise<OpDocument> {
  try {
    return await verifySigned(kind, document) as OpDocument;
  } catch (error) {
    if (error instanceof HarmonyError && error.status === 401) {
      throw refuse(
        401,
        "bad_author_signature",
        `the operation's author signature does not verify: ${error.message}`,
      );
    }
    throw error;
  }
}

function checkText(h: Harmony, doc: OpDocument): void {
  if (doc.type !== "Message" && doc.type !== "Update") return;
  const files = doc.type === "Message" && Boolean(doc.attachment?.length);
  if (doc.content.trim().length === 0 && !files) {
    throw refuse(422, "empty_message", "a message cannot be empty");
  }
  const length = characterCount(doc.content);
  if (length > h.config.maxMessageLength) {
    throw refuse(
      422,
      "message_too_long",
      `the message is ${length} characters long; this channel holds at most ${h.config.maxMessageLength}`,
    );
  }
  if (hasForbiddenCharacters(doc.content, true)) {
    throw refuse(422, "invalid_characters", "the message contains control characters");
  }
}

/** Verifies a moderation's capability chain up to the root of the community the operation was made in. */
async function verifyAuthority(
  h: Harmony,
  doc: OpDocument,
  action: string,
  authority: unknown,
  directory: PeerDirectory,
): Promise<Capability> {
  const actor = actorOf(doc);
  if (!authorityCovers(authority, actor, doc.channel, action)) {
    throw refuse(
      403,
      "not_authorized",
      `the operation carries no capability giving ${actor} "${action}" in ${doc.channel}`,
    );
  }
  const origin = originOf(doc.channel)!;
  const did = await directory.communityDid(origin);
  if (!did) throw refuse(503, "peer_unreachable", `the community key of ${origin} cannot be learned now`);
  const result = await h.proofs.verifyDelegation(authority, {
    rootTarget: `${origin}/community`,
    rootController: did,
    // Whether the signer held the action when they signed.
    now: new Date(doc.published),
  });
  if (!result.verified) {
    throw refuse(
      403,
      "not_authorized",
      `the capability does not verify up to the community of ${origin}: ${result.reason}`,
    );
  }
  return authority as Capability;
}

/**
 * Checks an operation from a peer; returns it ready for the writer, or
 * throws the refusal.
 */
export async function admitPeerOp(
  h: Harmony,
  op: PeerOp,
  from: FromPeer,
  now = Date.now(),
): Promise<OpSubmission> {
  const envelope = parseEnvelope(op.envelope);
  const raw = op.document as Record<string, unknown> | null;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw refuse(422, "malformed_document", "the operation carries no document");
  }
  const kind = raw.type;
  if (typeof kind !== "string" || !(REPLICATED_KINDS as readonly string[]).includes(kind)) {
    throw refuse(422, "malformed_document", `a bridge does not carry ${String(kind)} operations`);
  }
  if (from.kind !== undefined && kind !== from.kind) {
    throw refuse(422, "malformed_activity", `the activity carries a ${from.kind}, not a ${kind}`);
  }
  const action = bridgeActionOf[kind];
  if (!from.grant.actions.includes(action)) {
    throw refuse(403, "capability_refused", `this bridge does not allow "${action}"`);
  }
  const doc = isRedacted(raw)
    ? await parsePlaceholder(raw, envelope)
    : await verifyAuthorship(kind as OpDocument["type"], raw);

  // Where it was made: not here; the origin of the channel it was signed for; the sender's
  // own channel, or one it proves it relays for.
  const channel = doc.channel;
  if (envelope.origin === h.config.origin) {
    throw refuse(403, "wrong_origin", "an operation made here cannot arrive from a peer");
  }
  if (originOf(channel) !== envelope.origin) {
    throw refuse(
      403,
      "wrong_origin",
      `the operation was signed for ${channel}, not for a channel of its origin ${envelope.origin}`,
    );
  }
  if (envelope.origin === originOf(from.peer)) {
    if (channel !== channelOfActor(from.peer)) {
      throw refuse(403, "wrong_channel", "the operation was signed for a channel that is not bridged here");
    }
  } else {
    const path = await verifyRelayPath(h, from.peer, channel, action, op.relay, from.directory);
    await rememberRelayPath(h, from.channel.iri, channel, from.grant.capability, path);
  }

  const author = actorOf(doc);
  if (await isBanned(h, author)) {
    throw refuse(403, "banned", "the operation's author is banned from this community");
  }
  if (isRedacted(doc)) {
    return { doc, opId: doc.opId, channel: from.channel.iri, envelope };
  }
  if (Date.parse(doc.published) > now + MAX_FUTURE_MS) {
    throw refuse(422, "clock_skew", "the operation is signed for a time more than an hour ahead of ours");
  }
  checkText(h, doc);

  // The same authority as a local operation.
  let authority: Capability | null = null;
  if (doc.type !== "Message") {
    const [row] = await h.db.select({ author: messageIndex.author, channel: messageIndex.channel })
      .from(messageIndex).where(eq(messageIndex.id, targetOf(doc)));
    if (row && row.channel !== from.channel.iri) {
      throw refuse(404, "not_found", "the operation names a message of another channel");
    }
    if (doc.type === "Update" && row && row.author !== doc.actor) {
      throw refuse(403, "not_author", "only the author can edit a message");
    }
    const needs = moderationAction(doc, row?.author ?? null);
    if (needs && op.authority != null) {
      authority = await verifyAuthority(h, doc, needs, op.authority, from.directory);
    } else if (needs && (row || needs === "pin")) {
      throw refuse(
        403,
        "not_authorized",
        needs === "pin"
          ? "a pin must carry the capability that allowed it"
          : "only the author, or a moderator whose capability comes with the deletion, can delete a message",
      );
    }
  }
  return { doc, opId: await opIdOf(doc), channel: from.channel.iri, envelope, authority };
}
