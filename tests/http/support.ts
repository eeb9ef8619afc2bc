/** Shared pieces of the HTTP tests: raw requests, cookie sessions and signers. */
import assert from "node:assert/strict";
import { sessions } from "../../db/schema.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { type KeySigner, signerFromSecret } from "../../server/crypto/signer.ts";
import type { Harmony } from "../../server/harmony.ts";
import { HarmonyClient } from "../../cli/client.ts";

/** A fresh random Ed25519 identity (no mnemonic: faster than BIP-39). */
export async function randomSigner(): Promise<KeySigner> {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return await signerFromSecret(identityFromSigningSecret(secret).did, secret);
}

/** A client with a random identity, signed in unless asked otherwise. */
export async function quickClient(origin: string, signIn = true): Promise<HarmonyClient> {
  const client = new HarmonyClient(origin, await randomSigner());
  if (signIn) await client.signIn();
  return client;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** One HTTP request; the body is consumed so no resource leaks. */
export async function http(
  origin: string,
  method: string,
  path: string,
  options: { body?: unknown; raw?: BodyInit; headers?: Record<string, string>; token?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${origin}${path}`, { method, headers, body, redirect: "manual" });
  const text = await response.text();
  let json: unknown = undefined;
  if ((response.headers.get("content-type") ?? "").includes("json") && text) json = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, json };
}

/** Asserts an API refusal: the status and the machine-readable error code. */
export function assertRefused(reply: Reply, status: number, code?: string): void {
  assert.equal(
    reply.status,
    status,
    `expected ${status}${code ? ` ${code}` : ""}, got ${reply.status}: ${reply.text}`,
  );
  if (code) assert.equal(reply.json?.error, code, reply.text);
}

/** Signs in through the API like a browser: returns the cookie and the CSRF token. */
export async function cookieSession(
  client: HarmonyClient,
): Promise<{ cookie: string; csrfToken: string; token: string }> {
  const challenge = await http(client.server, "POST", "/api/auth/challenge");
  const presentation = await client.presentation(challenge.json.challenge, challenge.json.domain);
  const reply = await http(client.server, "POST", "/api/auth/session", { body: { presentation } });
  assert.equal(reply.status, 201, reply.text);
  const setCookie = reply.headers.get("set-cookie") ?? "";
  const match = /harmony_session=([^;]+)/.exec(setCookie);
  assert.ok(match, `no session cookie in ${setCookie}`);
  assert.match(setCookie, /HttpOnly/i);
  assert.match(setCookie, /SameSite=Lax/i);
  return { cookie: `harmony_session=${match[1]}`, csrfToken: reply.json.csrfToken, token: reply.json.token };
}

export async function sessionCount(h: Harmony): Promise<number> {
  return await h.db.$count(sessions);
}

/**
 * A port that was free a moment ago, for servers that need a fixed port. It
 * is chosen below the kernel's ephemeral range (32768 and up on Linux), so a
 * server started elsewhere with port 0 cannot be handed the same one.
 */
export { freePort } from "../helpers/ports.ts";

/** A new signed-in identity that joined through a one-use invite from `admin`. */
export async function joinedMember(origin: string, admin: HarmonyClient): Promise<HarmonyClient> {
  const invite = await admin.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
  const member = await quickClient(origin);
  await member.request("POST", "/join", { invite: invite.code });
  return member;
}

export interface Tag {
  name: string;
  attributes: Map<string, string>;
}

/**
 * The start tags of an HTML document, as a browser would tokenise them
 * (quoted attribute values may hold ">" and escaped markup).
 */
export function startTags(html: string): Tag[] {
  const tags: Tag[] = [];
  const tag =
    /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
  const attribute = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const match of html.replace(/<!--[\s\S]*?-->/g, "").matchAll(tag)) {
    const attributes = new Map<string, string>();
    for (const a of match[2].matchAll(attribute)) {
      attributes.set(a[1].toLowerCase(), a[2] ?? a[3] ?? a[4] ?? "");
    }
    tags.push({ name: match[1].toLowerCase(), attributes });
  }
  return tags;
}

/** Asserts a page has no live markup beyond our own: scripts only from /static/, no event handlers. */
export function assertNoInjectedMarkup(html: string, where: string): void {
  const tags = startTags(html);
  assert.ok(tags.length > 5, `${where}: expected an HTML page`);
  for (const { name, attributes } of tags) {
    if (name === "script") {
      assert.match(attributes.get("src") ?? "", /^\/static\//, `${where}: inline or foreign <script>`);
    }
    assert.ok(!["iframe", "object", "embed", "svg", "base"].includes(name), `${where}: <${name}> in page`);
    if (name === "img") assert.match(attributes.get("src") ?? "", /^\/avatars\//, `${where}: foreign <img>`);
    for (const [attr, value] of attributes) {
      assert.ok(!attr.startsWith("on"), `${where}: event handler ${attr}="${value}" on <${name}>`);
      if (attr === "href" || attr === "src" || attr === "action") {
        assert.doesNotMatch(value.trim(), /^(javascript|data|vbscript):/i, `${where}: ${attr}="${value}"`);
      }
    }
  }
}
