/**
 * The presentation a joiner signs to show a credential (docs/api.md,
 * POST /api/join): a W3C VP 2.0 holding the credentials, with the holder's
 * eddsa-jcs-2022 proof (purpose "authentication") bound to a challenge
 * from /api/auth/challenge and to the instance's origin as domain.
 *
 * Pure and isomorphic (the browser bundle imports it): no @digitalbazaar
 * code here, only our own Data Integrity signing.
 */
import { type Secured, sign, type Signer } from "../crypto/dataIntegrity.ts";
import { didOfVerificationMethod } from "../crypto/didkey.ts";

const CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2";

export function signCredentialPresentation(
  signer: Signer,
  credentials: Record<string, unknown>[],
  challenge: string,
  domain: string,
  created = new Date().toISOString(),
): Promise<Secured<Record<string, unknown>>> {
  const holder = didOfVerificationMethod(signer.verificationMethod);
  if (!holder) throw new Error("the signer's verification method is not a did:key key");
  return sign(
    {
      "@context": [CREDENTIALS_V2],
      type: ["VerifiablePresentation"],
      holder,
      verifiableCredential: credentials,
    },
    signer,
    { proofPurpose: "authentication", challenge, domain, created },
  );
}
