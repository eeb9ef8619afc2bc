/** Conversation: replies, threads, reactions and pins (docs/api.md). */
import type { HarmonyClient } from "../client.ts";
import { signMessage, signPin, signReact, signUnreact } from "../../server/documents/documents.ts";
import type { MessageJson } from "./messages.ts";
import { signerOf } from "./identity.ts";

export class ConversationApi {
  /** Replies to a message (quoted under the new one), in the same timeline or thread. */
  async reply(this: HarmonyClient, to: MessageJson, content: string): Promise<MessageJson> {
    const channel = await this.channel(channelIdOfIri(to.channel));
    const message = await signMessage(signerOf(this), channel.iri, content, undefined, undefined, {
      inReplyTo: to.id,
      thread: to.thread ?? undefined,
    });
    return await this.request<MessageJson>("POST", `/channels/${channel.id}/messages`, { message });
  }

  /** Posts in the thread that branches from `root` (a message of the channel's timeline). */
  async threadReply(this: HarmonyClient, root: MessageJson, content: string): Promise<MessageJson> {
    const channel = await this.channel(channelIdOfIri(root.channel));
    const message = await signMessage(signerOf(this), channel.iri, content, undefined, undefined, {
      thread: root.id,
    });
    return await this.request<MessageJson>("POST", `/channels/${channel.id}/messages`, { message });
  }

  /** A thread: its root and replies. */
  async thread(
    this: HarmonyClient,
    root: MessageJson,
  ): Promise<{ root: MessageJson; replies: MessageJson[] }> {
    const uuid = root.id.replace(/^urn:uuid:/, "");
    return await this.request("GET", `/channels/${channelIdOfIri(root.channel)}/threads/${uuid}`);
  }

  async threads(
    this: HarmonyClient,
    nameOrId: string,
  ): Promise<Array<{ root: MessageJson; summary: ThreadSummaryJson }>> {
    const channel = await this.channel(nameOrId);
    return await this.request("GET", `/channels/${channel.id}/threads`);
  }

  signedReact(this: HarmonyClient, channelIri: string, messageId: string, emoji: string, published?: string) {
    return signReact(signerOf(this), channelIri, messageId, emoji, published);
  }

  signedUnreact(
    this: HarmonyClient,
    channelIri: string,
    messageId: string,
    emoji: string,
    removes: string[],
    published?: string,
  ) {
    return signUnreact(signerOf(this), channelIri, messageId, emoji, removes, published);
  }

  signedPin(this: HarmonyClient, channelIri: string, messageId: string, pin: boolean, published?: string) {
    return signPin(signerOf(this), channelIri, messageId, pin, published);
  }

  /** The reactions on a message: emoji, how many members, and this client's own React operation ids. */
  reactions(this: HarmonyClient, message: MessageJson | string): Promise<ReactionJson[]> {
    const id = typeof message === "string" ? message : message.id;
    return this.request("GET", `/messages/${encodeURIComponent(id)}/reactions`);
  }

  /** Adds a reaction; returns the message's reactions after it. */
  async react(this: HarmonyClient, message: MessageJson, emoji: string): Promise<ReactionResultJson> {
    return await this.request("POST", `/messages/${encodeURIComponent(message.id)}/reactions`, {
      react: await this.signedReact(message.channel, message.id, emoji),
    });
  }

  /**
   * Takes back this member's `emoji` reactions: the ones it has seen
   * (`removes`, by default those the server shows now). A reaction made
   * concurrently elsewhere and not seen yet stays (observed-remove).
   */
  async unreact(
    this: HarmonyClient,
    message: MessageJson,
    emoji: string,
    removes?: string[],
  ): Promise<ReactionResultJson> {
    const ops = removes ?? (await this.reactions(message)).find((r) => r.emoji === emoji)?.mine ?? [];
    if (ops.length === 0) throw new Error(`you have not reacted with ${emoji}`);
    return await this.request("POST", `/messages/${encodeURIComponent(message.id)}/reactions`, {
      unreact: await this.signedUnreact(message.channel, message.id, emoji, ops),
    });
  }

  async pin(
    this: HarmonyClient,
    message: MessageJson,
    pinned = true,
  ): Promise<{ status: string; opId: string; pinned: boolean }> {
    return await this.request("POST", `/messages/${encodeURIComponent(message.id)}/pin`, {
      pin: await this.signedPin(message.channel, message.id, pinned),
    });
  }

  unpin(this: HarmonyClient, message: MessageJson) {
    return this.pin(message, false);
  }

  async pins(
    this: HarmonyClient,
    nameOrId: string,
  ): Promise<Array<{ message: MessageJson; pinnedBy: string; pinnedAt: string }>> {
    const channel = await this.channel(nameOrId);
    return await this.request("GET", `/channels/${channel.id}/pins`);
  }
}

/** The channel id in a channel IRI (`{origin}/channels/{id}`). */
function channelIdOfIri(iri: string): string {
  return iri.slice(iri.lastIndexOf("/") + 1);
}

export interface ReactionJson {
  emoji: string;
  count: number;
  mine: string[];
}

export interface ReactionResultJson {
  status: "applied" | "duplicate" | "logged";
  opId: string;
  reactions: ReactionJson[];
}

export interface ThreadSummaryJson {
  replies: number;
  lastReply: string | null;
  lastLamport: number;
  unread?: boolean;
}
