/** Plain data shapes shared by the domain, the API and the views. */
import type { Attachment } from "../documents/signed.ts";

export type Role = "owner" | "admin" | "moderator" | "member";
export type Visibility = "public" | "members";
/** Who may add messages to a channel from the fediverse (replies): nobody, or anyone. */
export type FediverseReplies = "members" | "open";

/**
 * Who may join without an invite: anyone signed in ("open"), nobody
 * ("invite"), or whoever presents a credential of `credentialType` issued by
 * `issuer` (a did:key) naming them as its subject ("credential"). An invite
 * admits under every policy.
 */
export type AdmissionPolicy =
  | { policy: "open" }
  | { policy: "invite" }
  | { policy: "credential"; credentialType: string; issuer: string };

export interface CommunityInfo {
  iri: string;
  name: string;
  /** The admission policy is "open" (kept for older clients; see `admission`). */
  openJoin: boolean;
  admission: AdmissionPolicy;
  owner: string | null;
}

export interface ChannelInfo {
  iri: string;
  /** The stable short id in the channel's URL. */
  id: string;
  name: string;
  topic: string;
  position: number;
  visibility: Visibility;
  /** Fediverse follow requests wait for an admin's approval. */
  approveFollowers: boolean;
  /** Whether replies from the fediverse enter the channel ("open") or are refused ("members"). */
  fediverseReplies: FediverseReplies;
}

export interface MemberInfo {
  did: string;
  role: Role;
  joined: string;
}

/**
 * A DID a member registered as their bot (server/community/bots.ts). It is
 * not a member: it holds only what its owner delegates to it, and what it
 * does counts against its owner's limits.
 */
export interface BotInfo {
  did: string;
  /** The member who registered it and answers for it. */
  owner: string;
  name: string;
  registered: string;
}

export interface ProfileInfo {
  did: string;
  name: string;
  avatarType: string | null;
  avatarHash: string | null;
  updated: string;
  /** Set for a fediverse actor (the author of a reply that entered a channel), not a member. */
  remote?: { handle: string; url: string | null } | null;
  /**
   * Set when this DID moved to another one (social recovery): the profile
   * shown is the new DID's, and `did` is the new DID.
   */
  movedTo?: string | null;
  /** Set on a profile carried over by a recovery and not yet re-signed by the new key. */
  movedFrom?: string | null;
  /** Set for a registered bot: the member who answers for it, and their display name. */
  bot?: { owner: string; ownerName: string } | null;
}

export type FollowState = "pending" | "accepted" | "rejected";

/** A fediverse actor following a channel (or asking to). */
export interface FollowerInfo {
  /** The follower entity's IRI (in the followers graph). */
  iri: string;
  /** The channel's IRI. */
  channel: string;
  /** The follower's actor IRI. */
  actor: string;
  inbox: string;
  sharedInbox: string | null;
  /** The id of the Follow activity being answered. */
  followId: string;
  state: FollowState;
  /** The IRI of our Accept or Reject of that Follow. */
  answer: string;
  /** The answer still has to be handed to the outbound queue. */
  answerDue: boolean;
  /** The follower's server software (NodeInfo), lowercase, when known. */
  software: string | null;
  since: string;
}

export interface InviteInfo {
  iri: string;
  code: string;
  createdBy: string;
  created: string;
  expires: string | null;
  maxUses: number | null;
  uses: number;
  revoked: boolean;
}

export interface MessageView {
  id: string;
  channel: string;
  lamport: number;
  author: string;
  content: string;
  published: string;
  updated: string | null;
  deleted: boolean;
  revision: number;
  /** Files the signed message carries (server/files); null or absent when none. */
  attachments?: Attachment[] | null;
  /** The message this one replies to (conversation, issue 5). */
  inReplyTo?: string | null;
  /** The thread root this message belongs to; thread replies stay out of the channel's timeline. */
  thread?: string | null;
}

/** Who is making a request: a signed-in DID, or nobody. */
export interface Actor {
  did: string | null;
  /** How the request proved the DID: a browser cookie needs CSRF checks. */
  via: "cookie" | "bearer" | "none";
}

export const anonymous: Actor = { did: null, via: "none" };
