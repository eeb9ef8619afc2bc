/** Shared pieces of the federation tests: instances that federate over loopback, and waiting. */
import type { ChannelJson, HarmonyClient } from "../../cli/client.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { http } from "../http/support.ts";
import { AP_JSON, type MastodonPeer } from "./mastodon_peer.ts";

/** A claimed instance allowed to federate with loopback addresses. */
export function federatedInstance(
  env: Record<string, string> = {},
  options: Parameters<typeof claimedInstance>[1] = {},
) {
  return claimedInstance({ HARMONY_ALLOW_PRIVATE_ADDRESSES: "1", ...env }, options);
}

export async function channelNamed(origin: string, name: string): Promise<ChannelJson> {
  const channels = (await http(origin, "GET", "/api/channels")).json as ChannelJson[];
  const channel = channels.find((c) => c.name === name);
  if (!channel) throw new Error(`no channel #${name}`);
  return channel;
}

/** A channel as the API returns it, with its fediverse settings. */
export type FederatedChannelJson = ChannelJson & {
  approveFollowers: boolean;
  fediverseReplies: "members" | "open";
};

export async function createChannel(
  origin: string,
  admin: HarmonyClient,
  body: Record<string, unknown>,
): Promise<FederatedChannelJson> {
  const reply = await http(origin, "POST", "/api/channels", { body, token: admin.token! });
  if (reply.status !== 201) throw new Error(reply.text);
  return reply.json as FederatedChannelJson;
}

export const groupOf = (origin: string, channelId: string) => `${origin}/ap/actors/${channelId}`;

/** GET with the ActivityPub media type. */
export async function getAp(url: string, accept = AP_JSON) {
  const response = await fetch(url, { headers: { accept }, redirect: "manual" });
  const text = await response.text();
  // deno-lint-ignore no-explicit-any
  let json: any = null;
  if ((response.headers.get("content-type") ?? "").includes("json") && text) json = JSON.parse(text);
  return { status: response.status, headers: response.headers, json, text };
}

/** The actor ids in a channel's followers collection (all pages). */
export async function followersOf(origin: string, channelId: string): Promise<string[]> {
  const collection = await getAp(`${origin}/ap/actors/${channelId}/followers`);
  if (collection.status !== 200) throw new Error(`followers: ${collection.status}`);
  const ids: string[] = [];
  let next: string | null = collection.json.first ?? null;
  while (next) {
    const page = await getAp(next);
    const items = page.json.orderedItems ?? page.json.items ?? [];
    for (const item of [items].flat()) ids.push(typeof item === "string" ? item : item.id);
    next = page.json.next ?? null;
  }
  return ids;
}

/** Polls until `check` returns something other than undefined/false. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Mastodon-style reply from `peer`: a Note served at its id, in a Create. */
export function replyFrom(peer: MastodonPeer, fields: Record<string, unknown>) {
  const id = `${peer.actorId}/statuses/${crypto.randomUUID()}`;
  const note: Record<string, unknown> & { id: string } = {
    "@context": "https://www.w3.org/ns/activitystreams",
    id,
    type: "Note",
    attributedTo: peer.actorId,
    published: new Date().toISOString(),
    cc: ["https://www.w3.org/ns/activitystreams#Public"],
    ...fields,
  };
  peer.serve(note);
  const create = peer.mint("activities", {
    type: "Create",
    actor: peer.actorId,
    object: note,
    to: note.to ?? [],
    cc: note.cc,
  });
  return { note, create };
}
