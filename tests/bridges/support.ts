/**
 * Harmony instances for bridge tests: each behind a switchable link (its
 * public origin), with its own libSQL file, restartable on the same file.
 */
import { HarmonyClient } from "../../cli/client.ts";
import { loadConfig } from "../../server/config.ts";
import { type RunningInstance, startInstance } from "../../server/instance.ts";
import { newClient } from "../helpers/instance.ts";
import { freePort, type Link, startLink } from "../helpers/partition.ts";

export interface Node {
  name: string;
  dir: string;
  link: Link;
  internalPort: number;
  instance: RunningInstance;
  /** The address tests use to talk to the instance directly (never cut). */
  direct: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startNode(name: string, env: Record<string, string> = {}): Promise<Node> {
  const dir = await Deno.makeTempDir({ prefix: `harmony-${name}-` });
  const internalPort = freePort();
  const link = startLink(freePort(), internalPort);
  const config = () =>
    loadConfig({
      PORT: String(internalPort),
      HARMONY_ORIGIN: link.origin,
      DATABASE_URL: `file:${dir}/harmony.db`,
      HARMONY_ALLOW_PRIVATE_ADDRESSES: "1",
      HARMONY_SYNC_INTERVAL_SECONDS: "1",
      ...env,
    });
  const node: Node = {
    name,
    dir,
    link,
    internalPort,
    instance: null as unknown as RunningInstance,
    direct: `http://127.0.0.1:${internalPort}`,
    async start() {
      node.instance = await startInstance(config(), { log: () => {} });
    },
    async stop() {
      await node.instance.close();
    },
    async [Symbol.asyncDispose]() {
      await node.instance.close().catch(() => {});
      await link[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  await node.start();
  return node;
}

/** The owner of a node, signed in, who claimed it. */
export async function claimNode(node: Node): Promise<HarmonyClient> {
  const owner = await newClient({ origin: node.direct });
  await owner.request("POST", "/claim", { token: node.instance.claimUrl!.split("/claim/")[1] });
  return owner;
}

export async function joinNode(node: Node, owner: HarmonyClient): Promise<HarmonyClient> {
  const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
  const member = await newClient({ origin: node.direct });
  await member.request("POST", "/join", { invite: invite.code });
  return member;
}

/** Signs in again (a restarted instance keeps sessions, but clients may need a fresh one). */
export async function reconnect(client: HarmonyClient, node: Node): Promise<HarmonyClient> {
  const fresh = new HarmonyClient(node.direct, client.signer);
  await fresh.signIn();
  return fresh;
}

/** Polls until `check` returns a truthy value, or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | false | null | undefined>,
  ms = 15_000,
) {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

/** Bridges `channel` on `a` with `channel` on `b` both ways, as their admins would. */
export async function bridge(
  a: { node: Node; owner: HarmonyClient; channel: { id: string } },
  b: { node: Node; owner: HarmonyClient; channel: { id: string } },
): Promise<void> {
  const actorOf = (side: typeof a) => `${side.node.link.origin}/ap/actors/${side.channel.id}`;
  const toA = await b.owner.offerBridge(b.channel.id, actorOf(a));
  await a.owner.installBridge(toA.capability);
  const toB = await a.owner.offerBridge(a.channel.id, actorOf(b));
  await b.owner.installBridge(toB.capability);
}
