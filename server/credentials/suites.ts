/**
 * The Data Integrity suites credentials and presentations are verified
 * with: eddsa-rdfc-2022 (what the community signs credentials and status
 * lists with, and what other issuers commonly use) and eddsa-jcs-2022
 * (what browsers and the CLI sign presentations with; see
 * presentation.ts). Stateless between calls, so shared.
 */
// deno-lint-ignore-file no-explicit-any
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import { createVerifyCryptosuite } from "@digitalbazaar/eddsa-jcs-2022-cryptosuite";

export const credentialVerifySuites: any[] = [
  new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
  new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() }),
];
