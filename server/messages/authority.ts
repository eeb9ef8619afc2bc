/**
 * Who may make a moderation, as data (server/messages/oplog.ts applies it
 * to every operation, the rebuild of pins too): the capability an
 * operation carries must name its signer, the action, and a target that
 * covers the channel the operation was signed for. That its chain
 * verifies up to the right community is checked before an operation is
 * submitted (server/messages, server/conversation, server/replication/admission.ts).
 */
import type { OpDocument } from "./oplog.ts";

/** A delegated capability as JSON (ZCAP): what `authority` holds. */
export interface Capability {
  id: string;
  controller: string;
  invocationTarget: string;
  allowedAction: string[];
  [key: string]: unknown;
}

/** The capability target of a channel IRI (`{origin}/channels/{id}` → `{origin}/community/channels/{id}`). */
export function channelTargetOf(channelIri: string): string | null {
  const match = /^(https?:\/\/[^/]+)\/channels\/([^/?#]+)$/.exec(channelIri);
  return match ? `${match[1]}/community/channels/${match[2]}` : null;
}

/**
 * Whether a capability, taken as data, gives the operation's signer
 * `action` on the channel the operation was signed for. (That its chain
 * verifies is checked before an operation is submitted.)
 */
export function authorityCovers(
  authority: unknown,
  actor: string,
  channelIri: string,
  action: string,
): boolean {
  const c = authority as Partial<Capability> | null;
  if (typeof c !== "object" || c === null) return false;
  const target = channelTargetOf(channelIri);
  return target !== null && c.controller === actor && Array.isArray(c.allowedAction) &&
    c.allowedAction.includes(action) && typeof c.invocationTarget === "string" &&
    (target === c.invocationTarget || target.startsWith(`${c.invocationTarget}/`));
}

/** The action a moderation operation needs, or null for one its signer may make on their own. */
export function moderationAction(doc: OpDocument, author: string | null): "pin" | "delete-any" | null {
  if (doc.type === "Pin" || doc.type === "Unpin") return "pin";
  if (doc.type === "Delete" && doc.actor !== author) return "delete-any";
  return null;
}
