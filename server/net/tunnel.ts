/**
 * A loopback HTTP CONNECT tunnel that connects to an address the policy
 * already checked, never to what the name would resolve to now. It is how
 * an https request goes to the checked address (outbound.ts): Deno's fetch
 * has no resolver hook, but through an HTTP proxy it sends
 * `CONNECT name:port` and then speaks TLS end to end, with the name as SNI
 * and the certificate checked for that name. The tunnel asks its owner for
 * the checked address of that name (none: refused) and opens the socket to
 * it. Its credentials are a random secret, so nothing else on the machine
 * can use it as a proxy.
 */
import { timingSafeEqual } from "node:crypto";

const MAX_HEAD_BYTES = 8 * 1024;
const HEAD_TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();

export class ConnectTunnel {
  readonly secret = crypto.randomUUID().replaceAll("-", "");

  /** `pinned(host)`: the checked address a CONNECT to `host` goes to, or null to refuse it. */
  constructor(readonly pinned: (host: string) => string | null) {}

  #listener: Deno.TcpListener | null = null;
  #accepting: Promise<void> | null = null;
  readonly #open = new Set<Deno.Conn>();

  /** The proxy URL (http://127.0.0.1:port), listening from the first call on. */
  get url(): string {
    if (!this.#listener) {
      this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      this.#accepting = this.#accept(this.#listener);
    }
    return `http://127.0.0.1:${this.#listener.addr.port}`;
  }

  async close(): Promise<void> {
    const listener = this.#listener;
    this.#listener = null;
    if (!listener) return;
    listener.close();
    for (const conn of this.#open) closeQuietly(conn);
    this.#open.clear();
    await this.#accepting;
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    try {
      for await (const conn of listener) this.#serve(conn).catch(() => {});
    } catch {
      // the listener was closed
    }
  }

  async #serve(client: Deno.Conn): Promise<void> {
    this.#open.add(client);
    let upstream: Deno.Conn | null = null;
    try {
      const head = await readHead(client);
      const target = head && this.#target(head.text);
      if (!head || !target) {
        await client.write(encoder.encode("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")).catch(
          () => {},
        );
        return;
      }
      try {
        upstream = await Deno.connect({ hostname: target.address, port: target.port });
      } catch {
        await client.write(encoder.encode("HTTP/1.1 502 Bad Gateway\r\n\r\n")).catch(() => {});
        return;
      }
      this.#open.add(upstream);
      await client.write(encoder.encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
      if (head.rest.length > 0) await upstream.write(head.rest);
      const up = upstream;
      await Promise.allSettled([
        client.readable.pipeTo(up.writable),
        up.readable.pipeTo(client.writable),
      ]);
    } finally {
      for (const conn of [client, upstream]) {
        if (!conn) continue;
        this.#open.delete(conn);
        closeQuietly(conn);
      }
    }
  }

  /** The address and port a CONNECT request goes to: only with our secret, only to a checked address. */
  #target(head: string): { address: string; port: number } | null {
    const line = /^CONNECT (\S+):(\d{1,5}) HTTP\/1\.1\r\n/.exec(head);
    const auth = /\r\nproxy-authorization: *basic +([A-Za-z0-9+/=]+)\r\n/i.exec(head);
    if (!line || !auth) return null;
    const port = Number(line[2]);
    if (port < 1 || port > 65535) return null;
    let credentials: string;
    try {
      credentials = atob(auth[1]);
    } catch {
      return null;
    }
    const secret = encoder.encode(credentials.slice(0, credentials.indexOf(":")));
    const expected = encoder.encode(this.secret);
    if (secret.length !== expected.length || !timingSafeEqual(secret, expected)) return null;
    const address = this.pinned(line[1].replace(/^\[|\]$/g, "").toLowerCase());
    return address ? { address, port } : null;
  }
}

/** The request head (up to the blank line) and whatever arrived after it. */
async function readHead(conn: Deno.Conn): Promise<{ text: string; rest: Uint8Array } | null> {
  const buffer = new Uint8Array(MAX_HEAD_BYTES);
  let length = 0;
  const timer = setTimeout(() => closeQuietly(conn), HEAD_TIMEOUT_MS);
  try {
    while (length < buffer.length) {
      const n = await conn.read(buffer.subarray(length));
      if (n === null) return null;
      const searchFrom = Math.max(0, length - 3);
      length += n;
      for (let i = searchFrom; i + 3 < length; i++) {
        if (buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10) {
          return {
            text: new TextDecoder().decode(buffer.subarray(0, i + 2)),
            rest: buffer.slice(i + 4, length),
          };
        }
      }
    }
    return null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
