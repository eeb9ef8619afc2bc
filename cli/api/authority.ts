/** Roles and capabilities: who may do what, delegated by signed ZCAPs. */
import type { HarmonyClient } from "../client.ts";
import { delegateFrom } from "../../server/authority/delegating.ts";
import { ApiError } from "./errors.ts";
import { signerOf } from "./identity.ts";

export class AuthorityApi {
  /** The caller's capabilities in force (with chains) and those they delegated. */
  capabilities(this: HarmonyClient): Promise<CapabilityReportJson> {
    return this.request("GET", "/capabilities");
  }

  memberCapabilities(this: HarmonyClient, did: string): Promise<CapabilityReportJson> {
    return this.request("GET", `/members/${encodeURIComponent(did)}/capabilities`);
  }

  roles(this: HarmonyClient): Promise<RoleJson[]> {
    return this.request("GET", "/roles");
  }

  async createRole(this: HarmonyClient, name: string, actions: string[]): Promise<RoleJson> {
    const action = await this.signedAction("role-create", await this.communityIri(), { name, actions });
    return await this.request("POST", "/roles", { name, actions, action });
  }

  async updateRole(
    this: HarmonyClient,
    slug: string,
    changes: { name?: string; actions?: string[] },
  ): Promise<RoleJson> {
    const action = await this.signedAction("role-update", await this.roleIri(slug), changes);
    return await this.request("PUT", `/roles/${encodeURIComponent(slug)}`, { ...changes, action });
  }

  async deleteRole(this: HarmonyClient, slug: string): Promise<void> {
    const action = await this.signedAction("role-delete", await this.roleIri(slug));
    return await this.request("DELETE", `/roles/${encodeURIComponent(slug)}`, { action });
  }

  /** Assigns a role: signs the delegation of exactly its actions from our own capability. */
  async assignRole(this: HarmonyClient, did: string, roleSlug: string): Promise<CapabilityJson> {
    const role = (await this.roles()).find((r) => r.slug === roleSlug);
    if (!role) throw new ApiError(404, "not_found", `there is no role "${roleSlug}"`);
    const community = (await this.request<{ iri: string }>("GET", "/community")).iri;
    const delegation = await delegateFrom(signerOf(this), (await this.capabilities()).held, {
      controller: did,
      actions: role.actions,
      target: community,
    });
    return await this.request("POST", `/members/${encodeURIComponent(did)}/roles`, {
      role: roleSlug,
      delegation,
    });
  }

  async removeRole(this: HarmonyClient, did: string, roleSlug: string): Promise<void> {
    const action = await this.signedAction("role-remove", did, { role: roleSlug });
    return await this.request("DELETE", `/members/${encodeURIComponent(did)}/roles/${roleSlug}`, { action });
  }

  async transferOwnership(this: HarmonyClient, did: string): Promise<unknown> {
    const action = await this.signedAction("transfer-ownership", did);
    return await this.request("POST", `/members/${encodeURIComponent(did)}/ownership`, { action });
  }

  /**
   * Delegates some of our actions to another DID (a bot, another member),
   * on the whole community or one channel, until `expires`.
   */
  async delegate(
    this: HarmonyClient,
    to: string,
    actions: string[],
    options: { channel?: string; expires?: string } = {},
  ): Promise<CapabilityJson> {
    const community = (await this.request<{ iri: string }>("GET", "/community")).iri;
    const target = options.channel
      ? `${community}/channels/${(await this.channel(options.channel)).id}`
      : community;
    const delegation = await delegateFrom(signerOf(this), (await this.capabilities()).held, {
      controller: to,
      actions,
      target,
      expires: options.expires,
    });
    return await this.request("POST", "/capabilities", { delegation });
  }

  async revokeCapability(this: HarmonyClient, id: string): Promise<void> {
    const action = await this.signedAction("capability-revoke", id);
    return await this.request("DELETE", `/capabilities/${encodeURIComponent(id)}`, { action });
  }

  async roleIri(this: HarmonyClient, slug: string): Promise<string> {
    return `${(await this.communityIri()).replace(/\/community$/, "")}/roles/${slug}`;
  }
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
