/**
 * The signature that closes an export. Its last line is one quad, in the
 * graph `{origin}/export`, whose object is a statement signed by the
 * community key (eddsa-jcs-2022): the origin, the community's did:key, how
 * many quads come before it and the SHA-256 of their bytes. An import
 * verifies it against the community key it is given, so nothing in the
 * file can be added, removed or changed, not even what carries no
 * signature of its own (memberships, revocations, time locks, settings).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { quadToNQuads } from "../../db/nquads.ts";
import { iri, literal, quad } from "../../db/terms.ts";
import { type DataIntegrityProof, sign, verify } from "../crypto/dataIntegrity.ts";
import type { CommunityKey } from "../capabilities/communityKey.ts";
import { HARMONY_NS, RDF_JSON } from "../rdf/vocab.ts";

export const SIGNATURE_PREDICATE = `${HARMONY_NS}exportSignature`;
export const exportGraph = (origin: string) => `${origin}/export`;

export interface ExportStatement {
  type: "HarmonyExport";
  origin: string;
  community: string;
  quads: number;
  /** Hex SHA-256 of every byte before the signature line. */
  sha256: string;
  created: string;
  proof: DataIntegrityProof;
}

/** An incremental digest of the export's bytes, and the line that signs them. */
export class ExportSigner {
  readonly #hash = sha256.create();
  #quads = 0;

  constructor(readonly origin: string, readonly key: CommunityKey) {}

  /** Counts and hashes a chunk of N-Quads lines (as they are sent). */
  add(bytes: Uint8Array, quads: number): void {
    this.#hash.update(bytes);
    this.#quads += quads;
  }

  async line(now = new Date()): Promise<string> {
    const created = now.toISOString();
    const statement = await sign(
      {
        type: "HarmonyExport",
        origin: this.origin,
        community: this.key.did,
        quads: this.#quads,
        sha256: hex.encode(this.#hash.digest()),
        created,
      },
      this.key.keySigner,
      { proofPurpose: "assertionMethod", created },
    );
    const subject = iri(exportGraph(this.origin));
    return quadToNQuads(
      quad(
        subject,
        iri(SIGNATURE_PREDICATE),
        literal(JSON.stringify(statement), RDF_JSON),
        exportGraph(this.origin),
      ),
    );
  }
}

export class ExportSignatureError extends Error {
  override name = "ExportSignatureError";
}

/** The text before the signature line, and the signature line itself (null when there is none). */
export function splitSignature(text: string): { body: string; line: string | null } {
  const trimmed = text.endsWith("\n") ? text.slice(0, -1) : text;
  const start = trimmed.lastIndexOf("\n") + 1;
  const last = trimmed.slice(start);
  return last.includes(`<${SIGNATURE_PREDICATE}>`)
    ? { body: text.slice(0, start), line: last }
    : { body: text, line: null };
}

/**
 * Checks the statement (the signature quad's object) against the body and
 * the community key expected; returns it. Throws ExportSignatureError.
 */
export async function checkStatement(
  body: string,
  statementJson: string,
  expected: { community: string; quads: number },
): Promise<ExportStatement> {
  let statement: ExportStatement;
  try {
    statement = JSON.parse(statementJson);
  } catch {
    throw new ExportSignatureError("the export's signature is not JSON");
  }
  if (statement?.type !== "HarmonyExport") {
    throw new ExportSignatureError("the export's signature is malformed");
  }
  const result = await verify(statement);
  if (!result.verified) {
    throw new ExportSignatureError(`the export's signature does not verify: ${result.error}`);
  }
  if (result.signer !== statement.community || statement.community !== expected.community) {
    throw new ExportSignatureError(
      `the export is signed by ${result.signer}, not by the community key ${expected.community}`,
    );
  }
  if (statement.quads !== expected.quads) {
    throw new ExportSignatureError(
      `the export was signed with ${statement.quads} quads; it holds ${expected.quads}`,
    );
  }
  if (statement.sha256 !== hex.encode(sha256(new TextEncoder().encode(body)))) {
    throw new ExportSignatureError("the export was changed after it was signed (its digest does not match)");
  }
  return statement;
}
