/** A channel's messages: post, edit, delete (each signed here), history and one message. */
import type { HarmonyClient } from "../client.ts";
import { signDelete, signMessage, signUpdate } from "../../server/documents/documents.ts";
import type { MessageOptions } from "../../server/documents/documents.ts";
import type { Attachment } from "../../server/documents/signed.ts";
import { signerOf } from "./identity.ts";

export class MessagesApi {
  signedMessage(
    this: HarmonyClient,
    channelIri: string,
    content: string,
    id?: string,
    published?: string,
    options?: MessageOptions,
  ) {
    return signMessage(signerOf(this), channelIri, content, id, published, options);
  }

  signedUpdate(
    this: HarmonyClient,
    channelIri: string,
    messageId: string,
    content: string,
    published?: string,
    mentions?: string[],
  ) {
    return signUpdate(signerOf(this), channelIri, messageId, content, published, mentions);
  }

  signedDelete(this: HarmonyClient, channelIri: string, messageId: string, published?: string) {
    return signDelete(signerOf(this), channelIri, messageId, published);
  }

  async post(
    this: HarmonyClient,
    nameOrId: string,
    content: string,
    attachments: Attachment[] = [],
  ): Promise<MessageJson> {
    const channel = await this.channel(nameOrId);
    const text = await this.resolveMentions(content);
    return await this.request<MessageJson>("POST", `/channels/${channel.id}/messages`, {
      message: await this.signedMessage(channel.iri, text.content, undefined, undefined, {
        attachment: attachments,
        mentions: text.mentions,
      }),
    });
  }

  async edit(this: HarmonyClient, message: MessageJson, content: string): Promise<MessageJson> {
    const text = await this.resolveMentions(content);
    return await this.request<MessageJson>("PUT", `/messages/${encodeURIComponent(message.id)}`, {
      update: await this.signedUpdate(message.channel, message.id, text.content, undefined, text.mentions),
    });
  }

  async delete(this: HarmonyClient, message: MessageJson): Promise<MessageJson> {
    return await this.request<MessageJson>("DELETE", `/messages/${encodeURIComponent(message.id)}`, {
      delete: await this.signedDelete(message.channel, message.id),
    });
  }

  async history(this: HarmonyClient, nameOrId: string, options: { before?: string; limit?: number } = {}) {
    const channel = await this.channel(nameOrId);
    const query = new URLSearchParams();
    if (options.before) query.set("before", options.before);
    if (options.limit) query.set("limit", String(options.limit));
    const suffix = query.size ? `?${query}` : "";
    return await this.request<{ messages: MessageJson[]; before: string | null }>(
      "GET",
      `/channels/${channel.id}/messages${suffix}`,
    );
  }

  /** One message by id (a urn:uuid), with the signed documents behind it. */
  message(this: HarmonyClient, id: string): Promise<MessageJson & { signed: SignedDocumentsJson }> {
    return this.request("GET", `/messages/${encodeURIComponent(id)}`);
  }
}

export interface MessageJson {
  id: string;
  channel: string;
  lamport: number;
  author: string;
  content: string;
  published: string;
  updated: string | null;
  deleted: boolean;
  revision: number;
  /** Descriptors of attached files (docs/api.md "Files"), null when none. */
  attachments?: Attachment[] | null;
  inReplyTo?: string | null;
  thread?: string | null;
}

export interface SignedDocumentsJson {
  message: Record<string, unknown> | null;
  update: Record<string, unknown> | null;
  delete: Record<string, unknown> | null;
}
