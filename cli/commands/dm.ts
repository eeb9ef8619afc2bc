/**
 * `harmony dm send | read | list`: end-to-end encrypted direct messages
 * (docs/dms.md). Encrypted and decrypted here with the identity file's
 * key; the server only ever gets and gives ciphertext envelopes.
 */
import { base64urlnopad } from "@scure/base";
import type { HarmonyClient } from "../client.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { isDidKey } from "../../server/crypto/didkey.ts";
import type { EncryptedMessage } from "../../server/dms/crypto.ts";
import { type Agreement, openDm, sealDm, secretAgreement } from "../../server/dms/seal.ts";
import { integerOption, stringOption, UsageError } from "./args.ts";
import { type Command, readIdentityFile } from "./command.ts";
import type { Io } from "./io.ts";
import { localTime, shortDid, textArgument } from "./io.ts";
import type { Options } from "./args.ts";

interface Peer {
  did: string;
  /** Their actor on another Harmony instance. */
  actor?: string;
  name: string;
}

/** The identity file's agreement key (X25519 from the same secret as the signing key). */
async function agreementOf(io: Io, options: Options): Promise<Agreement> {
  const path = stringOption(options, "identity") ?? (io.env("HARMONY_IDENTITY") || undefined);
  if (!path) throw new UsageError("which identity? pass --identity FILE or set HARMONY_IDENTITY");
  const { file } = await readIdentityFile(path);
  const identity = identityFromSigningSecret(base64urlnopad.decode(file.signingSecret));
  return secretAgreement(identity.did, identity.agreementSecret);
}

/** A DID, a remote member's actor URL, or the display name of a member here. */
async function findPeer(client: HarmonyClient, who: string): Promise<Peer> {
  const isDid: boolean = isDidKey(who);
  if (isDid) return { did: who, name: shortDid(who) };
  if (/^https?:\/\//.test(who)) {
    const member = await client.request<{ did: string; actor: string }>(
      "GET",
      `/dms/resolve?actor=${encodeURIComponent(who)}`,
    );
    return { did: member.did, actor: member.actor, name: `${shortDid(member.did)} (${new URL(who).host})` };
  }
  const wanted = who.replace(/^@/, "").toLowerCase();
  const matches = (await client.members()).filter((m) => m.name.toLowerCase() === wanted);
  if (matches.length === 0) throw new UsageError(`no member is named "${who}"; give their DID`);
  if (matches.length > 1) throw new UsageError(`several members are named "${who}"; give their DID`);
  return { did: matches[0].did, name: matches[0].name };
}

interface HistoryJson {
  messages: Array<{ position: number; envelope: EncryptedMessage }>;
  before: number | null;
}

export const dmCommands: Command[] = [
  {
    name: "dm send",
    synopsis: "DID|NAME|ACTOR_URL TEXT|-",
    summary: "encrypt, sign and send a direct message (ACTOR_URL: a member of another Harmony instance)",
    arity: [2, 2],
    async run({ args, options, connect, io }) {
      const content = await textArgument(io, args[1], "message");
      const agreement = await agreementOf(io, options);
      const client = await connect();
      const peer = await findPeer(client, args[0]);
      if (!client.signer) throw new UsageError("this command needs an identity");
      const envelope = await sealDm({ agreement, signer: client.signer, recipient: peer.did, content });
      await client.request("POST", "/dms", { envelope, ...(peer.actor ? { actor: peer.actor } : {}) });
      await io.out(`${envelope.id}\n`);
    },
  },
  {
    name: "dm read",
    synopsis: "DID|NAME|ACTOR_URL [--limit N] [--before POSITION] [--json]",
    summary: "decrypt and show a direct conversation, oldest first, and mark it read",
    arity: [1, 1],
    options: ["limit", "before", "json"],
    async run({ args, options, connect, io }) {
      const limit = integerOption(options, "limit", 1, 200);
      const before = integerOption(options, "before", 1, Number.MAX_SAFE_INTEGER);
      const agreement = await agreementOf(io, options);
      const client = await connect();
      const peer = await findPeer(client, args[0]);
      const query = new URLSearchParams();
      if (limit !== undefined) query.set("limit", String(limit));
      if (before !== undefined) query.set("before", String(before));
      const page = await client.request<HistoryJson>(
        "GET",
        `/dms/${encodeURIComponent(peer.did)}${query.size ? `?${query}` : ""}`,
      );
      const opened = [];
      for (const { position, envelope } of page.messages) {
        let content: string;
        try {
          content = (await openDm(agreement, envelope)).content;
        } catch (error) {
          content = `(cannot be read: ${(error as Error).message})`;
        }
        opened.push({
          position,
          id: envelope.id,
          from: envelope.attributedTo,
          published: envelope.published,
          content,
        });
      }
      if (options.json) {
        await io.out(JSON.stringify({ messages: opened, before: page.before }, null, 2) + "\n");
      } else {
        await io.out(
          opened.map((m) => {
            const who = m.from === agreement.did ? "you" : peer.name;
            return `${localTime(m.published)}  ${who}: ${m.content}\n`;
          }).join(""),
        );
        if (page.before) {
          await io.err(`(older messages: harmony dm read ${args[0]} --before ${page.before})\n`);
        }
      }
      const last = page.messages.at(-1);
      if (last && before === undefined) {
        await client.request("POST", `/dms/${encodeURIComponent(peer.did)}/read`, {
          position: last.position,
        });
      }
    },
  },
  {
    name: "dm list",
    synopsis: "",
    summary: "list your direct conversations with their unread counts",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const { conversations } = await client.request<{
        conversations: Array<
          { peer: string; peerActor: string | null; unread: number; lastPublished: string }
        >;
      }>("GET", "/dms");
      const members = new Map((await client.members()).map((m) => [m.did, m.name]));
      await io.out(
        conversations.map((c) => {
          const name = members.get(c.peer) ?? c.peerActor ?? shortDid(c.peer);
          return `${localTime(c.lastPublished)}  ${name}${
            c.unread ? `  (${c.unread} unread)` : ""
          }  ${c.peer}\n`;
        }).join(""),
      );
    },
  },
];
