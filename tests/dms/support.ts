/** Shared pieces of the DM tests: members who hold their agreement key, and sending. */
import { HarmonyClient } from "../../cli/client.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { signerFromSecret } from "../../server/crypto/signer.ts";
import type { EncryptedMessage } from "../../server/dms/crypto.ts";
import { type Agreement, openDm, sealDm, secretAgreement } from "../../server/dms/seal.ts";

export interface DmMember {
  did: string;
  client: HarmonyClient;
  agreement: Agreement;
  seal(
    recipient: string,
    content: string,
    extra?: { id?: string; published?: string },
  ): Promise<EncryptedMessage>;
  open(envelope: unknown): Promise<string>;
}

export async function dmMember(origin: string, signIn = true): Promise<DmMember> {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const identity = identityFromSigningSecret(secret);
  const signer = await signerFromSecret(identity.did, secret);
  const client = new HarmonyClient(origin, signer);
  if (signIn) await client.signIn();
  const agreement = secretAgreement(identity.did, identity.agreementSecret);
  return {
    did: identity.did,
    client,
    agreement,
    seal: (recipient, content, extra = {}) => sealDm({ agreement, signer, recipient, content, ...extra }),
    open: async (envelope) => (await openDm(agreement, envelope)).content,
  };
}

/** A member of the instance: joins with a one-use invite from `owner`. */
export async function joinedMember(origin: string, owner: HarmonyClient): Promise<DmMember> {
  const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
  const member = await dmMember(origin);
  await member.client.request("POST", "/join", { invite: invite.code });
  return member;
}
