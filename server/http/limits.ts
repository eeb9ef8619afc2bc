/**
 * Request bodies are limited while they stream, by the first middleware of
 * the app (server/app.tsx), before anything reads them: authentication,
 * CSRF, form and JSON parsing, Fedify and the bridge inbox all read the
 * metered body. A body declared larger than its route's limit is refused
 * before a byte of it is read; one that turns out larger (chunked) is cut
 * at the limit: the stream fails, the rest is not read, and the answer is
 * 413 whatever the layer that was reading made of the failure.
 *
 * The time a request may keep us waiting for its body is bounded too: a
 * limited body must arrive whole within the body timeout (time spent
 * waiting for the client, not our own processing), and an upload must not
 * pause longer than that between two pieces. Past it the answer is 408.
 * (Deno's server has no timeouts of its own: the time to send the headers
 * and what the connection does after our answer are the reverse proxy's to
 * bound; see README, "Behind a reverse proxy".)
 */
import type { MiddlewareHandler } from "hono";
import { HarmonyError } from "../shared/errors.ts";
import { MAX_AVATAR_BYTES } from "../community/profiles.ts";
import type { AppEnv } from "./env.ts";

/** Every body unless a route says otherwise: JSON requests and forms. */
export const MAX_BODY_BYTES = 64 * 1024;
/** A profile carries its avatar as base64 (4/3 of the image size). */
export const MAX_PROFILE_BYTES = Math.ceil(MAX_AVATAR_BYTES * 4 / 3) + MAX_BODY_BYTES;
/** ActivityPub inboxes (Fedify's and the bridge's): an activity with its embedded object and proofs. */
export const MAX_INBOX_BYTES = 256 * 1024;

/** The most bytes a request's body may hold, or null for an upload (metered against the community's limit). */
export function bodyLimitOf(method: string, path: string): number | null {
  if (method === "POST" && path === "/api/files") return null;
  if (path === "/api/profile") return MAX_PROFILE_BYTES;
  if (path.startsWith("/ap/")) return MAX_INBOX_BYTES;
  return MAX_BODY_BYTES;
}

const tooLarge = (limit: number) =>
  new HarmonyError(413, "too_large", `the request body is larger than ${limit} bytes`);

const tooSlow = (seconds: number) =>
  new HarmonyError(
    408,
    "body_timeout",
    `the request body did not arrive in time (the limit is ${seconds} seconds of waiting)`,
  );

const TIMED_OUT = Symbol("timed out");

function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A request body read through a byte and time budget. `refusal` is set
 * when the body broke either; `release()` lets go of what nobody read.
 */
class MeteredBody {
  refusal: HarmonyError | null = null;
  readonly stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #finished = false;

  constructor(body: ReadableStream<Uint8Array>, limit: number | null, timeoutMs: number) {
    const reader = this.#reader = body.getReader();
    let size = 0;
    /** For a limited body: how much longer we will wait for the client, in all. */
    let waitLeft = timeoutMs;
    const refuse = (controller: ReadableStreamDefaultController<Uint8Array>, error: HarmonyError) => {
      this.refusal = error;
      this.#finish();
      controller.error(error);
    };
    this.stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const started = performance.now();
        const result = await within(reader.read(), limit === null ? timeoutMs : waitLeft);
        waitLeft -= performance.now() - started;
        if (result === TIMED_OUT) return refuse(controller, tooSlow(Math.round(timeoutMs / 1000)));
        if (result.done) {
          this.#finished = true;
          return controller.close();
        }
        size += result.value.byteLength;
        if (limit !== null && size > limit) return refuse(controller, tooLarge(limit));
        controller.enqueue(result.value);
      },
      cancel: (reason) => {
        this.#finished = true;
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }

  #finish() {
    if (this.#finished) return;
    this.#finished = true;
    this.#reader.cancel().catch(() => {});
  }

  /** After the answer: nothing more of the body will be read. */
  release() {
    this.#finish();
  }
}

/** The first middleware: every request's body goes through its route's limit (see the top of this file). */
export function limitBodies(timeoutSeconds: number): MiddlewareHandler<AppEnv> {
  const timeoutMs = timeoutSeconds * 1000;
  return async (c, next) => {
    const raw = c.req.raw;
    if (!raw.body) return await next();
    const limit = bodyLimitOf(raw.method, c.req.path);
    const declared = raw.headers.get("content-length");
    if (limit !== null && declared !== null && Number(declared) > limit) throw tooLarge(limit);
    // A GET or HEAD body is never read (and a Request of those methods cannot be given one).
    if (raw.method === "GET" || raw.method === "HEAD") return await next();
    const body = new MeteredBody(raw.body, limit, timeoutMs);
    c.req.raw = new Request(raw, { body: body.stream, duplex: "half" } as RequestInit);
    try {
      await next();
    } finally {
      body.release();
    }
    // Whatever the reader made of the failed stream (a 400, a 500, a fall-through), the answer is this.
    if (body.refusal) throw body.refusal;
  };
}
