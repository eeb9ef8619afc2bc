/**
 * Terms of social recovery and identity moves (docs/vocabulary.md). They
 * live beside the recovery code so the shared vocabulary module stays
 * small; the IRIs are in the Harmony and ActivityStreams namespaces.
 */
import { iri, type NamedNode } from "../../db/terms.ts";
import { AS_NS, HARMONY_NS } from "../rdf/vocab.ts";

const h = (term: string): NamedNode => iri(HARMONY_NS + term);

export const R = {
  // classes
  RecoverySetup: h("RecoverySetup"),
  RecoveryRequest: h("RecoveryRequest"),
  RecoveryApproval: h("RecoveryApproval"),
  // a member's setup (subject: the member's DID)
  guardian: h("guardian"),
  threshold: h("threshold"),
  /** The signed document behind an entity, as rdf:JSON. */
  signedDocument: h("signedDocument"),
  // requests (subject: the request's urn:uuid)
  oldIdentity: h("oldIdentity"),
  newIdentity: h("newIdentity"),
  recoveryStatus: h("recoveryStatus"),
  lockedAt: h("lockedAt"),
  dueAt: h("dueAt"),
  closedAt: h("closedAt"),
  closeReason: h("closeReason"),
  cancellation: h("cancellation"),
  /** The member's signed setup in force when the request was made. */
  setupDocument: h("setupDocument"),
  // approvals (subject: a urn:uuid of their own)
  request: h("request"),
  // the community's time lock (subject: the community)
  recoveryDelay: h("recoveryDelay"),
  // identity moves
  movedFrom: h("movedFrom"),
  movedAt: h("movedAt"),
  movedTo: iri(`${AS_NS}movedTo`),
  alsoKnownAs: iri(`${AS_NS}alsoKnownAs`),
};

/** The graph holding recovery setups, requests and approvals. */
export const recoveryGraph = (origin: string) => `${origin}/recovery`;
