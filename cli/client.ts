/**
 * A client for the Harmony JSON API (docs/api.md) that signs like the
 * browser does. Used by the command-line client, the tests and the
 * benchmarks; bots can import it too.
 */
import { base64urlnopad } from "@scure/base";
import { identityFromMnemonic, identityFromSigningSecret } from "../server/crypto/derive.ts";
import { type KeySigner, signerFromSecret } from "../server/crypto/signer.ts";
import {
  signAction,
  signDelete,
  signMessage,
  signPin,
  signPresentation,
  signProfile,
  signReact,
  signUnreact,
  signUpdate,
} from "../server/documents/documents.ts";
import type { MessageOptions } from "../server/documents/documents.ts";
import type { Attachment, SignedAction } from "../server/documents/signed.ts";
import type { AuditEntry } from "../server/audit/chain.ts";
import { type Verification, verifyEntries } from "../server/audit/verify.ts";
import { signCredentialPresentation } from "../server/credentials/presentation.ts";
import { delegateFrom } from "../server/authority/delegating.ts";
import { type MentionDirectory, resolveMentions } from "../server/attention/mentionText.ts";

export interface IdentityFile {
  version: 1;
  did: string;
  mnemonic?: string;
  /** The 32-byte Ed25519 secret, base64url. */
  signingSecret: string;
}

export async function identityFileFromMnemonic(mnemonic: string): Promise<IdentityFile> {
  const identity = await identityFromMnemonic(mnemonic);
  return {
    version: 1,
    did: identity.did,
    mnemonic,
    signingSecret: base64urlnopad.encode(identity.signingSecret),
  };
}

/** Checks an identity file and returns a signer for it. */
export async function signerFromIdentityFile(file: IdentityFile): Promise<KeySigner> {
  if (file?.version !== 1 || typeof file.signingSecret !== "string" || typeof file.did !== "string") {
    throw new Error("not a Harmony identity file");
  }
  const secret = base64urlnopad.decode(file.signingSecret);
  const identity = identityFromSigningSecret(secret);
  if (identity.did !== file.did) throw new Error("the identity file's key does not match its DID");
  return await signerFromSecret(identity.did, secret);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before trying again (429 refusals: slow mode, rate limits). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * The server did not answer at all (refused connection, unknown host, TLS
 * failure). A TypeError, as the failed fetch itself was.
 */
export class ServerUnreachableError extends TypeError {
  constructor(readonly server: string, cause: unknown) {
    super(`cannot reach ${server}: ${reasonOf(cause)}`, { cause });
    this.name = "ServerUnreachableError";
  }
}

/** The most specific part of a fetch error ("tcp connect error: Connection refused"). */
function reasonOf(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const text = inner instanceof Error ? inner.message : String(inner);
  const reason = text
    .replace(/^.*?\((?:Connect|SendRequest)\):\s*/, "")
    .replace(/^error sending request for url \([^)]*\):\s*/, "")
    .replace(/^fetch failed:\s*/i, "")
    .replace(/\s*\(os error \d+\)$/, "")
    .trim();
  return reason || "no answer";
}

export class HarmonyClient {
  token: string | null = null;

  constructor(readonly server: string, readonly signer: KeySigner | null = null) {
    this.server = server.replace(/\/+$/, "");
  }

  get did(): string {
    if (!this.signer) throw new Error("this client has no identity");
    return this.signer.did;
  }

  /**
   * Sends a request and returns the response once it is known to be a
   * success; a refusal becomes an ApiError, a server that cannot be reached
   * a ServerUnreachableError.
   */
  async send(
    method: string,
    path: string,
    body?: unknown,
    init: { headers?: Record<string, string>; signal?: AbortSignal; rawBody?: BodyInit } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.server}/api${path}`, {
        method,
        headers,
        body: init.rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
        signal: init.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ServerUnreachableError(this.server, error);
    }
    if (!response.ok) {
      const text = await response.text();
      const type = response.headers.get("content-type") ?? "";
      let code = "http_error";
      let message = `${response.status} ${response.statusText}`;
      if (type.includes("json")) {
        try {
          const parsed = JSON.parse(text);
          code = parsed.error ?? code;
          message = parsed.message ?? message;
        } catch { /* keep the status line */ }
      }
      const retryAfter = response.headers.get("retry-after");
      throw new ApiError(response.status, code, message, retryAfter === null ? null : Number(retryAfter));
    }
    return response;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const type = response.headers.get("content-type") ?? "";
    return (type.includes("json") ? JSON.parse(text) : text) as T;
  }

  /** Signs a presentation over a fresh challenge and keeps the session token. */
  async signIn(): Promise<{ did: string; member: unknown }> {
    const signer = this.#signer();
    const challenge = await this.request<{ challenge: string; domain: string }>("POST", "/auth/challenge");
    const presentation = await this.presentation(challenge.challenge, challenge.domain);
    const session = await this.request<{ token: string; did: string; member: unknown }>(
      "POST",
      "/auth/session",
      {
        presentation,
      },
    );
    this.token = session.token;
    if (session.did !== signer.did) throw new Error("the server opened a session for another DID");
    return session;
  }

  presentation(challenge: string, domain: string, created?: string) {
    return signPresentation(this.#signer(), challenge, domain, created);
  }

  #signer(): KeySigner {
    if (!this.signer) throw new Error("this client has no identity");
    return this.signer;
  }

  signedMessage(
    channelIri: string,
    content: string,
    id?: string,
    published?: string,
    options?: MessageOptions,
  ) {
    return signMessage(this.#signer(), channelIri, content, id, published, options);
  }

  signedUpdate(
    channelIri: string,
    messageId: string,
    content: string,
    published?: string,
    mentions?: string[],
  ) {
    return signUpdate(this.#signer(), channelIri, messageId, content, published, mentions);
  }

  /**
   * Resolves `@name` (a member's display name, a role's name or slug) into
   * mention tokens and the DIDs and role IRIs to sign (server/attention/mentionText.ts).
   */
  async resolveMentions(text: string): Promise<{ content: string; mentions: string[] }> {
    if (!text.includes("@")) return { content: text, mentions: [] };
    return resolveMentions(text, await this.request<MentionDirectory>("GET", "/attention/directory"));
  }

  signedDelete(channelIri: string, messageId: string, published?: string) {
    return signDelete(this.#signer(), channelIri, messageId, published);
  }

  signedProfile(name: string, avatar?: { type: string; hash: string }, updated?: string) {
    return signProfile(this.#signer(), name, avatar, updated);
  }

  // ---- convenience calls

  channels() {
    return this.request<ChannelJson[]>("GET", "/channels");
  }

  async channel(nameOrId: string): Promise<ChannelJson> {
    return await this.request<ChannelJson>(
      "GET",
      `/channels/${encodeURIComponent(nameOrId.replace(/^#/, ""))}`,
    );
  }

  async post(nameOrId: string, content: string, attachments: Attachment[] = []): Promise<MessageJson> {
    const channel = await this.channel(nameOrId);
    const text = await this.resolveMentions(content);
    return await this.request<MessageJson>("POST", `/channels/${channel.id}/messages`, {
      message: await this.signedMessage(channel.iri, text.content, undefined, undefined, {
        attachment: attachments,
        mentions: text.mentions,
      }),
    });
  }

  /**
   * Uploads a file for a message in a channel (POST /api/files): the bytes
   * stream as the body; the answer is the descriptor to attach.
   */
  async upload(nameOrId: string, body: BodyInit, name: string): Promise<Attachment> {
    const channel = await this.channel(nameOrId);
    const response = await this.send("POST", `/files?channel=${encodeURIComponent(channel.id)}`, undefined, {
      rawBody: body,
      headers: { "content-type": "application/octet-stream", "x-file-name": encodeURIComponent(name) },
    });
    return await response.json() as Attachment;
  }

  /** Downloads a file by its descriptor's url (with this client's session). */
  async download(url: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return await fetch(url, { headers });
  }

  fileLimits(): Promise<{ maxFileSize: number; maxFilesPerMessage: number }> {
    return this.request("GET", "/files/limits");
  }

  setFileLimits(limits: { maxFileSize?: number; maxFilesPerMessage?: number }) {
    return this.request<{ maxFileSize: number; maxFilesPerMessage: number }>("PUT", "/files/limits", limits);
  }

  async edit(message: MessageJson, content: string): Promise<MessageJson> {
    const text = await this.resolveMentions(content);
    return await this.request<MessageJson>("PUT", `/messages/${encodeURIComponent(message.id)}`, {
      update: await this.signedUpdate(message.channel, message.id, text.content, undefined, text.mentions),
    });
  }

  async delete(message: MessageJson): Promise<MessageJson> {
    return await this.request<MessageJson>("DELETE", `/messages/${encodeURIComponent(message.id)}`, {
      delete: await this.signedDelete(message.channel, message.id),
    });
  }

  async history(nameOrId: string, options: { before?: string; limit?: number } = {}) {
    const channel = await this.channel(nameOrId);
    const query = new URLSearchParams();
    if (options.before) query.set("before", options.before);
    if (options.limit) query.set("limit", String(options.limit));
    const suffix = query.size ? `?${query}` : "";
    return await this.request<{ messages: MessageJson[]; before: string | null }>(
      "GET",
      `/channels/${channel.id}/messages${suffix}`,
    );
  }

  /** Full-text search (GET /api/search); `highlightText` marks the matches with ⟦ ⟧. */
  async search(query: string, options: { cursor?: string; limit?: number } = {}): Promise<SearchPageJson> {
    const params = new URLSearchParams({ q: query });
    if (options.cursor) params.set("cursor", options.cursor);
    if (options.limit) params.set("limit", String(options.limit));
    const page = await this.request<SearchPageJson>("GET", `/search?${params}`);
    for (const hit of page.results) hit.highlightText = markedText(hit.highlight);
    return page;
  }

  async setProfile(name: string): Promise<unknown> {
    return await this.request("PUT", "/profile", { profile: await this.signedProfile(name) });
  }

  /** One message by id (a urn:uuid), with the signed documents behind it. */
  message(id: string): Promise<MessageJson & { signed: SignedDocumentsJson }> {
    return this.request("GET", `/messages/${encodeURIComponent(id)}`);
  }

  me(): Promise<{ did: string; member: MemberJson | null; profile: ProfileJson | null }> {
    return this.request("GET", "/me");
  }

  community(): Promise<CommunityJson & { origin: string }> {
    return this.request("GET", "/community");
  }

  /** Claims an unclaimed instance with the token from its claim link. */
  claim(token: string): Promise<CommunityJson> {
    return this.request("POST", "/claim", { token });
  }

  /** Joins with an invite code, or freely when the community is open. */
  join(invite?: string): Promise<MemberJson> {
    return this.request("POST", "/join", invite === undefined ? {} : { invite });
  }

  leave(): Promise<void> {
    return this.request("POST", "/leave");
  }

  /**
   * Joins a community that admits by credential: signs a presentation of
   * `credentials` over a fresh challenge (domain = the server's origin).
   */
  async joinWithCredentials(credentials: Record<string, unknown>[]): Promise<MemberJson> {
    const { challenge, domain } = await this.request<{ challenge: string; domain: string }>(
      "POST",
      "/auth/challenge",
    );
    const presentation = await signCredentialPresentation(this.#signer(), credentials, challenge, domain);
    return await this.request<MemberJson>("POST", "/join", { presentation });
  }

  /** The credentials the community issued you (revoked ones too). */
  credentials(): Promise<CredentialRecordJson[]> {
    return this.request("GET", "/credentials");
  }

  members(): Promise<MemberListingJson[]> {
    return this.request("GET", "/members");
  }

  createChannel(
    name: string,
    options: { topic?: string; visibility?: "public" | "members" } = {},
  ): Promise<ChannelJson> {
    return this.request("POST", "/channels", { name, ...options });
  }

  updateChannel(
    nameOrId: string,
    changes: { name?: string; topic?: string; visibility?: "public" | "members" },
  ): Promise<ChannelJson> {
    return this.request("PATCH", `/channels/${channelPath(nameOrId)}`, changes);
  }

  deleteChannel(nameOrId: string): Promise<void> {
    return this.request("DELETE", `/channels/${channelPath(nameOrId)}`);
  }

  invites(): Promise<InviteJson[]> {
    return this.request("GET", "/invites");
  }

  /** `expiresIn` in seconds (60 s to 365 days); both limits absent for never / unlimited. */
  createInvite(
    options: { expiresIn?: number; maxUses?: number } = {},
  ): Promise<InviteJson & { url: string }> {
    return this.request("POST", "/invites", options);
  }

  revokeInvite(code: string): Promise<void> {
    return this.request("DELETE", `/invites/${encodeURIComponent(code)}`);
  }

  /**
   * A channel's live events (server-sent events), until the server closes
   * the stream or `signal` aborts. Without `since`, the first event is
   * `ready` with the current revision; with `since` (the id of the last
   * event seen), the changes made after it come first.
   */
  async *events(
    nameOrId: string,
    options: { since?: string | number; signal?: AbortSignal } = {},
  ): AsyncGenerator<ChannelStreamEvent> {
    const channel = await this.channel(nameOrId);
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (options.since !== undefined) headers["last-event-id"] = String(options.since);
    const response = await this.send("GET", `/channels/${channel.id}/events`, undefined, {
      headers,
      signal: options.signal,
    });
    if (!response.body) return;
    const lines = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = { type: "", id: null as string | null, data: [] as string[] };
    try {
      while (true) {
        const { value, done } = await lines.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.search(/\r\n|\r|\n/)) !== -1) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
          if (line === "") {
            if (event.data.length > 0) {
              yield {
                event: event.type || "message",
                id: event.id,
                data: JSON.parse(event.data.join("\n")),
              } as ChannelStreamEvent;
            }
            event = { type: "", id: null, data: [] };
            continue;
          }
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event.type = text;
          else if (field === "data") event.data.push(text);
          else if (field === "id") event.id = text;
        }
      }
    } finally {
      await lines.cancel().catch(() => {});
    }
  }

  /** The whole community as N-Quads, streamed (owner only). */
  async exportNQuads(): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send("GET", "/export");
    return response.body ?? new Blob([]).stream();
  }

  // ---- roles and capabilities

  /** The caller's capabilities in force (with chains) and those they delegated. */
  capabilities(): Promise<CapabilityReportJson> {
    return this.request("GET", "/capabilities");
  }

  memberCapabilities(did: string): Promise<CapabilityReportJson> {
    return this.request("GET", `/members/${encodeURIComponent(did)}/capabilities`);
  }

  roles(): Promise<RoleJson[]> {
    return this.request("GET", "/roles");
  }

  async createRole(name: string, actions: string[]): Promise<RoleJson> {
    const action = await this.signedAction("role-create", await this.communityIri(), { name, actions });
    return await this.request("POST", "/roles", { name, actions, action });
  }

  async updateRole(slug: string, changes: { name?: string; actions?: string[] }): Promise<RoleJson> {
    const action = await this.signedAction("role-update", await this.roleIri(slug), changes);
    return await this.request("PUT", `/roles/${encodeURIComponent(slug)}`, { ...changes, action });
  }

  async deleteRole(slug: string): Promise<void> {
    const action = await this.signedAction("role-delete", await this.roleIri(slug));
    return await this.request("DELETE", `/roles/${encodeURIComponent(slug)}`, { action });
  }

  /** Assigns a role: signs the delegation of exactly its actions from our own capability. */
  async assignRole(did: string, roleSlug: string): Promise<CapabilityJson> {
    const role = (await this.roles()).find((r) => r.slug === roleSlug);
    if (!role) throw new ApiError(404, "not_found", `there is no role "${roleSlug}"`);
    const community = (await this.request<{ iri: string }>("GET", "/community")).iri;
    const delegation = await delegateFrom(this.#signer(), (await this.capabilities()).held, {
      controller: did,
      actions: role.actions,
      target: community,
    });
    return await this.request("POST", `/members/${encodeURIComponent(did)}/roles`, {
      role: roleSlug,
      delegation,
    });
  }

  async removeRole(did: string, roleSlug: string): Promise<void> {
    const action = await this.signedAction("role-remove", did, { role: roleSlug });
    return await this.request("DELETE", `/members/${encodeURIComponent(did)}/roles/${roleSlug}`, { action });
  }

  async transferOwnership(did: string): Promise<unknown> {
    const action = await this.signedAction("transfer-ownership", did);
    return await this.request("POST", `/members/${encodeURIComponent(did)}/ownership`, { action });
  }

  /**
   * Delegates some of our actions to another DID (a bot, another member),
   * on the whole community or one channel, until `expires`.
   */
  async delegate(
    to: string,
    actions: string[],
    options: { channel?: string; expires?: string } = {},
  ): Promise<CapabilityJson> {
    const community = (await this.request<{ iri: string }>("GET", "/community")).iri;
    const target = options.channel
      ? `${community}/channels/${(await this.channel(options.channel)).id}`
      : community;
    const delegation = await delegateFrom(this.#signer(), (await this.capabilities()).held, {
      controller: to,
      actions,
      target,
      expires: options.expires,
    });
    return await this.request("POST", "/capabilities", { delegation });
  }

  async revokeCapability(id: string): Promise<void> {
    const action = await this.signedAction("capability-revoke", id);
    return await this.request("DELETE", `/capabilities/${encodeURIComponent(id)}`, { action });
  }

  // ---- moderation and the audit log

  #community: Promise<string> | null = null;

  /** The community's IRI (what signed actions are bound to). */
  communityIri(): Promise<string> {
    this.#community ??= this.request<{ iri: string }>("GET", "/community").then((c) => c.iri);
    this.#community.catch(() => (this.#community = null));
    return this.#community;
  }

  async roleIri(slug: string): Promise<string> {
    return `${(await this.communityIri()).replace(/\/community$/, "")}/roles/${slug}`;
  }

  /** A moderation or role action signed by our key, for this community. */
  async signedAction(action: string, target: string, args: Record<string, unknown> = {}, published?: string) {
    return await signAction(
      this.#signer(),
      { action, target, community: await this.communityIri(), arguments: args },
      published,
    );
  }

  /** Signs and sends a moderation action (kick, ban, unban, timeout, slow-mode, ...). */
  async moderate(
    action: string,
    target: string,
    args: Record<string, unknown> = {},
  ): Promise<ModerationResultJson> {
    return await this.sendAction(await this.signedAction(action, target, args));
  }

  /** Sends an action signed beforehand (to replay it, or sign it elsewhere). */
  sendAction(action: SignedAction | Record<string, unknown>): Promise<ModerationResultJson> {
    return this.request("POST", "/moderation/actions", { action });
  }

  kick(did: string, reason?: string) {
    return this.moderate("kick", did, reason ? { reason } : {});
  }

  ban(did: string, reason?: string) {
    return this.moderate("ban", did, reason ? { reason } : {});
  }

  unban(did: string) {
    return this.moderate("unban", did);
  }

  /** Times a member out for `seconds` (0 lifts the timeout). */
  timeout(did: string, seconds: number, reason?: string) {
    return this.moderate("timeout", did, reason ? { seconds, reason } : { seconds });
  }

  /** Sets slow mode in a channel: seconds between one member's posts (0 turns it off). */
  async setSlowMode(nameOrId: string, seconds: number) {
    const channel = await this.channel(nameOrId);
    return await this.moderate("slow-mode", channel.iri, { seconds });
  }

  /** Changes the community's moderation settings (only those named). */
  async moderationSettings(changes: {
    rateLimit?: { messages: number; seconds: number } | null;
    raidProtection?: { joins: number; seconds: number } | null;
    minimumDidAge?: number;
  }) {
    return await this.moderate("moderation-settings", await this.communityIri(), changes);
  }

  async lockJoins() {
    return await this.moderate("lock-joins", await this.communityIri());
  }

  async unlockJoins() {
    return await this.moderate("unlock-joins", await this.communityIri());
  }

  dismissAlert(alertIri: string) {
    return this.moderate("dismiss-alert", alertIri);
  }

  /** The moderation state moderators see (settings, join lock, slow mode, bans, timeouts, alerts). */
  moderation(): Promise<ModerationJson> {
    return this.request("GET", "/moderation");
  }

  /** One page of the audit log, oldest first. */
  auditPage(after = 0, limit = 500): Promise<AuditPageJson> {
    return this.request("GET", `/audit?after=${after}&limit=${limit}`);
  }

  /** The whole audit log, page by page. */
  async auditLog(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page: AuditPageJson = await this.auditPage(after);
      entries.push(...page.entries);
      after = page.next;
    }
    return entries;
  }

  /** Fetches the whole log and checks it here: the chain and every signature (nothing taken on trust). */
  async verifyAudit(): Promise<Verification & { entries: number }> {
    const community = await this.request<{ iri: string; did: string }>("GET", "/community");
    const entries = await this.auditLog();
    const result = await verifyEntries(entries, { community: community.iri });
    return { ...result, entries: entries.length };
  }

  /** The server's own check of its log (chain, signatures, table against quads). */
  serverAuditVerification(): Promise<Verification> {
    return this.request("GET", "/audit/verify");
  }

  // ---- bridges (admins)

  /** Delegates a capability for one of our channels to a peer's channel actor. */
  async offerBridge(
    nameOrId: string,
    to: string,
    options: { expiresIn?: number; actions?: string[] } = {},
  ): Promise<GrantJson> {
    const channel = await this.channel(nameOrId);
    return await this.request<GrantJson>("POST", `/channels/${channel.id}/bridge-offers`, { to, ...options });
  }

  /** Installs a capability a peer granted to one of our channels. */
  installBridge(capability: unknown): Promise<LinkJson> {
    return this.request<LinkJson>("POST", "/bridges", { capability });
  }

  bridges(): Promise<{ grants: GrantJson[]; links: LinkJson[] }> {
    return this.request("GET", "/bridges");
  }

  revokeBridge(id: string): Promise<{ id: string; outcome: "revoked" | "removed" }> {
    return this.request("DELETE", `/bridges/${encodeURIComponent(id)}`);
  }

  /** Operations bridge peers sent that were refused, newest first. */
  bridgeRefusals(limit = 100): Promise<BridgeRefusalJson[]> {
    return this.request("GET", `/bridges/refusals?limit=${limit}`);
  }

  /** The hash of a channel's replicated state (the same on converged replicas). */
  async channelState(nameOrId: string): Promise<ChannelStateJson> {
    const channel = await this.channel(nameOrId);
    return await this.request<ChannelStateJson>("GET", `/channels/${channel.id}/state`);
  }

  // ---- conversation: replies, threads, reactions, pins (docs/api.md)

  /** Replies to a message (quoted under the new one), in the same timeline or thread. */
  async reply(to: MessageJson, content: string): Promise<MessageJson> {
    const channel = await this.channel(channelIdOfIri(to.channel));
    const message = await signMessage(this.#signer(), channel.iri, content, undefined, undefined, {
      inReplyTo: to.id,
      thread: to.thread ?? undefined,
    });
    return await this.request<MessageJson>("POST", `/channels/${channel.id}/messages`, { message });
  }

  /** Posts in the thread that branches from `root` (a message of the channel's timeline). */
  async threadReply(root: MessageJson, content: string): Promise<MessageJson> {
    const channel = await this.channel(channelIdOfIri(root.channel));
    const message = await signMessage(this.#signer(), channel.iri, content, undefined, undefined, {
      thread: root.id,
    });
    return await this.request<MessageJson>("POST", `/channels/${channel.id}/messages`, { message });
  }

  /** A thread: its root and replies. */
  async thread(root: MessageJson): Promise<{ root: MessageJson; replies: MessageJson[] }> {
    const uuid = root.id.replace(/^urn:uuid:/, "");
    return await this.request("GET", `/channels/${channelIdOfIri(root.channel)}/threads/${uuid}`);
  }

  async threads(nameOrId: string): Promise<Array<{ root: MessageJson; summary: ThreadSummaryJson }>> {
    const channel = await this.channel(nameOrId);
    return await this.request("GET", `/channels/${channel.id}/threads`);
  }

  signedReact(channelIri: string, messageId: string, emoji: string, published?: string) {
    return signReact(this.#signer(), channelIri, messageId, emoji, published);
  }

  signedUnreact(channelIri: string, messageId: string, emoji: string, removes: string[], published?: string) {
    return signUnreact(this.#signer(), channelIri, messageId, emoji, removes, published);
  }

  signedPin(channelIri: string, messageId: string, pin: boolean, published?: string) {
    return signPin(this.#signer(), channelIri, messageId, pin, published);
  }

  /** The reactions on a message: emoji, how many members, and this client's own React operation ids. */
  reactions(message: MessageJson | string): Promise<ReactionJson[]> {
    const id = typeof message === "string" ? message : message.id;
    return this.request("GET", `/messages/${encodeURIComponent(id)}/reactions`);
  }

  /** Adds a reaction; returns the message's reactions after it. */
  async react(message: MessageJson, emoji: string): Promise<ReactionResultJson> {
    return await this.request("POST", `/messages/${encodeURIComponent(message.id)}/reactions`, {
      react: await this.signedReact(message.channel, message.id, emoji),
    });
  }

  /**
   * Takes back this member's `emoji` reactions: the ones it has seen
   * (`removes`, by default those the server shows now). A reaction made
   * concurrently elsewhere and not seen yet stays (observed-remove).
   */
  async unreact(message: MessageJson, emoji: string, removes?: string[]): Promise<ReactionResultJson> {
    const ops = removes ?? (await this.reactions(message)).find((r) => r.emoji === emoji)?.mine ?? [];
    if (ops.length === 0) throw new Error(`you have not reacted with ${emoji}`);
    return await this.request("POST", `/messages/${encodeURIComponent(message.id)}/reactions`, {
      unreact: await this.signedUnreact(message.channel, message.id, emoji, ops),
    });
  }

  async pin(message: MessageJson, pinned = true): Promise<{ status: string; opId: string; pinned: boolean }> {
    return await this.request("POST", `/messages/${encodeURIComponent(message.id)}/pin`, {
      pin: await this.signedPin(message.channel, message.id, pinned),
    });
  }

  unpin(message: MessageJson) {
    return this.pin(message, false);
  }

  async pins(nameOrId: string): Promise<Array<{ message: MessageJson; pinnedBy: string; pinnedAt: string }>> {
    const channel = await this.channel(nameOrId);
    return await this.request("GET", `/channels/${channel.id}/pins`);
  }
}

/** The channel id in a channel IRI (`{origin}/channels/{id}`). */
function channelIdOfIri(iri: string): string {
  return iri.slice(iri.lastIndexOf("/") + 1);
}

export interface ReactionJson {
  emoji: string;
  count: number;
  mine: string[];
}

export interface ReactionResultJson {
  status: "applied" | "duplicate" | "logged";
  opId: string;
  reactions: ReactionJson[];
}

export interface ThreadSummaryJson {
  replies: number;
  lastReply: string | null;
  lastLamport: number;
  unread?: boolean;
}

export interface ModerationResultJson {
  action: string;
  target: string;
  entry: { seq: number; hash: string };
  [key: string]: unknown;
}

export interface ModerationJson {
  community: string;
  settings: {
    rateLimit: { messages: number; seconds: number } | null;
    raidProtection: { joins: number; seconds: number } | null;
    minimumDidAge: number;
  };
  joinsLocked: { at: string; by: string } | null;
  slowMode: Array<{ channel: string; id: string; name: string; seconds: number }>;
  bans: Array<{ did: string; by: string; at: string; reason: string | null }> | null;
  timeouts: Array<{ did: string; until: string; by: string }> | null;
  alerts: Array<{
    id: string;
    iri: string;
    kind: string;
    summary: string;
    at: string;
    resolved: boolean;
    resolvedAt: string | null;
    resolvedBy: string | null;
  }>;
  may: { kick: boolean; ban: boolean; timeout: boolean; slowMode: boolean; manage: boolean };
}

export interface AuditPageJson {
  entries: AuditEntry[];
  next: number | null;
  head: { seq: number; hash: string } | null;
}

export interface CapabilityJson {
  id: string;
  holder: string;
  delegatedBy: string;
  role: string | null;
  actions: string[];
  target: string;
  expires: string;
  issued: string;
  revoked: boolean;
  chain: Array<{ id: string; delegatedBy: string | null; holder: string | null; actions: string[] }>;
  capability: unknown;
}

export interface CapabilityReportJson {
  did: string;
  held: CapabilityJson[];
  delegated: CapabilityJson[];
}

export interface RoleJson {
  iri: string;
  slug: string;
  name: string;
  actions: string[];
  builtIn: boolean;
}

export interface CredentialRecordJson {
  id: string;
  kind: "membership" | "role";
  role: string | null;
  issued: string;
  revoked: boolean;
  revokedAt: string | null;
  status: { statusListCredential: string; statusListIndex: number };
  /** The signed W3C Verifiable Credential. */
  credential: Record<string, unknown>;
}

export interface BridgeRefusalJson {
  /** The peer channel actor that sent it. */
  peer: string;
  channel: string;
  via: "inbox" | "sync";
  kind: string;
  opId: string;
  origin: string;
  code: string;
  reason: string;
  first: string;
  last: string;
  count: number;
}

export interface GrantJson {
  id: string;
  channel: string;
  grantee: string;
  actions: string[];
  expires: string;
  created: string;
  createdBy: string;
  revoked: boolean;
  capability: Record<string, unknown>;
}

export interface LinkJson {
  id: string;
  channel: string;
  peerActor: string;
  peerInbox: string;
  actions: string[];
  expires: string;
  installed: string;
  installedBy: string;
  capability: Record<string, unknown>;
}

export interface ChannelStateJson {
  channel: string;
  hash: string;
  messages: number;
  /** Reactions and pins standing on live messages (they count in the hash). */
  reactions: number;
  pins: number;
  versionVector: Record<string, number>;
}

const channelPath = (nameOrId: string) => encodeURIComponent(nameOrId.replace(/^#/, ""));

export interface ChannelJson {
  iri: string;
  id: string;
  name: string;
  topic: string;
  position: number;
  visibility: "public" | "members";
}

/** One page of GET /api/search. */
export interface SearchPageJson {
  query: string;
  results: Array<{
    id: string;
    url: string;
    channel: { id: string; name: string };
    author: { did: string; name: string | null };
    published: string;
    updated: string | null;
    text: string;
    /** Escaped HTML, the matches in <mark>. */
    highlight: string;
    /** Added by the client: the highlight as text, the matches between ⟦ and ⟧. */
    highlightText: string;
  }>;
  nextCursor: string | null;
}

/** The search highlight (escaped HTML with <mark>) as plain text, the matches between ⟦ and ⟧. */
export function markedText(html: string): string {
  const entities: Record<string, string> = {
    "&amp;": "&",
    "&lt;": "<",
    "&gt;": ">",
    "&quot;": '"',
    "&#39;": "'",
  };
  return html.replace(/<mark>/g, "⟦").replace(/<\/mark>/g, "⟧").replace(
    /&(?:amp|lt|gt|quot|#39);/g,
    (e) => entities[e],
  );
}

export interface MessageJson {
  id: string;
  channel: string;
  lamport: number;
  author: string;
  content: string;
  published: string;
  updated: string | null;
  deleted: boolean;
  revision: number;
  /** Descriptors of attached files (docs/api.md "Files"), null when none. */
  attachments?: Attachment[] | null;
  inReplyTo?: string | null;
  thread?: string | null;
}

export interface CommunityJson {
  iri: string;
  name: string;
  openJoin: boolean;
  owner: string | null;
}

export interface MemberJson {
  did: string;
  role: "owner" | "admin" | "member";
  joined: string;
}

export interface ProfileJson {
  did: string;
  name: string;
  avatarType: string | null;
  avatarHash: string | null;
  updated: string;
}

export interface MemberListingJson extends MemberJson {
  /** The display name, or a short form of the DID when there is no profile. */
  name: string;
  profile: ProfileJson | null;
}

export interface InviteJson {
  iri: string;
  code: string;
  createdBy: string;
  created: string;
  expires: string | null;
  maxUses: number | null;
  uses: number;
  revoked: boolean;
  state: "active" | "revoked" | "expired" | "used up";
}

export interface SignedDocumentsJson {
  message: Record<string, unknown> | null;
  update: Record<string, unknown> | null;
  delete: Record<string, unknown> | null;
}

/** What `HarmonyClient.events` yields; `id` is the channel revision to resume from. */
export type ChannelStreamEvent =
  | { event: "ready"; id: string; data: { revision: number } }
  | { event: "change"; id: string; data: { kind: "created" | "updated" | "deleted"; message: MessageJson } }
  | { event: "change"; id: null; data: { kind: "channel" } }
  | { event: "closed"; id: null; data: { reason: string } };
