/** Plain data shapes shared by the domain, the API and the views. */

export type Role = "owner" | "admin" | "member";
export type Visibility = "public" | "members";

export interface CommunityInfo {
  iri: string;
  name: string;
  openJoin: boolean;
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
}

export interface MemberInfo {
  did: string;
  role: Role;
  joined: string;
}

export interface ProfileInfo {
  did: string;
  name: string;
  avatarType: string | null;
  avatarHash: string | null;
  updated: string;
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
}

/** Who is making a request: a signed-in DID, or nobody. */
export interface Actor {
  did: string | null;
  /** How the request proved the DID: a browser cookie needs CSRF checks. */
  via: "cookie" | "bearer" | "none";
}

export const anonymous: Actor = { did: null, via: "none" };
