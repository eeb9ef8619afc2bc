/**
 * Terms of the audit log (docs/vocabulary.md): entries in the graph
 * {origin}/audit, one subject per entry, in the Harmony namespace.
 */
import { iri, type NamedNode } from "../../db/terms.ts";
import { AS_NS, HARMONY_NS } from "../rdf/vocab.ts";

const h = (term: string): NamedNode => iri(HARMONY_NS + term);

export const A = {
  AuditEntry: h("AuditEntry"),
  seq: h("seq"),
  action: h("action"),
  target: h("target"),
  actor: iri(`${AS_NS}actor`),
  published: iri(`${AS_NS}published`),
  /** The capability the actor invoked (authorize()'s capability id). */
  capabilityInvoked: h("capabilityInvoked"),
  /** Hex SHA-256 of the previous entry ("0" × 64 before the first). */
  previousHash: h("previousHash"),
  entryHash: h("entryHash"),
  /** What was chosen (a duration, a reason, settings), as rdf:JSON. */
  arguments: h("arguments"),
  /** The signed document behind the entry, as rdf:JSON. */
  evidence: h("evidence"),
};
