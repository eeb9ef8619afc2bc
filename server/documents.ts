/**
 * Builders for the documents a member signs (shapes in server/signed.ts,
 * docs/api.md). Pure and isomorphic: the browser, the command-line client
 * and bots all sign through these, so every client signs the same bytes.
 */
import { type Secured, sign, type Signer } from "./crypto/dataIntegrity.ts";
import { didOfVerificationMethod } from "./crypto/didkey.ts";
import { HARMONY_CONTEXT_URL } from "./vocab.ts";
import { newUrnUuid } from "./ids.ts";
import type { SignedDelete, SignedMessage, SignedProfile, SignedUpdate } from "./signed.ts";

export const CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2";

const now = () => new Date().toISOString();

function didOf(signer: Signer): string {
  const did = didOfVerificationMethod(signer.verificationMethod);
  if (!did) throw new Error("the signer's verification method is not a did:key key");
  return did;
}

/** A sign-in presentation bound to one challenge and one origin. */
export function signPresentation(
  signer: Signer,
  challenge: string,
  domain: string,
  created = now(),
): Promise<Secured<Record<string, unknown>>> {
  return sign(
    {
      "@context": [CREDENTIALS_V2],
      type: ["VerifiablePresentation"],
      holder: didOf(signer),
    },
    signer,
    { proofPurpose: "authentication", challenge, domain, created },
  );
}

const assertion = (created: string) => ({ proofPurpose: "assertionMethod", created });

export function signMessage(
  signer: Signer,
  channel: string,
  content: string,
  id = newUrnUuid(),
  published = now(),
): Promise<SignedMessage> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Message",
    id,
    channel,
    attributedTo: didOf(signer),
    content,
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedMessage>;
}

export function signUpdate(
  signer: Signer,
  channel: string,
  messageId: string,
  content: string,
  published = now(),
): Promise<SignedUpdate> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Update",
    actor: didOf(signer),
    object: messageId,
    channel,
    content,
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedUpdate>;
}

export function signDelete(
  signer: Signer,
  channel: string,
  messageId: string,
  published = now(),
): Promise<SignedDelete> {
  const doc = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Delete",
    actor: didOf(signer),
    object: messageId,
    channel,
    published,
  } as const;
  return sign(doc, signer, assertion(published)) as Promise<SignedDelete>;
}

export function signProfile(
  signer: Signer,
  name: string,
  avatar?: { type: string; hash: string } | null,
  updated = now(),
): Promise<SignedProfile> {
  const doc: Record<string, unknown> = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Profile",
    id: didOf(signer),
    name,
    updated,
  };
  if (avatar) {
    doc.avatarType = avatar.type;
    doc.avatarHash = avatar.hash;
  }
  return sign(doc, signer, assertion(updated)) as unknown as Promise<SignedProfile>;
}
