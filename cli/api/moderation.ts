/**
 * Moderation: signed actions (kick, ban, timeout, slow mode, join lock,
 * and on the fediverse side removing replies and blocking accounts and
 * servers) and the state moderators see.
 */
import type { HarmonyClient } from "../client.ts";
import { signAction } from "../../server/documents/documents.ts";
import type { SignedAction } from "../../server/documents/signed.ts";
import { signerOf } from "./identity.ts";

export class ModerationApi {
  /** A moderation or role action signed by our key, for this community. */
  async signedAction(
    this: HarmonyClient,
    action: string,
    target: string,
    args: Record<string, unknown> = {},
    published?: string,
  ) {
    return await signAction(
      signerOf(this),
      { action, target, community: await this.communityIri(), arguments: args },
      published,
    );
  }

  /** Signs and sends a moderation action (kick, ban, unban, timeout, slow-mode, ...). */
  async moderate(
    this: HarmonyClient,
    action: string,
    target: string,
    args: Record<string, unknown> = {},
  ): Promise<ModerationResultJson> {
    return await this.sendAction(await this.signedAction(action, target, args));
  }

  /** Sends an action signed beforehand (to replay it, or sign it elsewhere). */
  sendAction(
    this: HarmonyClient,
    action: SignedAction | Record<string, unknown>,
  ): Promise<ModerationResultJson> {
    return this.request("POST", "/moderation/actions", { action });
  }

  kick(this: HarmonyClient, did: string, reason?: string) {
    return this.moderate("kick", did, reason ? { reason } : {});
  }

  ban(this: HarmonyClient, did: string, reason?: string) {
    return this.moderate("ban", did, reason ? { reason } : {});
  }

  unban(this: HarmonyClient, did: string) {
    return this.moderate("unban", did);
  }

  /** Times a member out for `seconds` (0 lifts the timeout). */
  timeout(this: HarmonyClient, did: string, seconds: number, reason?: string) {
    return this.moderate("timeout", did, reason ? { seconds, reason } : { seconds });
  }

  /** Sets slow mode in a channel: seconds between one member's posts (0 turns it off). */
  async setSlowMode(this: HarmonyClient, nameOrId: string, seconds: number) {
    const channel = await this.channel(nameOrId);
    return await this.moderate("slow-mode", channel.iri, { seconds });
  }

  /** Changes the community's moderation settings (only those named). */
  async moderationSettings(this: HarmonyClient, changes: {
    rateLimit?: { messages: number; seconds: number } | null;
    raidProtection?: { joins: number; seconds: number } | null;
    minimumDidAge?: number;
  }) {
    return await this.moderate("moderation-settings", await this.communityIri(), changes);
  }

  async lockJoins(this: HarmonyClient) {
    return await this.moderate("lock-joins", await this.communityIri());
  }

  async unlockJoins(this: HarmonyClient) {
    return await this.moderate("unlock-joins", await this.communityIri());
  }

  dismissAlert(this: HarmonyClient, alertIri: string) {
    return this.moderate("dismiss-alert", alertIri);
  }

  /** Removes a reply from the fediverse (by its id, the Note's URL) from its channel; undone by restoreReply. */
  removeReply(this: HarmonyClient, id: string, reason?: string) {
    return this.moderate("remove-reply", id, reason ? { reason } : {});
  }

  restoreReply(this: HarmonyClient, id: string) {
    return this.moderate("restore-reply", id);
  }

  /** Blocks a fediverse account (its actor URL); `removeReplies` also removes its replies already here. */
  blockActor(this: HarmonyClient, actor: string, options: { reason?: string; removeReplies?: boolean } = {}) {
    return this.moderate("block-actor", actorUrl(actor), blockArguments(options));
  }

  unblockActor(this: HarmonyClient, actor: string) {
    return this.moderate("unblock-actor", actorUrl(actor));
  }

  /** Blocks a whole fediverse server (a host name, or a URL on it) and its subdomains. */
  blockServer(
    this: HarmonyClient,
    server: string,
    options: { reason?: string; removeReplies?: boolean } = {},
  ) {
    return this.moderate("block-server", serverOrigin(server), blockArguments(options));
  }

  unblockServer(this: HarmonyClient, server: string) {
    return this.moderate("unblock-server", serverOrigin(server));
  }

  /** Recent replies from the fediverse and removed ones (for holders of remove-reply). */
  fediverseReplies(this: HarmonyClient): Promise<FediverseRepliesJson> {
    return this.request("GET", "/moderation/replies");
  }

  /** The moderation state moderators see (settings, join lock, slow mode, bans, timeouts, alerts, blocks). */
  moderation(this: HarmonyClient): Promise<ModerationJson> {
    return this.request("GET", "/moderation");
  }
}

function blockArguments(options: { reason?: string; removeReplies?: boolean }): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (options.reason) args.reason = options.reason;
  if (options.removeReplies) args.removeReplies = true;
  return args;
}

/** An actor's URL as the server compares them (normalized). */
export function actorUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new TypeError(`"${text}" is not an account's actor URL (https://server/users/name)`);
  }
  return url.href;
}

/** A server's origin from a host name ("mastodon.example", https assumed) or any URL on it. */
export function serverOrigin(text: string): string {
  const url = URL.canParse(text) && /^https?:\/\//i.test(text)
    ? new URL(text)
    : URL.canParse(`https://${text}`)
    ? new URL(`https://${text}`)
    : null;
  if (!url || !url.hostname) throw new TypeError(`"${text}" is not a server's host name or URL`);
  return url.origin;
}

export interface RemoteBlockJson {
  kind: "actor" | "server";
  target: string;
  by: string;
  at: string;
  reason: string | null;
}

export interface FediverseReplyJson {
  id: string;
  channel: { id: string; name: string };
  author: string;
  authorName: string | null;
  handle: string | null;
  content: string;
  published: string;
  removedBy: string | null;
  removedAt: string | null;
}

export interface FediverseRepliesJson {
  replies: FediverseReplyJson[];
  removed: FediverseReplyJson[];
}

export interface ModerationResultJson {
  action: string;
  target: string;
  entry: { seq: number; hash: string };
  [key: string]: unknown;
}

export interface ModerationJson {
  community: string;
  settings: {
    rateLimit: { messages: number; seconds: number } | null;
    raidProtection: { joins: number; seconds: number } | null;
    minimumDidAge: number;
  };
  joinsLocked: { at: string; by: string } | null;
  slowMode: Array<{ channel: string; id: string; name: string; seconds: number }>;
  bans: Array<{ did: string; by: string; at: string; reason: string | null }> | null;
  timeouts: Array<{ did: string; until: string; by: string }> | null;
  alerts: Array<{
    id: string;
    iri: string;
    kind: string;
    summary: string;
    at: string;
    resolved: boolean;
    resolvedAt: string | null;
    resolvedBy: string | null;
  }>;
  blockedActors: RemoteBlockJson[] | null;
  blockedServers: RemoteBlockJson[] | null;
  may: {
    kick: boolean;
    ban: boolean;
    timeout: boolean;
    slowMode: boolean;
    manage: boolean;
    removeReplies: boolean;
    blockActors: boolean;
    blockServers: boolean;
  };
}
