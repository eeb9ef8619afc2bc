/** Mentions: `@name` resolved against the community's directory before a message is signed. */
import type { HarmonyClient } from "../client.ts";
import { type MentionDirectory, resolveMentions } from "../../server/attention/mentionText.ts";

export class AttentionApi {
  /**
   * Resolves `@name` (a member's display name, a role's name or slug) into
   * mention tokens and the DIDs and role IRIs to sign (server/attention/mentionText.ts).
   */
  async resolveMentions(this: HarmonyClient, text: string): Promise<{ content: string; mentions: string[] }> {
    if (!text.includes("@")) return { content: text, mentions: [] };
    return resolveMentions(text, await this.request<MentionDirectory>("GET", "/attention/directory"));
  }
}
