/**
 * A client for the Harmony JSON API (docs/api.md) that signs like the
 * browser does. Used by the command-line client, the tests and the
 * benchmarks; bots can import it too.
 */
import { base64urlnopad } from "@scure/base";
import { sign } from "../server/crypto/dataIntegrity.ts";
import { identityFromMnemonic, identityFromSigningSecret } from "../server/crypto/derive.ts";
import { type KeySigner, signerFromSecret } from "../server/crypto/signer.ts";
import { HARMONY_CONTEXT_URL } from "../server/vocab.ts";

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
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

const now = () => new Date().toISOString();

export class HarmonyClient {
  token: string | null = null;

  constructor(readonly server: string, readonly signer: KeySigner | null = null) {
    this.server = server.replace(/\/+$/, "");
  }

  get did(): string {
    if (!this.signer) throw new Error("this client has no identity");
    return this.signer.did;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${this.server}/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok) {
      let code = "http_error";
      let message = `${response.status} ${response.statusText}`;
      if (type.includes("json")) {
        try {
          const parsed = JSON.parse(text);
          code = parsed.error ?? code;
          message = parsed.message ?? message;
        } catch { /* keep the status line */ }
      }
      throw new ApiError(response.status, code, message);
    }
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

  presentation(challenge: string, domain: string, created = now()) {
    const signer = this.#signer();
    return sign(
      {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        type: ["VerifiablePresentation"],
        holder: signer.did,
      },
      signer,
      { proofPurpose: "authentication", challenge, domain, created },
    );
  }

  #signer(): KeySigner {
    if (!this.signer) throw new Error("this client has no identity");
    return this.signer;
  }

  signedMessage(
    channelIri: string,
    content: string,
    id = `urn:uuid:${crypto.randomUUID()}`,
    published = now(),
  ) {
    const signer = this.#signer();
    return sign(
      {
        "@context": HARMONY_CONTEXT_URL,
        type: "Message",
        id,
        channel: channelIri,
        attributedTo: signer.did,
        content,
        published,
      },
      signer,
      { proofPurpose: "assertionMethod", created: published },
    );
  }

  signedUpdate(channelIri: string, messageId: string, content: string, published = now()) {
    const signer = this.#signer();
    return sign(
      {
        "@context": HARMONY_CONTEXT_URL,
        type: "Update",
        actor: signer.did,
        object: messageId,
        channel: channelIri,
        content,
        published,
      },
      signer,
      { proofPurpose: "assertionMethod", created: published },
    );
  }

  signedDelete(channelIri: string, messageId: string, published = now()) {
    const signer = this.#signer();
    return sign(
      {
        "@context": HARMONY_CONTEXT_URL,
        type: "Delete",
        actor: signer.did,
        object: messageId,
        channel: channelIri,
        published,
      },
      signer,
      { proofPurpose: "assertionMethod", created: published },
    );
  }

  signedProfile(name: string, avatar?: { type: string; hash: string }, updated = now()) {
    const signer = this.#signer();
    const doc: Record<string, unknown> = {
      "@context": HARMONY_CONTEXT_URL,
      type: "Profile",
      id: signer.did,
      name,
      updated,
    };
    if (avatar) {
      doc.avatarType = avatar.type;
      doc.avatarHash = avatar.hash;
    }
    return sign(doc, signer, { proofPurpose: "assertionMethod", created: updated });
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

  async post(nameOrId: string, content: string): Promise<MessageJson> {
    const channel = await this.channel(nameOrId);
    return await this.request<MessageJson>("POST", `/channels/${channel.id}/messages`, {
      message: await this.signedMessage(channel.iri, content),
    });
  }

  async edit(message: MessageJson, content: string): Promise<MessageJson> {
    return await this.request<MessageJson>("PUT", `/messages/${encodeURIComponent(message.id)}`, {
      update: await this.signedUpdate(message.channel, message.id, content),
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

  async setProfile(name: string): Promise<unknown> {
    return await this.request("PUT", "/profile", { profile: await this.signedProfile(name) });
  }
}

export interface ChannelJson {
  iri: string;
  id: string;
  name: string;
  topic: string;
  position: number;
  visibility: "public" | "members";
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
}
