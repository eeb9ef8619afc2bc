/**
 * HTTP/1.1 spoken by hand over TCP, for what fetch() cannot do: keep
 * sending a body after the server answered, send chunked bodies of any
 * size, stop in the middle of the headers or of a body.
 */

export interface RawReply {
  /** The status of the answer, or 0 when the server closed without one. */
  status: number;
  /** Everything the server sent back, headers included. */
  text: string;
  /** Body bytes written before the connection ended or the sending stopped. */
  sent: number;
  /** Body bytes written when the first byte of the answer arrived (null: no answer). */
  sentWhenAnswered: number | null;
}

export interface BodyOptions {
  /** Body bytes to send (the size of the attack). */
  bytes: number;
  /** Chunked transfer coding instead of Content-Length. */
  chunked?: boolean;
  /** A prefix of the body (the rest is filler). */
  prefix?: string;
  /** Called after each piece; return false to stop sending (the test's safety valve). */
  keepGoing?: () => boolean;
  /** How long to wait for the answer once everything is sent. */
  answerTimeoutMs?: number;
  /** Sending stops when the server takes no more bytes for this long. */
  stallTimeoutMs?: number;
}

const encoder = new TextEncoder();
const PIECE = 64 * 1024;

/** Whether `text` (of `bytes` bytes) holds a whole answer: its head and all of its body. */
function isComplete(text: string, bytes: number): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const head = text.slice(0, end).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) return bytes - (end + 4) >= Number(length[1]);
  return /\r\ntransfer-encoding:\s*chunked/.test(head) && text.endsWith("0\r\n\r\n");
}

function statusOf(text: string): number {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return match ? Number(match[1]) : 0;
}

/**
 * Sends `head` (request line and headers, without the blank line; the
 * length header is added) and a body of `bytes` bytes, reading the answer
 * at the same time, as an attacker that never stops sending would.
 */
export async function sendBody(port: number, head: string, options: BodyOptions): Promise<RawReply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const framing = options.chunked ? "transfer-encoding: chunked" : `content-length: ${options.bytes}`;
  let text = "";
  let sent = 0;
  let sentWhenAnswered: number | null = null;
  let ended = false;
  let received = 0;
  let answered: () => void = () => {};
  const answer = new Promise<void>((resolve) => answered = resolve);
  const reading = (async () => {
    const buffer = new Uint8Array(16 * 1024);
    const decoder = new TextDecoder();
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      sentWhenAnswered ??= sent;
      received += n;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      if (isComplete(text, received)) answered();
    }
    ended = true;
    answered();
  })();
  const stall = options.stallTimeoutMs ?? 10_000;
  /** Writes all of `bytes` (a write may take only part), giving up when the server stops reading. */
  const write = async (bytes: Uint8Array) => {
    while (bytes.length) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<"stalled">((resolve) =>
        timer = setTimeout(() => resolve("stalled"), stall)
      );
      const written = await Promise.race([conn.write(bytes), stalled]).finally(() => clearTimeout(timer));
      if (written === "stalled") throw new Error("the server stopped reading");
      bytes = bytes.subarray(written);
    }
  };
  const piece = new Uint8Array(PIECE).fill(0x61);
  const chunkedPiece = new Uint8Array([...encoder.encode(`${PIECE.toString(16)}\r\n`), ...piece, 13, 10]);
  try {
    await write(encoder.encode(`${head.trimEnd()}\r\n${framing}\r\n\r\n`));
    let first = encoder.encode(options.prefix ?? "");
    while (sent < options.bytes && !ended && (options.keepGoing?.() ?? true)) {
      let bytes: Uint8Array = first.length ? first : piece;
      first = new Uint8Array(0);
      if (bytes.length > options.bytes - sent) bytes = bytes.subarray(0, options.bytes - sent);
      if (options.chunked) {
        const framed = bytes === piece ? chunkedPiece : new Uint8Array([
          ...encoder.encode(`${bytes.length.toString(16)}\r\n`),
          ...bytes,
          13,
          10,
        ]);
        await write(framed);
      } else {
        await write(bytes);
      }
      sent += bytes.length;
      // Let the reading side see an answer that came (writes to a fast reader may never yield).
      if (sent % (16 * PIECE) < bytes.length) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (options.chunked && sent >= options.bytes) await write(encoder.encode("0\r\n\r\n"));
  } catch {
    // The server closed the connection or stopped reading: the answer, if any, is read below.
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise((resolve) => timer = setTimeout(resolve, options.answerTimeoutMs ?? 30_000));
  await Promise.race([answer, waited]);
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* already closed */ }
  await reading;
  return { status: statusOf(text), text, sent, sentWhenAnswered };
}

/**
 * Opens a connection, writes `bytes` and then nothing more, and waits
 * `waitMs` for the server to close it (or, with `untilAnswer`, to answer).
 * `open`: still open when the wait ended; `answeredAfterMs`: when the
 * first byte of an answer came (null: none).
 */
export async function stallAfter(
  port: number,
  bytes: string,
  waitMs: number,
  options: { untilAnswer?: boolean } = {},
): Promise<{ open: boolean; afterMs: number; answeredAfterMs: number | null; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = Date.now();
  let rest = encoder.encode(bytes);
  while (rest.length) rest = rest.subarray(await conn.write(rest));
  let text = "";
  let closed = false;
  let answeredAfterMs: number | null = null;
  let answered: () => void = () => {};
  const answer = new Promise<void>((resolve) => answered = resolve);
  const reading = (async () => {
    const buffer = new Uint8Array(16 * 1024);
    const decoder = new TextDecoder();
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      answeredAfterMs ??= Date.now() - started;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      answered();
    }
    closed = true;
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waits: Promise<unknown>[] = [reading, new Promise((resolve) => timer = setTimeout(resolve, waitMs))];
  if (options.untilAnswer) waits.push(answer);
  await Promise.race(waits);
  clearTimeout(timer);
  const afterMs = Date.now() - started;
  const open = !closed;
  try {
    conn.close();
  } catch { /* already closed */ }
  await reading;
  return { open, afterMs, answeredAfterMs, text };
}

/**
 * Sends `head` and then a chunked body one small piece every `everyMs`,
 * until the server answers or `forMs` passed. Resolves with the answer's
 * status (0 if none) and when it came.
 */
export async function dripBody(
  port: number,
  head: string,
  options: { piece: string; everyMs: number; forMs: number },
): Promise<{ status: number; afterMs: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = Date.now();
  let text = "";
  let answeredAt = 0;
  const reading = (async () => {
    const buffer = new Uint8Array(16 * 1024);
    const decoder = new TextDecoder();
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      answeredAt ||= Date.now() - started;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  })();
  const piece = encoder.encode(options.piece);
  const framed = new Uint8Array([...encoder.encode(`${piece.length.toString(16)}\r\n`), ...piece, 13, 10]);
  try {
    await conn.write(encoder.encode(`${head.trimEnd()}\r\ntransfer-encoding: chunked\r\n\r\n`));
    while (!answeredAt && Date.now() - started < options.forMs) {
      await conn.write(framed);
      await new Promise((resolve) => setTimeout(resolve, options.everyMs));
    }
  } catch { /* closed by the server */ }
  try {
    conn.close();
  } catch { /* already closed */ }
  await reading;
  return { status: statusOf(text), afterMs: answeredAt || Date.now() - started, text };
}
