/**
 * A request cannot hold a handler by sending its body slowly: a limited
 * body must arrive whole within the body timeout (2 s here), an upload may
 * not pause longer than that between pieces; past it the answer is 408 and
 * nothing is stored.
 */
import assert from "node:assert/strict";
import { claimedInstance } from "../helpers/instance.ts";
import { dripBody, stallAfter } from "../helpers/rawHttp.ts";

const TIMEOUT = { HARMONY_BODY_TIMEOUT_SECONDS: "2" };

async function fileCount(
  h: { database: { client: { execute(sql: string): Promise<{ rows: unknown[] }> } } },
) {
  const { rows } = await h.database.client.execute("SELECT count(*) AS n FROM files");
  return Number((rows[0] as { n: number }).n);
}

Deno.test({
  name: "body timeout: a body that stops arriving or only trickles in is answered 408; uploads may be slow",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { instance, owner } = await claimedInstance(TIMEOUT);
    await using _ = instance;
    const host = `host: 127.0.0.1:${instance.port}`;
    const general = (await owner.channels()).find((c) => c.name === "general")!;

    await t.step("a JSON body that stops half-way is answered 408 after the timeout", async () => {
      const head = `POST /api/auth/session HTTP/1.1\r\n${host}\r\ncontent-type: application/json\r\n` +
        "content-length: 1000\r\n\r\n";
      const reply = await stallAfter(instance.port, `${head}{"presentation":`, 8_000, { untilAnswer: true });
      assert.match(reply.text, /^HTTP\/1\.1 408/, `no 408 within ${reply.afterMs} ms: ${reply.text}`);
      assert.ok(reply.answeredAfterMs! < 5_000, `answered after ${reply.answeredAfterMs} ms`);
    });

    await t.step("a form that trickles in, each piece in time, is cut when the whole is late", async () => {
      const reply = await dripBody(
        instance.port,
        `POST /ui/join HTTP/1.1\r\n${host}\r\ncontent-type: application/x-www-form-urlencoded`,
        { piece: "a", everyMs: 200, forMs: 8_000 },
      );
      assert.equal(reply.status, 408, reply.text);
      assert.ok(reply.afterMs < 5_000, `answered after ${reply.afterMs} ms`);
    });

    const uploadHead = `POST /api/files?channel=${general.id} HTTP/1.1\r\n${host}\r\n` +
      `authorization: Bearer ${owner.token}\r\ncontent-type: application/octet-stream`;

    await t.step(
      "an upload that pauses longer than the timeout is answered 408 and stores nothing",
      async () => {
        const before = await fileCount(instance.harmony);
        const reply = await stallAfter(
          instance.port,
          `${uploadHead}\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n`,
          8_000,
          { untilAnswer: true },
        );
        assert.match(reply.text, /^HTTP\/1\.1 408/, `no 408 within ${reply.afterMs} ms: ${reply.text}`);
        assert.equal(await fileCount(instance.harmony), before);
      },
    );

    await t.step("an upload that keeps coming, slower than the timeout in all, is accepted", async () => {
      const pieces = 16;
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === pieces) return controller.close();
          await new Promise((resolve) => setTimeout(resolve, 250));
          controller.enqueue(new TextEncoder().encode(`piece ${++sent}\n`));
        },
      });
      const started = Date.now();
      const response = await fetch(`${instance.origin}/api/files?channel=${general.id}`, {
        method: "POST",
        headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/octet-stream" },
        body,
      });
      const text = await response.text();
      assert.equal(response.status, 201, text);
      assert.ok(Date.now() - started > 3_000, "the upload took longer than the timeout");
    });
  },
});
