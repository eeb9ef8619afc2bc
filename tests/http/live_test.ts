import assert from "node:assert/strict";
import type { ChannelJson, MessageJson } from "../../cli/client.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { joinedMember } from "./support.ts";

interface SseEvent {
  event: string;
  id: string | null;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** A server-sent event stream read with plain fetch. */
class EventStream {
  readonly #abort = new AbortController();
  #reader: ReadableStreamDefaultReader<string> | null = null;
  #buffer = "";
  status = 0;

  static async open(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
    const stream = new EventStream();
    const response = await fetch(url, {
      headers: { accept: "text/event-stream", ...headers },
      signal: stream.#abort.signal,
    });
    stream.status = response.status;
    assert.equal(response.status, 200, await (response.status === 200 ? "" : response.text()));
    assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
    stream.#reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    return stream;
  }

  /** The next event, or a failure after `timeoutMs`. */
  async next(timeoutMs = 1000): Promise<SseEvent> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.#read(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #read(): Promise<SseEvent> {
    while (true) {
      const end = this.#buffer.indexOf("\n\n");
      if (end !== -1) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const event: SseEvent = { event: "message", id: null, data: undefined };
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event.event = value;
          else if (field === "id") event.id = value;
          else if (field === "data") data.push(value);
        }
        if (data.length === 0) continue;
        event.data = JSON.parse(data.join("\n"));
        return event;
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

Deno.test("live updates: changes arrive over SSE within a second, and a reconnect catches up", async (t) => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const origin = instance.origin;
  const alice = await joinedMember(origin, owner);
  const bob = await joinedMember(origin, owner);
  const [general] = await alice.channels() as ChannelJson[];
  const url = `${origin}/api/channels/${general.id}/events`;
  await alice.post(general.id, "before the stream opened");

  let stream = await EventStream.open(url, { authorization: `Bearer ${alice.token}` });
  let lastId = "";
  let posted: MessageJson;

  try {
    await t.step("a new stream starts with the current revision", async () => {
      const ready = await stream.next();
      assert.equal(ready.event, "ready");
      assert.equal(ready.data.revision, 1);
      assert.equal(ready.id, "1");
    });

    await t.step("a post by another client arrives as a change event within 1 s", async () => {
      const started = performance.now();
      posted = await bob.post(general.id, "hello live world");
      const change = await stream.next(1000);
      assert.ok(performance.now() - started < 1000);
      assert.equal(change.event, "change");
      assert.equal(change.data.kind, "created");
      assert.equal(change.data.message.id, posted.id);
      assert.equal(change.data.message.content, "hello live world");
      assert.equal(change.id, String(posted.revision));
    });

    await t.step("an edit arrives as an updated change", async () => {
      await bob.edit(posted, "hello live world (edited)");
      const change = await stream.next(1000);
      assert.equal(change.data.kind, "updated");
      assert.equal(change.data.message.id, posted.id);
      assert.equal(change.data.message.content, "hello live world (edited)");
    });

    await t.step("a delete arrives as a deleted change without the text", async () => {
      await bob.delete(posted);
      const change = await stream.next(1000);
      assert.equal(change.data.kind, "deleted");
      assert.equal(change.data.message.id, posted.id);
      assert.equal(change.data.message.content, "");
      lastId = change.id!;
    });
  } finally {
    await stream.close();
  }

  await t.step(
    "a reconnect with Last-Event-ID receives the changes missed in between, in order",
    async () => {
      const missedA = await bob.post(general.id, "missed one");
      const missedB = await alice.post(general.id, "missed two");
      await alice.edit(missedB, "missed two (edited)");
      stream = await EventStream.open(url, {
        authorization: `Bearer ${alice.token}`,
        "last-event-id": lastId,
      });
      try {
        const first = await stream.next();
        const second = await stream.next();
        assert.deepEqual(
          [first.event, first.data.kind, first.data.message.id, first.data.message.content],
          ["change", "created", missedA.id, "missed one"],
        );
        // missedB was created then edited: its current state arrives once, as an edit.
        assert.deepEqual(
          [second.data.kind, second.data.message.id, second.data.message.content],
          ["updated", missedB.id, "missed two (edited)"],
        );
        assert.ok(Number(first.id) > Number(lastId) && Number(second.id) > Number(first.id));
        // And the stream stays live after catching up.
        const after = await bob.post(general.id, "after the catch-up");
        const live = await stream.next();
        assert.equal(live.data.message.id, after.id);
      } finally {
        await stream.close();
      }
    },
  );

  await t.step("a signed-out reader gets the public channel's events too", async () => {
    stream = await EventStream.open(url);
    try {
      assert.equal((await stream.next()).event, "ready");
      const message = await alice.post(general.id, "for everyone");
      assert.equal((await stream.next()).data.message.id, message.id);
    } finally {
      await stream.close();
    }
  });
});
