/**
 * Every request this instance makes to another server goes through its
 * Outbound (`h.outbound`): bridge peers, status lists, NodeInfo, direct
 * message deliveries, and everything Fedify fetches or sends (see
 * `withOutbound` below).
 *
 * A name is resolved once, its addresses are checked against the policy
 * (address.ts), and the connection goes to one of those very addresses:
 * `fetch` never resolves the name again, so a DNS answer that changes
 * between the check and the connection (DNS rebinding) cannot send a
 * request into the instance's own network. Plain http connects through a
 * client whose transport is a TCP socket to that address; https goes
 * through a loopback CONNECT tunnel (tunnel.ts) that opens the socket to
 * that address, while TLS runs end to end with the name as SNI and the
 * certificate checked for the name. Redirects are followed here, each hop
 * checked and pinned the same way.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { lookup } from "node:dns/promises";
import { AddressRefused, checkAddresses, fetchableUrl, ipv4, isIpLiteral } from "./address.ts";
import { ConnectTunnel } from "./tunnel.ts";

/** Resolves a host name to its IP addresses (v4 and v6, as text). */
export type Resolver = (host: string) => Promise<string[]>;

export interface OutboundOptions {
  /** Allow loopback and private addresses, and plain http (tests, LANs). */
  allowPrivate: boolean;
  /** The resolver (default: the system's, as `getaddrinfo` answers, /etc/hosts included). */
  resolve?: Resolver;
  /** Extra root certificates (PEM) trusted for https (tests with their own CA). */
  caCerts?: string[];
  /** How long a name's checked addresses are reused; connections always go to them. */
  addressTtlMs?: number;
  /** A request (and its body) is aborted after this long. */
  timeoutMs?: number;
  /** What sends a pinned request (the platform's fetch; tests wrap it to record the wire). */
  transport?: typeof fetch;
}

const plainFetch = globalThis.fetch;
/** The platform's fetch, unguarded: for a `transport` that wraps it (tests recording the wire). */
export const platformFetch: typeof fetch = plainFetch;
const MAX_REDIRECTS = 5;
const CLIENT_IDLE_MS = 120_000;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

interface PooledClient {
  client: Deno.HttpClient;
  inFlight: number;
  lastUsed: number;
}

export class Outbound {
  readonly allowPrivate: boolean;
  readonly #resolve: Resolver;
  readonly #caCerts: string[] | undefined;
  readonly #addressTtlMs: number;
  readonly #timeoutMs: number;
  readonly #transport: typeof fetch;
  /** Each host's checked addresses (latest check), and until when they are reused without resolving again. */
  readonly #checked = new Map<string, { addresses: string[]; until: number }>();
  /** Plain http: a client per address and port, its transport a TCP socket to them. */
  readonly #clients = new Map<string, PooledClient>();
  /** https: one client whose connections go through the tunnel to each name's checked address. */
  #https: Deno.HttpClient | null = null;
  #tunnel: ConnectTunnel | null = null;
  #closed = false;

  constructor(options: OutboundOptions) {
    this.allowPrivate = options.allowPrivate;
    this.#resolve = options.resolve ?? systemResolver;
    this.#caCerts = options.caCerts;
    this.#addressTtlMs = options.addressTtlMs ?? 60_000;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#transport = options.transport ?? plainFetch;
  }

  /**
   * `fetch`, connected to the address the policy checked. Throws
   * AddressRefused for a URL or an address the policy refuses. A redirect
   * of a GET or HEAD is followed (unless `redirect` says otherwise), each
   * hop checked anew; other methods get the redirect response itself.
   */
  async fetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    if (this.#closed) throw new TypeError("this instance's outbound connections are closed");
    fetchableUrl(input instanceof Request ? input.url : input, this.allowPrivate);
    let request = new Request(input, init);
    const mode = init.redirect ?? (input instanceof Request ? input.redirect : "follow");
    const signal = AbortSignal.any([request.signal, AbortSignal.timeout(this.#timeoutMs)]);
    for (let hop = 0;; hop++) {
      const response = await this.#once(request, signal);
      const location = response.headers.get("location");
      if (response.status < 300 || response.status > 399 || !location || mode === "manual") {
        return hop === 0 ? response : withUrl(response, request.url);
      }
      await response.body?.cancel().catch(() => {});
      if (mode === "error") throw new TypeError(`${request.url} redirected to ${location}`);
      if (request.method !== "GET" && request.method !== "HEAD") return response;
      if (hop === MAX_REDIRECTS) throw new TypeError(`${request.url}: too many redirects`);
      const next = new URL(location, request.url);
      const headers = new Headers(request.headers);
      if (next.origin !== new URL(request.url).origin) {
        for (const name of ["authorization", "cookie", "signature", "signature-input"]) headers.delete(name);
      }
      request = new Request(next, { method: request.method, headers, signal: request.signal });
    }
  }

  /** Checked addresses of a URL's host: resolved at most once per `addressTtlMs`. */
  async addressesOf(url: URL): Promise<string[]> {
    const host = hostOf(url);
    const cached = this.#checked.get(host);
    if (cached && cached.until > Date.now()) return cached.addresses;
    let addresses: string[];
    if (isIpLiteral(host)) {
      addresses = [host];
    } else {
      try {
        addresses = await this.#resolve(host);
      } catch {
        throw new AddressRefused(`${host} does not resolve`);
      }
    }
    checkAddresses(host, addresses, this.allowPrivate);
    const now = Date.now();
    if (this.#checked.size > 10_000) {
      for (const [other, entry] of this.#checked) if (entry.until < now) this.#checked.delete(other);
    }
    this.#checked.set(host, { addresses, until: now + this.#addressTtlMs });
    return addresses;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const pooled of this.#clients.values()) pooled.client.close();
    this.#clients.clear();
    this.#https?.close();
    this.#https = null;
    await this.#tunnel?.close();
    this.#tunnel = null;
  }

  async #once(request: Request, signal: AbortSignal): Promise<Response> {
    const url = fetchableUrl(request.url, this.allowPrivate);
    const address = preferred(await this.addressesOf(url));
    if (url.protocol === "https:") {
      return await this.#transport(request, { client: this.#httpsClient(), redirect: "manual", signal });
    }
    const pooled = this.#plainClient(address, Number(url.port) || 80);
    pooled.inFlight++;
    try {
      return await this.#transport(request, { client: pooled.client, redirect: "manual", signal });
    } finally {
      pooled.inFlight--;
      pooled.lastUsed = Date.now();
    }
  }

  /** The address the tunnel connects to for `host`: its latest checked one, never a new answer. */
  #pinned(host: string): string | null {
    const checked = this.#checked.get(host);
    return checked ? preferred(checked.addresses) : null;
  }

  #httpsClient(): Deno.HttpClient {
    if (!this.#https) {
      this.#tunnel ??= new ConnectTunnel((host) => this.#pinned(host));
      this.#https = Deno.createHttpClient({
        proxy: { url: this.#tunnel.url, basicAuth: { username: this.#tunnel.secret, password: "" } },
        caCerts: this.#caCerts,
        poolIdleTimeout: 30_000,
      });
    }
    return this.#https;
  }

  /** A client whose connections are TCP sockets to `address`:`port`; idle ones are closed. */
  #plainClient(address: string, port: number): PooledClient {
    const key = `${address} ${port}`;
    const now = Date.now();
    for (const [other, pooled] of this.#clients) {
      if (pooled.inFlight === 0 && now - pooled.lastUsed > CLIENT_IDLE_MS) {
        pooled.client.close();
        this.#clients.delete(other);
      }
    }
    let pooled = this.#clients.get(key);
    if (!pooled) {
      const hostname = address.includes(":") ? `[${address}]` : address;
      const client = Deno.createHttpClient({
        proxy: { transport: "tcp", hostname, port },
        poolIdleTimeout: 30_000,
      });
      pooled = { client, inFlight: 0, lastUsed: now };
      this.#clients.set(key, pooled);
    }
    return pooled;
  }
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

/** IPv4 first: a host whose IPv6 is not reachable from here still answers. */
function preferred(addresses: string[]): string {
  return addresses.find((a) => ipv4(a) !== null) ?? addresses[0];
}

/** A response that reports the URL it finally came from (after redirects). */
function withUrl(response: Response, url: string): Response {
  Object.defineProperty(response, "url", { value: url });
  return response;
}

const current = new AsyncLocalStorage<Outbound>();

/**
 * Runs `fn` with `outbound` as the connection policy of every global
 * `fetch` made from it, and from whatever it starts (timers, loops and
 * their continuations inherit it). Libraries that call `fetch` themselves
 * (Fedify: its document loaders, deliveries to inboxes) are held to the
 * policy this way; our own code calls `h.outbound.fetch` directly.
 */
export function withOutbound<T>(outbound: Outbound, fn: () => T): T {
  return current.run(outbound, fn);
}

// The global fetch honours `withOutbound`; outside it, it is the platform's fetch, unchanged.
// Installed when this module loads, before anything else could wrap fetch.
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const outbound = current.getStore();
  return outbound ? outbound.fetch(input, init) : plainFetch(input, init);
};
