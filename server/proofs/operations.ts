/**
 * The Linked Data proof operations the domain needs day to day, over the
 * Digital Bazaar stack (jsonld, jsonld-signatures, zcap, vc): the only
 * module of that list the proof service loads (mod.ts), in a worker or,
 * without one, on first use.
 */
// deno-lint-ignore-file no-explicit-any
import * as vc from "@digitalbazaar/vc";
import { BitstringStatusList } from "@digitalbazaar/vc-bitstring-status-list";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import { staticDocumentLoader } from "../capabilities/loader.ts";
import type { SuiteSigner } from "../capabilities/signer.ts";

export { delegate } from "../capabilities/zcap.ts";
export { verifyDelegation } from "../capabilities/delegation.ts";

/** Signs `credential` with an eddsa-rdfc-2022 Data Integrity proof made at `date`. */
export async function issueCredential(
  credential: Record<string, unknown>,
  signer: SuiteSigner,
  date: Date,
): Promise<Record<string, unknown>> {
  const suite = new DataIntegrityProof({ signer, date, cryptosuite: eddsaRdfc2022 });
  return await vc.issue({ credential, suite, documentLoader: staticDocumentLoader });
}

export interface StatusListChange {
  /** A new list of this many entries, all clear... */
  length?: number;
  /** ...or this encoded list (a credentialSubject's `encodedList`). */
  encodedList?: string;
  /** Indexes whose bit to set. */
  set?: number[];
}

/** The `encodedList` (GZIP, base64url, multibase) of a Bitstring Status List after `change`. */
export async function encodeStatusList(change: StatusListChange): Promise<string> {
  const list: any = change.encodedList !== undefined
    ? await BitstringStatusList.decode({ encodedList: change.encodedList })
    : new BitstringStatusList({ length: change.length });
  for (const index of change.set ?? []) list.setStatus(index, true);
  return await list.encode();
}
