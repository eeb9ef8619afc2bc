/** Bridges between instances (capabilities offered and installed) and the replicated state they converge on. */
import type { HarmonyClient } from "../client.ts";

export class ReplicationApi {
  /** Delegates a capability for one of our channels to a peer's channel actor. */
  async offerBridge(
    this: HarmonyClient,
    nameOrId: string,
    to: string,
    options: { expiresIn?: number; actions?: string[] } = {},
  ): Promise<GrantJson> {
    const channel = await this.channel(nameOrId);
    return await this.request<GrantJson>("POST", `/channels/${channel.id}/bridge-offers`, { to, ...options });
  }

  /** Installs a capability a peer granted to one of our channels. */
  installBridge(this: HarmonyClient, capability: unknown): Promise<LinkJson> {
    return this.request<LinkJson>("POST", "/bridges", { capability });
  }

  bridges(this: HarmonyClient): Promise<{ grants: GrantJson[]; links: LinkJson[] }> {
    return this.request("GET", "/bridges");
  }

  revokeBridge(this: HarmonyClient, id: string): Promise<{ id: string; outcome: "revoked" | "removed" }> {
    return this.request("DELETE", `/bridges/${encodeURIComponent(id)}`);
  }

  /** Operations bridge peers sent that were refused, newest first. */
  bridgeRefusals(this: HarmonyClient, limit = 100): Promise<BridgeRefusalJson[]> {
    return this.request("GET", `/bridges/refusals?limit=${limit}`);
  }

  /** The hash of a channel's replicated state (the same on converged replicas). */
  async channelState(this: HarmonyClient, nameOrId: string): Promise<ChannelStateJson> {
    const channel = await this.channel(nameOrId);
    return await this.request<ChannelStateJson>("GET", `/channels/${channel.id}/state`);
  }
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
