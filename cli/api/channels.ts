/** Channels: list, create, change and delete them, and follow one's live events. */
import type { HarmonyClient } from "../client.ts";
import type { MessageJson } from "./messages.ts";

export class ChannelsApi {
  channels(this: HarmonyClient) {
    return this.request<ChannelJson[]>("GET", "/channels");
  }

  async channel(this: HarmonyClient, nameOrId: string): Promise<ChannelJson> {
    return await this.request<ChannelJson>(
      "GET",
      `/channels/${encodeURIComponent(nameOrId.replace(/^#/, ""))}`,
    );
  }

  createChannel(
    this: HarmonyClient,
    name: string,
    options: { topic?: string; visibility?: "public" | "members" } = {},
  ): Promise<ChannelJson> {
    return this.request("POST", "/channels", { name, ...options });
  }

  updateChannel(
    this: HarmonyClient,
    nameOrId: string,
    changes: { name?: string; topic?: string; visibility?: "public" | "members" },
  ): Promise<ChannelJson> {
    return this.request("PATCH", `/channels/${channelPath(nameOrId)}`, changes);
  }

  deleteChannel(this: HarmonyClient, nameOrId: string): Promise<void> {
    return this.request("DELETE", `/channels/${channelPath(nameOrId)}`);
  }

  /**
   * A channel's live events (server-sent events), until the server closes
   * the stream or `signal` aborts. Without `since`, the first event is
   * `ready` with the current revision; with `since` (the id of the last
   * event seen), the changes made after it come first.
   */
  async *events(
    this: HarmonyClient,
    nameOrId: string,
    options: { since?: string | number; signal?: AbortSignal } = {},
  ): AsyncGenerator<ChannelStreamEvent> {
    const channel = await this.channel(nameOrId);
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (options.since !== undefined) headers["last-event-id"] = String(options.since);
    const response = await this.send("GET", `/channels/${channel.id}/events`, undefined, {
      headers,
      signal: options.signal,
    });
    if (!response.body) return;
    const lines = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = { type: "", id: null as string | null, data: [] as string[] };
    try {
      while (true) {
        const { value, done } = await lines.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.search(/\r\n|\r|\n/)) !== -1) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
          if (line === "") {
            if (event.data.length > 0) {
              yield {
                event: event.type || "message",
                id: event.id,
                data: JSON.parse(event.data.join("\n")),
              } as ChannelStreamEvent;
            }
            event = { type: "", id: null, data: [] };
            continue;
          }
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event.type = text;
          else if (field === "data") event.data.push(text);
          else if (field === "id") event.id = text;
        }
      }
    } finally {
      await lines.cancel().catch(() => {});
    }
  }
}

const channelPath = (nameOrId: string) => encodeURIComponent(nameOrId.replace(/^#/, ""));

export interface ChannelJson {
  iri: string;
  id: string;
  name: string;
  topic: string;
  position: number;
  visibility: "public" | "members";
}

/** What `HarmonyClient.events` yields; `id` is the channel revision to resume from. */
export type ChannelStreamEvent =
  | { event: "ready"; id: string; data: { revision: number } }
  | { event: "change"; id: string; data: { kind: "created" | "updated" | "deleted"; message: MessageJson } }
  | { event: "change"; id: null; data: { kind: "channel" } }
  | { event: "closed"; id: null; data: { reason: string } };
