/**
 * What members can be allowed to do. Every state-changing request names
 * one of these actions and is checked against the capabilities the actor
 * holds (server/authority/authorize.ts).
 */
export const ACTIONS = {
  // what every member may do
  read: "read members-only channels",
  post: "post messages",
  react: "react to messages",
  "edit-own": "edit their own messages",
  "delete-own": "delete their own messages",
  // moderation
  "delete-any": "delete anyone's messages",
  kick: "remove members",
  timeout: "time members out",
  ban: "ban DIDs",
  "slow-mode": "set slow mode",
  "view-audit": "read the moderation log in full",
  pin: "pin messages",
  "remove-reply": "remove replies from the fediverse",
  "block-actor": "block fediverse accounts",
  // administration
  "manage-channels": "manage channels",
  "manage-invites": "manage invites",
  "manage-community": "change the community's settings",
  "manage-roles": "manage roles",
  "manage-bridges": "manage bridges",
  "manage-followers": "answer fediverse follow requests",
  "block-server": "block fediverse servers",
  // the owner's own
  export: "export the whole community",
  "transfer-ownership": "hand the community over",
} as const;

export type Action = keyof typeof ACTIONS;
export const ALL_ACTIONS = Object.keys(ACTIONS) as Action[];

export function isAction(value: unknown): value is Action {
  return typeof value === "string" && Object.hasOwn(ACTIONS, value);
}

const MEMBER: Action[] = ["read", "post", "react", "edit-own", "delete-own"];
const MODERATOR: Action[] = [
  ...MEMBER,
  "delete-any",
  "kick",
  "timeout",
  "ban",
  "slow-mode",
  "view-audit",
  "pin",
  "remove-reply",
  "block-actor",
];
const ADMIN: Action[] = [
  ...MODERATOR,
  "manage-channels",
  "manage-invites",
  "manage-community",
  "manage-roles",
  "manage-bridges",
  "manage-followers",
  "block-server",
];

/**
 * Who may receive what (server/authority/holders.ts): a member, any action
 * the delegator holds; a member's registered bot, from its owner only, any
 * of these except the owner's own; anyone else, nothing (a capability does
 * not make a DID a member, and would let it past admission).
 */
export const NEVER_FOR_BOTS: readonly Action[] = ["transfer-ownership", "export"];

/** The roles every community has. Admins may define more (server/authority/roles.ts). */
export const BUILT_IN_ROLES = {
  owner: { name: "Owner", actions: ALL_ACTIONS },
  admin: { name: "Admin", actions: ADMIN },
  moderator: { name: "Moderator", actions: MODERATOR },
  member: { name: "Member", actions: MEMBER },
} as const;

export type BuiltInRole = keyof typeof BUILT_IN_ROLES;
