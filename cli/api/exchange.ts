/** Export of the whole community as N-Quads. */
import type { HarmonyClient } from "../client.ts";

export class ExchangeApi {
  /** The whole community as N-Quads, streamed (owner only). */
  async exportNQuads(this: HarmonyClient): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send("GET", "/export");
    return response.body ?? new Blob([]).stream();
  }
}
