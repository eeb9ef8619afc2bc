/** Pieces shared by the attention tests: an SSE reader over plain fetch. */

export interface SseEvent {
  event: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** A server-sent event stream read with fetch; `next` skips events not asked for. */
export class Sse {
  readonly #abort = new AbortController();
  #reader: ReadableStreamDefaultReader<string> | null = null;
  #buffer = "";

  static async open(url: string, headers: Record<string, string> = {}): Promise<Sse> {
    const sse = new Sse();
    const response = await fetch(url, {
      headers: { accept: "text/event-stream", ...headers },
      signal: sse.#abort.signal,
    });
    if (response.status !== 200) {
      throw new Error(`stream refused: ${response.status} ${await response.text()}`);
    }
    sse.#reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    return sse;
  }

  /** The next event named one of `names` (a failure guard after `timeoutMs`, not a timing check). */
  async next(names: string[], timeoutMs = 5000): Promise<SseEvent> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no ${names.join("/")} event within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.#until(names), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #until(names: string[]): Promise<SseEvent> {
    while (true) {
      const event = await this.#read();
      if (names.includes(event.event)) return event;
    }
  }

  async #read(): Promise<SseEvent> {
    while (true) {
      const end = this.#buffer.indexOf("\n\n");
      if (end !== -1) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        let name = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = value;
          else if (field === "data") data.push(value);
        }
        if (data.length === 0) continue;
        return { event: name, data: JSON.parse(data.join("\n")) };
      }
      const { value, done } = await this.#reader!.read();
      if (done) throw new Error("the stream ended");
      this.#buffer += value;
    }
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#reader?.cancel().catch(() => {});
  }
}

/** Waits (bounded) until `check` holds: for server-side effects of a closed connection. */
export async function eventually(check: () => boolean, what: string, rounds = 500): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}
