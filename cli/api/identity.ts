/** The identity file the command-line client and bots keep their key in, and the signer it gives. */
import { base64urlnopad } from "@scure/base";
import { identityFromMnemonic, identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { type KeySigner, signerFromSecret } from "../../server/crypto/signer.ts";

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

/** The client's signer; a client made without an identity cannot sign. */
export function signerOf(client: { readonly signer: KeySigner | null }): KeySigner {
  if (!client.signer) throw new Error("this client has no identity");
  return client.signer;
}
