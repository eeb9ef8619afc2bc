/** The community and its members: claim, join and leave, the member list, bots, profiles and invites. */
import type { HarmonyClient } from "../client.ts";
import type { KeySigner } from "../../server/crypto/signer.ts";
import { signAction, signProfile } from "../../server/documents/documents.ts";
import { signerOf } from "./identity.ts";

export class CommunityApi {
  community(this: HarmonyClient): Promise<CommunityJson & { origin: string }> {
    return this.request("GET", "/community");
  }

  /** Claims an unclaimed instance with the token from its claim link. */
  claim(this: HarmonyClient, token: string): Promise<CommunityJson> {
    return this.request("POST", "/claim", { token });
  }

  /** Joins with an invite code, or freely when the community is open. */
  join(this: HarmonyClient, invite?: string): Promise<MemberJson> {
    return this.request("POST", "/join", invite === undefined ? {} : { invite });
  }

  leave(this: HarmonyClient): Promise<void> {
    return this.request("POST", "/leave");
  }

  members(this: HarmonyClient): Promise<MemberListingJson[]> {
    return this.request("GET", "/members");
  }

  me(this: HarmonyClient): Promise<{ did: string; member: MemberJson | null; profile: ProfileJson | null }> {
    return this.request("GET", "/me");
  }

  signedProfile(
    this: HarmonyClient,
    name: string,
    avatar?: { type: string; hash: string },
    updated?: string,
  ) {
    return signProfile(signerOf(this), name, avatar, updated);
  }

  async setProfile(this: HarmonyClient, name: string): Promise<unknown> {
    return await this.request("PUT", "/profile", { profile: await this.signedProfile(name) });
  }

  invites(this: HarmonyClient): Promise<InviteJson[]> {
    return this.request("GET", "/invites");
  }

  /** `expiresIn` in seconds (60 s to 365 days); both limits absent for never / unlimited. */
  createInvite(
    this: HarmonyClient,
    options: { expiresIn?: number; maxUses?: number } = {},
  ): Promise<InviteJson & { url: string }> {
    return this.request("POST", "/invites", options);
  }

  revokeInvite(this: HarmonyClient, code: string): Promise<void> {
    return this.request("DELETE", `/invites/${encodeURIComponent(code)}`);
  }

  /**
   * Registers `bot` (its signer: the bot's own key, which signs its
   * consent) as our bot, named `name`. It then holds what we delegate to it
   * (`delegate(bot.did, …)`) and counts against our limits.
   */
  async registerBot(this: HarmonyClient, bot: KeySigner, name: string): Promise<BotJson> {
    const community = await this.communityIri();
    const consent = await signAction(bot, { action: "bot-consent", target: this.did, community });
    const action = await this.signedAction("bot-register", bot.did, { name });
    return await this.request("POST", "/bots", { did: bot.did, name, action, consent });
  }

  /** The registered bots of the community's members. */
  bots(this: HarmonyClient): Promise<BotJson[]> {
    return this.request("GET", "/bots");
  }

  /** Removes a bot (ours, or, with `kick`, a bot of a member we outrank); what it held is revoked. */
  async unregisterBot(this: HarmonyClient, did: string): Promise<void> {
    const action = await this.signedAction("bot-unregister", did);
    return await this.request("DELETE", `/bots/${encodeURIComponent(did)}`, { action });
  }
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

export interface BotJson {
  did: string;
  /** The member who registered it and answers for it. */
  owner: string;
  name: string;
  registered: string;
  /** The owner's display name (in the list). */
  ownerName?: string;
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
