/**
 * Request bodies are limited while they stream, before anything reads
 * them (authentication, CSRF, parsing, Fedify, the bridge inbox): 300 MB
 * sent to each kind of route is answered 413 (or refused before it is
 * read) and the server's resident memory grows by less than 20 MB. The
 * server runs as its own process so its memory can be read from /proc.
 */
import assert from "node:assert/strict";
import { HarmonyClient } from "../../cli/client.ts";
import { startServerProcess } from "../helpers/serverProcess.ts";
import { sendBody } from "../helpers/rawHttp.ts";
import { cookieSession, http, randomSigner } from "./support.ts";

const MB = 1024 * 1024;
const ATTACK_BYTES = 300 * MB;
const ALLOWED_GROWTH = 20 * MB;
/** Past this the sending stops, so a server without limits does not take the machine down with it. */
const SAFETY_VALVE = 400 * MB;

Deno.test({
  name: "body limits: 300 MB to any kind of route is refused while streaming and the RSS grows < 20 MB",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const signer = await randomSigner();
    await using server = await startServerProcess({ HARMONY_OWNER: signer.did });
    const owner = new HarmonyClient(server.origin, signer);
    await owner.signIn();
    const general = (await owner.channels()).find((c) => c.name === "general")!;
    const browser = await cookieSession(owner);
    const host = `host: 127.0.0.1:${server.port}`;
    const bearer = `authorization: Bearer ${owner.token}`;

    // Everything the attacks go through is loaded first (Fedify loads on the first /ap/ request).
    await http(server.origin, "POST", "/ui/join", { raw: "invite=x" });
    await http(server.origin, "POST", `/api/channels/${general.id}/messages`, {
      body: {},
      token: owner.token!,
    });
    await http(server.origin, "POST", `/ap/actors/${general.id}/inbox`, { raw: "{}" });
    await http(server.origin, "POST", "/ap/inbox", { raw: "{}" });
    await owner.upload("general", new Uint8Array(1000), "warm-up.bin");
    // Up to its limit an upload is processed (hashed, encrypted, written): keep that part small.
    await owner.setFileLimits({ maxFileSize: 1024 * 1024 });

    const attacks: Array<{ name: string; head: string; chunked: boolean; prefix?: string; status: number }> =
      [
        {
          name: "an anonymous form POST to /ui/join with Content-Length",
          head: `POST /ui/join HTTP/1.1\r\n${host}\r\ncontent-type: application/x-www-form-urlencoded`,
          chunked: false,
          status: 413,
        },
        {
          name: "an anonymous chunked form POST to /ui/join",
          head: `POST /ui/join HTTP/1.1\r\n${host}\r\ncontent-type: application/x-www-form-urlencoded`,
          chunked: true,
          prefix: "invite=",
          status: 413,
        },
        {
          name: "a chunked cookie form POST whose CSRF token the middleware looks for in the body",
          head: `POST /ui/channels HTTP/1.1\r\n${host}\r\ncookie: ${browser.cookie}\r\n` +
            "content-type: application/x-www-form-urlencoded",
          chunked: true,
          prefix: "name=",
          status: 413,
        },
        {
          name: "a chunked cookie form POST to the JSON API (CSRF reads forms before the API's routes)",
          head: `POST /api/channels HTTP/1.1\r\n${host}\r\ncookie: ${browser.cookie}\r\n` +
            "content-type: application/x-www-form-urlencoded",
          chunked: true,
          prefix: "_csrf=",
          status: 413,
        },
        {
          name: "a chunked JSON API POST",
          head: `POST /api/channels/${general.id}/messages HTTP/1.1\r\n${host}\r\n${bearer}\r\n` +
            "content-type: application/json",
          chunked: true,
          prefix: '{"message":"',
          status: 413,
        },
        {
          name: "a chunked anonymous POST to Fedify's shared inbox",
          head: `POST /ap/inbox HTTP/1.1\r\n${host}\r\ncontent-type: application/activity+json`,
          chunked: true,
          prefix: '{"type":"Create","object":"',
          status: 413,
        },
        {
          name: "a chunked capability invocation to a channel inbox (the bridge)",
          head: `POST /ap/actors/${general.id}/inbox HTTP/1.1\r\n${host}\r\n` +
            "content-type: application/activity+json",
          chunked: true,
          prefix: '{"type":"Create","proof":{"proofPurpose":"capabilityInvocation"},"object":"',
          status: 413,
        },
        {
          name: "a chunked upload beyond the community's file-size limit",
          head: `POST /api/files?channel=${general.id} HTTP/1.1\r\n${host}\r\n${bearer}\r\n` +
            "content-type: application/octet-stream",
          chunked: true,
          status: 413,
        },
        {
          name: "a chunked anonymous upload",
          head: `POST /api/files?channel=${general.id} HTTP/1.1\r\n${host}\r\n` +
            "content-type: application/octet-stream",
          chunked: true,
          status: 401,
        },
      ];

    for (const attack of attacks) {
      await t.step(attack.name, async () => {
        server.resetPeak();
        const before = server.rss();
        const reply = await sendBody(server.port, attack.head, {
          bytes: ATTACK_BYTES,
          chunked: attack.chunked,
          prefix: attack.prefix,
          keepGoing: () => server.rss() - before < SAFETY_VALVE,
        });
        const growth = server.peak() - before;
        console.log(
          `  ${attack.name}: ${reply.status}, RSS +${(growth / MB).toFixed(1)} MB, ` +
            `${(reply.sent / MB).toFixed(1)} MB sent, answered after ${
              reply.sentWhenAnswered === null ? "-" : (reply.sentWhenAnswered / MB).toFixed(1)
            } MB`,
        );
        assert.equal(
          reply.status,
          attack.status,
          `${reply.text.slice(0, 300)}\n${server.output().slice(-600)}`,
        );
        assert.ok(
          growth < ALLOWED_GROWTH,
          `the server's RSS grew by ${(growth / MB).toFixed(1)} MB (limit ${ALLOWED_GROWTH / MB} MB)`,
        );
        // Answered once the limit was crossed, not after the whole body (socket buffers hold a few MB).
        assert.ok(reply.sentWhenAnswered !== null && reply.sentWhenAnswered < 100 * MB, "answered early");
      });
    }

    await t.step("the server still answers", async () => {
      assert.equal((await http(server.origin, "GET", "/healthz")).status, 200);
    });
  },
});
