/**
 * A plain ActivityPub server that behaves like Mastodon where it matters
 * to us, written without Fedify: a Person actor with an RSA key
 * (publicKeyPem), NodeInfo saying "mastodon", and an inbox that only
 * accepts draft-cavage HTTP signatures (rsa-sha256 over "(request-target)
 * host date digest", the Digest checked against the body), fetching and
 * caching the sender's key and fetching it again once when a signature
 * does not verify. Its own POSTs are signed the same way.
 */
import { freePort } from "../http/support.ts";

export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
export const AP_JSON = "application/activity+json";
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const encoder = new TextEncoder();

export const b64 = (bytes: ArrayBuffer | Uint8Array) => {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text);
};
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export async function digestOf(body: string): Promise<string> {
  return `SHA-256=${b64(await crypto.subtle.digest("SHA-256", encoder.encode(body)))}`;
}

export async function rsaKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
}

async function pemOf(key: CryptoKey): Promise<string> {
  const lines = b64(await crypto.subtle.exportKey("spki", key)).match(/.{1,64}/g)!;
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

export interface Delivery {
  path: string;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

export interface SignOptions {
  /** Send without any signature. */
  unsigned?: boolean;
  /** Sign a different body than the one sent (the Digest no longer matches). */
  tamper?: "digest" | "signature";
  /** Sign with this key instead of the peer's own. */
  privateKey?: CryptoKey;
  keyId?: string;
}

export interface PeerOptions {
  port?: number;
  name?: string;
  /** The software its NodeInfo names (default "mastodon"). */
  software?: string;
  keys?: CryptoKeyPair;
}

export class MastodonPeer {
  /** Deliveries whose signature verified. */
  readonly received: Delivery[] = [];
  /** Deliveries refused (401), with the reason. */
  readonly refused: Array<{ path: string; reason: string }> = [];
  /** "hang": inbox requests are accepted but never answered (until stop). */
  mode: "ok" | "hang" = "ok";
  /** How many times a sender's key was fetched. */
  keyFetches = 0;
  readonly #sent = new Map<string, unknown>();
  readonly #keyCache = new Map<string, CryptoKey>();
  #hanging: Array<() => void> = [];
  #server: Deno.HttpServer | null = null;
  #publicKeyPem = "";

  private constructor(
    readonly port: number,
    readonly name: string,
    readonly software: string,
    readonly keys: CryptoKeyPair,
  ) {}

  static async start(options: PeerOptions = {}): Promise<MastodonPeer> {
    const peer = new MastodonPeer(
      options.port ?? freePort(),
      options.name ?? "alice",
      options.software ?? "mastodon",
      options.keys ?? await rsaKeyPair(),
    );
    peer.#publicKeyPem = await pemOf(peer.keys.publicKey);
    peer.listen();
    return peer;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get actorId(): string {
    return `${this.base}/users/${this.name}`;
  }
  get keyId(): string {
    return `${this.actorId}#main-key`;
  }
  get inbox(): string {
    return `${this.actorId}/inbox`;
  }
  get sharedInbox(): string {
    return `${this.base}/inbox`;
  }
  get running(): boolean {
    return this.#server !== null;
  }

  actorDocument() {
    return {
      "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
      id: this.actorId,
      type: "Person",
      preferredUsername: this.name,
      name: `${this.name[0].toUpperCase()}${this.name.slice(1)} Example`,
      url: `${this.base}/@${this.name}`,
      inbox: this.inbox,
      outbox: `${this.actorId}/outbox`,
      followers: `${this.actorId}/followers`,
      endpoints: { sharedInbox: this.sharedInbox },
      publicKey: { id: this.keyId, owner: this.actorId, publicKeyPem: this.#publicKeyPem },
    };
  }

  listen(): void {
    if (this.#server) return;
    this.#server = Deno.serve(
      { port: this.port, hostname: "127.0.0.1", onListen() {} },
      (request) => this.#handle(request),
    );
  }

  /** Stops serving (a peer that is down); hanging requests are answered 503 first. */
  async stop(): Promise<void> {
    for (const release of this.#hanging.splice(0)) release();
    const server = this.#server;
    this.#server = null;
    await server?.shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.mode = "ok";
    await this.stop();
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const json = (body: unknown, type = AP_JSON) =>
      new Response(JSON.stringify(body), { headers: { "content-type": type } });
    if (request.method === "GET") {
      if (url.pathname === `/users/${this.name}`) return json(this.actorDocument());
      if (url.pathname === "/.well-known/nodeinfo") {
        return json({
          links: [{
            rel: "http://nodeinfo.diaspora.software/ns/schema/2.0",
            href: `${this.base}/nodeinfo/2.0`,
          }],
        }, "application/json");
      }
      if (url.pathname === "/nodeinfo/2.0") {
        return json({
          version: "2.0",
          software: { name: this.software, version: "4.3.2" },
          protocols: ["activitypub"],
          services: { inbound: [], outbound: [] },
          usage: { users: { total: 1 }, localPosts: 0 },
          openRegistrations: false,
          metadata: {},
        }, "application/json");
      }
      const sent = this.#sent.get(url.pathname);
      if (sent) return json(sent);
      return new Response("not found", { status: 404 });
    }
    if (
      request.method === "POST" && (url.pathname === "/inbox" || url.pathname === `/users/${this.name}/inbox`)
    ) {
      const body = await request.text();
      if (this.mode === "hang") {
        await new Promise<void>((resolve) => this.#hanging.push(resolve));
        return new Response("gone away", { status: 503 });
      }
      const verdict = await this.#verify(request, url, body).catch((error) => String(error));
      if (verdict !== true) {
        this.refused.push({ path: url.pathname, reason: verdict });
        return new Response(verdict, { status: 401 });
      }
      this.received.push({ path: url.pathname, body: JSON.parse(body), headers: request.headers });
      return new Response(null, { status: 202 });
    }
    return new Response("not found", { status: 404 });
  }

  async #fetchKey(keyId: string): Promise<CryptoKey> {
    this.keyFetches++;
    const response = await fetch(keyId, { headers: { accept: AP_JSON } });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`key ${keyId}: ${response.status}`);
    }
    const doc = await response.json();
    const candidates = [doc.publicKey, doc].flat().filter(Boolean);
    const key = candidates.find((k: { id?: string }) => k.id === keyId) ?? doc.publicKey;
    if (!key?.publicKeyPem) throw new Error(`no publicKeyPem at ${keyId}`);
    const der = unb64(key.publicKeyPem.replace(/-----[^-]+-----|\s/g, ""));
    const imported = await crypto.subtle.importKey("spki", der, RSA, false, ["verify"]);
    this.#keyCache.set(keyId, imported);
    return imported;
  }

  /** Verifies a draft-cavage signature like Mastodon; RFC 9421 requests are refused (401). */
  async #verify(request: Request, url: URL, body: string): Promise<true | string> {
    const header = request.headers.get("signature");
    if (!header || request.headers.has("signature-input")) return "no draft-cavage signature";
    const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const covered = (params.headers ?? "date").split(" ");
    for (const required of ["(request-target)", "host", "date", "digest"]) {
      if (!covered.includes(required)) return `signature does not cover ${required}`;
    }
    if (request.headers.get("digest") !== await digestOf(body)) return "digest mismatch";
    const date = Date.parse(request.headers.get("date") ?? "");
    if (!(Math.abs(Date.now() - date) < 3600_000)) return "date out of window";
    const text = covered.map((name) =>
      name === "(request-target)"
        ? `(request-target): ${request.method.toLowerCase()} ${url.pathname}${url.search}`
        : `${name}: ${request.headers.get(name)}`
    ).join("\n");
    const signature = unb64(params.signature ?? "");
    const data = encoder.encode(text);
    const cached = this.#keyCache.get(params.keyId);
    if (cached && await crypto.subtle.verify(RSA, cached, signature, data)) return true;
    // Like Mastodon: a key that does not verify is fetched again once (it may have been rotated).
    const key = await this.#fetchKey(params.keyId);
    return await crypto.subtle.verify(RSA, key, signature, data) ? true : "bad signature";
  }

  /** Makes an id under this server for an activity it sends, and serves the activity there. */
  mint(kind: string, activity: Record<string, unknown>): Record<string, unknown> {
    const path = `/users/${this.name}/${kind}/${crypto.randomUUID()}`;
    const full = { "@context": AS_CONTEXT, id: `${this.base}${path}`, ...activity };
    this.#sent.set(path, full);
    return full;
  }

  /** Serves an object (a Note) at its id. */
  serve(object: { id: string }): void {
    this.#sent.set(new URL(object.id).pathname, object);
  }

  /** POSTs an activity signed like Mastodon (draft-cavage, rsa-sha256). */
  async post(
    inbox: string,
    activity: unknown,
    options: SignOptions = {},
  ): Promise<{ status: number; text: string }> {
    const body = JSON.stringify(activity);
    const target = new URL(inbox);
    const date = new Date().toUTCString();
    const digest = await digestOf(options.tamper === "digest" ? `${body} ` : body);
    const headers: Record<string, string> = { "content-type": AP_JSON, date, digest };
    if (!options.unsigned) {
      const text = [
        `(request-target): post ${target.pathname}`,
        `host: ${target.host}`,
        `date: ${date}`,
        `digest: ${digest}`,
      ].join("\n");
      const signature = new Uint8Array(
        await crypto.subtle.sign(RSA, options.privateKey ?? this.keys.privateKey, encoder.encode(text)),
      );
      if (options.tamper === "signature") signature[17] ^= 1;
      headers.signature = `keyId="${
        options.keyId ?? this.keyId
      }",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="${b64(signature)}"`;
    }
    const response = await fetch(inbox, { method: "POST", headers, body });
    return { status: response.status, text: await response.text() };
  }

  /** Fetches an ActivityPub document (unsigned, as most servers allow). */
  // deno-lint-ignore no-explicit-any
  async get(url: string): Promise<{ status: number; json: any }> {
    const response = await fetch(url, { headers: { accept: AP_JSON } });
    const text = await response.text();
    return { status: response.status, json: text && response.ok ? JSON.parse(text) : null };
  }

  /** Follows an actor: fetches it, posts a Follow to its inbox; returns the Follow. */
  async follow(actor: string, options: SignOptions = {}) {
    const { json } = await this.get(actor);
    const follow = this.mint("follows", { type: "Follow", actor: this.actorId, object: actor });
    const reply = await this.post(json.inbox, follow, options);
    return { follow, reply, inbox: json.inbox as string };
  }

  async undo(follow: Record<string, unknown>, inbox: string) {
    const undo = this.mint("undos", { type: "Undo", actor: this.actorId, object: follow });
    return await this.post(inbox, undo);
  }

  /** Deliveries so far whose body matches. */
  // deno-lint-ignore no-explicit-any
  find(match: (body: any) => boolean): Delivery[] {
    return this.received.filter((d) => match(d.body));
  }

  /** Waits for a verified delivery whose body matches. */
  // deno-lint-ignore no-explicit-any
  async waitFor(match: (body: any) => boolean, what: string, timeoutMs = 10_000): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.received.find((d) => match(d.body));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(
      `${this.name} did not receive ${what} within ${timeoutMs} ms; got ${
        JSON.stringify(this.received.map((d) => d.body.type + " " + (d.body.object?.type ?? d.body.object)))
      }; refused ${JSON.stringify(this.refused)}`,
    );
  }
}
