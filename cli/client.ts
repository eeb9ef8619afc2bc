/**
 * A client for the Harmony JSON API (docs/api.md) that signs like the
 * browser does. Used by the command-line client, the tests and the
 * benchmarks; bots can import it too.
 *
 * This module holds what every call shares (the session, the signer, the
 * request plumbing, sign-in); the calls themselves live in cli/api/, one
 * module per capability, and are installed on HarmonyClient below.
 */
import type { KeySigner } from "../server/crypto/signer.ts";
import { signPresentation } from "../server/documents/documents.ts";
import { AttentionApi } from "./api/attention.ts";
import { AuditApi } from "./api/audit.ts";
import { AuthorityApi } from "./api/authority.ts";
import { ChannelsApi } from "./api/channels.ts";
import { CommunityApi } from "./api/community.ts";
import { ConversationApi } from "./api/conversation.ts";
import { CredentialsApi } from "./api/credentials.ts";
import { ApiError, ServerUnreachableError } from "./api/errors.ts";
import { ExchangeApi } from "./api/exchange.ts";
import { FilesApi } from "./api/files.ts";
import { signerOf } from "./api/identity.ts";
import { MessagesApi } from "./api/messages.ts";
import { ModerationApi } from "./api/moderation.ts";
import { ReplicationApi } from "./api/replication.ts";
import { SearchApi } from "./api/search.ts";

export { ApiError, ServerUnreachableError } from "./api/errors.ts";
export { type IdentityFile, identityFileFromMnemonic, signerFromIdentityFile } from "./api/identity.ts";
export type { AuditPageJson } from "./api/audit.ts";
export type { CapabilityJson, CapabilityReportJson, RoleJson } from "./api/authority.ts";
export type { ChannelJson, ChannelStreamEvent } from "./api/channels.ts";
export type {
  BotJson,
  CommunityJson,
  InviteJson,
  MemberJson,
  MemberListingJson,
  ProfileJson,
} from "./api/community.ts";
export type { ReactionJson, ReactionResultJson, ThreadSummaryJson } from "./api/conversation.ts";
export type { CredentialRecordJson } from "./api/credentials.ts";
export type { MessageJson, SignedDocumentsJson } from "./api/messages.ts";
export type { ModerationJson, ModerationResultJson } from "./api/moderation.ts";
export type { BridgeRefusalJson, ChannelStateJson, GrantJson, LinkJson } from "./api/replication.ts";
export { markedText, type SearchPageJson } from "./api/search.ts";

export class HarmonyClient {
  token: string | null = null;
  #community: Promise<string> | null = null;

  constructor(readonly server: string, readonly signer: KeySigner | null = null) {
    this.server = server.replace(/\/+$/, "");
  }

  get did(): string {
    return signerOf(this).did;
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
    const signer = signerOf(this);
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
    return signPresentation(signerOf(this), challenge, domain, created);
  }

  /** The community's IRI (what signed actions are bound to). */
  communityIri(): Promise<string> {
    this.#community ??= this.request<{ iri: string }>("GET", "/community").then((c) => c.iri);
    this.#community.catch(() => (this.#community = null));
    return this.#community;
  }
}

/** The calls, by capability: each group's methods take `this: HarmonyClient`. */
export interface HarmonyClient
  extends
    AttentionApi,
    AuditApi,
    AuthorityApi,
    ChannelsApi,
    CommunityApi,
    ConversationApi,
    CredentialsApi,
    ExchangeApi,
    FilesApi,
    MessagesApi,
    ModerationApi,
    ReplicationApi,
    SearchApi {}

/** Every group of calls, installed on HarmonyClient's prototype as if written in the class. */
const groups = [
  AttentionApi,
  AuditApi,
  AuthorityApi,
  ChannelsApi,
  CommunityApi,
  ConversationApi,
  CredentialsApi,
  ExchangeApi,
  FilesApi,
  MessagesApi,
  ModerationApi,
  ReplicationApi,
  SearchApi,
];
for (const group of groups) {
  for (const [name, method] of Object.entries(Object.getOwnPropertyDescriptors(group.prototype))) {
    if (name === "constructor") continue;
    if (Object.hasOwn(HarmonyClient.prototype, name)) {
      throw new Error(`HarmonyClient.${name} is defined twice`);
    }
    Object.defineProperty(HarmonyClient.prototype, name, method);
  }
}
