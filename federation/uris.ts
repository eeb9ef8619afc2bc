/**
 * Every ActivityPub path this instance serves (all under /ap/, see
 * FEDERATION.md), and the IRIs built from them. The Fedify routes in
 * federation.ts use the same templates, so `ctx.getActorUri(x)` and
 * `actorUri(origin, x)` agree.
 */

export const paths = {
  actor: "/ap/actors/{identifier}",
  inbox: "/ap/actors/{identifier}/inbox",
  sharedInbox: "/ap/inbox",
  outbox: "/ap/actors/{identifier}/outbox",
  followers: "/ap/actors/{identifier}/followers",
  channels: "/ap/actors/{identifier}/channels",
  note: "/ap/notes/{id}",
  create: "/ap/creates/{op}",
  update: "/ap/updates/{op}",
  delete: "/ap/deletes/{op}",
  react: "/ap/reacts/{op}",
  like: "/ap/likes/{op}",
  undo: "/ap/undos/{op}",
  announce: "/ap/announces/{op}/{shape}",
  accept: "/ap/accepts/{key}",
  reject: "/ap/rejects/{key}",
  nodeInfo: "/ap/nodeinfo/2.1",
} as const;

/** The identifier of the instance's Application actor. */
export const INSTANCE = "instance";

export const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

/**
 * How an Announce wraps what it shares: "activity" is FEP-1b12's
 * Announce(Create/Update/Delete); "object" is Announce(Note), the boost
 * microblog software (Mastodon) understands.
 */
export type AnnounceShape = "activity" | "object";

export const actorUri = (origin: string, identifier: string) => `${origin}/ap/actors/${identifier}`;
export const followersUri = (origin: string, identifier: string) =>
  `${origin}/ap/actors/${identifier}/followers`;

/** `urn:uuid:X` (a message id) → X; null for anything else (a fediverse message). */
export function noteKey(messageId: string): string | null {
  const match = /^urn:uuid:([0-9a-f-]{36})$/.exec(messageId);
  return match ? match[1] : null;
}

/** `urn:harmony:op:X` → X. */
export function opKey(opId: string): string {
  return opId.replace(/^urn:harmony:op:/, "");
}

export const noteUri = (origin: string, key: string) => `${origin}/ap/notes/${key}`;
export const createUri = (origin: string, op: string) => `${origin}/ap/creates/${op}`;
export const updateUri = (origin: string, op: string) => `${origin}/ap/updates/${op}`;
export const deleteUri = (origin: string, op: string) => `${origin}/ap/deletes/${op}`;
export const reactUri = (origin: string, op: string) => `${origin}/ap/reacts/${op}`;
export const likeUri = (origin: string, op: string) => `${origin}/ap/likes/${op}`;
export const undoUri = (origin: string, op: string) => `${origin}/ap/undos/${op}`;
export const announceUri = (origin: string, op: string, shape: AnnounceShape) =>
  `${origin}/ap/announces/${op}/${shape}`;
export const acceptUri = (origin: string, key: string) => `${origin}/ap/accepts/${key}`;
export const rejectUri = (origin: string, key: string) => `${origin}/ap/rejects/${key}`;

/** A member's actor identifier: the multibase part of their did:key. */
export const memberIdentifier = (did: string) => did.replace(/^did:key:/, "");

/** The Note a message is, wherever it was written: ours under /ap/notes/, or the fediverse author's. */
export function noteIdOf(origin: string, messageId: string): string {
  const key = noteKey(messageId);
  return key ? noteUri(origin, key) : messageId;
}

/** The message id a Note IRI names, if it is one of ours. */
export function messageIdOfNote(origin: string, note: string): string | null {
  const prefix = `${origin}/ap/notes/`;
  if (!note.startsWith(prefix)) return null;
  const key = note.slice(prefix.length);
  return /^[0-9a-f-]{36}$/.test(key) ? `urn:uuid:${key}` : null;
}
