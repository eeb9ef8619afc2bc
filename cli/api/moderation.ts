/** Moderation: signed actions (kick, ban, timeout, slow mode, join lock, ...) and the state moderators see. */
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

  /** The moderation state moderators see (settings, join lock, slow mode, bans, timeouts, alerts). */
  moderation(this: HarmonyClient): Promise<ModerationJson> {
    return this.request("GET", "/moderation");
  }
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
  may: { kick: boolean; ban: boolean; timeout: boolean; slowMode: boolean; manage: boolean };
}
