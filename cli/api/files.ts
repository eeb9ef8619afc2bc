/** Files attached to messages: upload, download and the instance's limits. */
import type { HarmonyClient } from "../client.ts";
import type { Attachment } from "../../server/documents/signed.ts";

export class FilesApi {
  /**
   * Uploads a file for a message in a channel (POST /api/files): the bytes
   * stream as the body; the answer is the descriptor to attach.
   */
  async upload(this: HarmonyClient, nameOrId: string, body: BodyInit, name: string): Promise<Attachment> {
    const channel = await this.channel(nameOrId);
    const response = await this.send("POST", `/files?channel=${encodeURIComponent(channel.id)}`, undefined, {
      rawBody: body,
      headers: { "content-type": "application/octet-stream", "x-file-name": encodeURIComponent(name) },
    });
    return await response.json() as Attachment;
  }

  /** Downloads a file by its descriptor's url (with this client's session). */
  async download(this: HarmonyClient, url: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return await fetch(url, { headers });
  }

  fileLimits(this: HarmonyClient): Promise<{ maxFileSize: number; maxFilesPerMessage: number }> {
    return this.request("GET", "/files/limits");
  }

  setFileLimits(this: HarmonyClient, limits: { maxFileSize?: number; maxFilesPerMessage?: number }) {
    return this.request<{ maxFileSize: number; maxFilesPerMessage: number }>("PUT", "/files/limits", limits);
  }
}
