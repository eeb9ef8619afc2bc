/** Verifiable Credentials: joining by presenting them, and those the community issued you. */
import type { HarmonyClient } from "../client.ts";
import { signCredentialPresentation } from "../../server/credentials/presentation.ts";
import type { MemberJson } from "./community.ts";
import { signerOf } from "./identity.ts";

export class CredentialsApi {
  /**
   * Joins a community that admits by credential: signs a presentation of
   * `credentials` over a fresh challenge (domain = the server's origin).
   */
  async joinWithCredentials(
    this: HarmonyClient,
    credentials: Record<string, unknown>[],
  ): Promise<MemberJson> {
    const { challenge, domain } = await this.request<{ challenge: string; domain: string }>(
      "POST",
      "/auth/challenge",
    );
    const presentation = await signCredentialPresentation(signerOf(this), credentials, challenge, domain);
    return await this.request<MemberJson>("POST", "/join", { presentation });
  }

  /** The credentials the community issued you (revoked ones too). */
  credentials(this: HarmonyClient): Promise<CredentialRecordJson[]> {
    return this.request("GET", "/credentials");
  }
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
