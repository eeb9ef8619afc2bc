/**
 * The activities bridged channels exchange (FEDERATION.md, "Bridged
 * channels"). Each carries one operation: the member-signed Harmony
 * document as its object and the operation's envelope (origin, sequence
 * number, Lamport time); the sending channel actor adds a capability
 * invocation proof.
 */
import type { Envelope, OpDocument } from "../../server/messages/oplog.ts";
import { HARMONY_CONTEXT_URL } from "../../server/rdf/vocab.ts";
import type { VersionVector } from "../../server/replication/sync.ts";

export const BRIDGE_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/data-integrity/v2",
  "https://w3id.org/zcap/v1",
  HARMONY_CONTEXT_URL,
];

/** The capability action each activity type invokes (no prototype: "toString" is no activity type). */
export const actionOf: Record<string, string | undefined> = Object.assign(Object.create(null), {
  Create: "post",
  Update: "edit",
  Delete: "delete",
  React: "react",
  Unreact: "react",
  Pin: "pin",
  Unpin: "pin",
  Sync: "sync",
});

/** The activity type each kind of operation travels as over a bridge. */
export const activityTypeOf: Record<OpDocument["type"], string> = {
  Message: "Create",
  Update: "Update",
  Delete: "Delete",
  // Reactions and pins (server/conversation/) travel under their own Harmony names.
  React: "React",
  Unreact: "Unreact",
  Pin: "Pin",
  Unpin: "Unpin",
};

/** The kind of operation an incoming activity type carries (the inverse of activityTypeOf). */
export const kindOfActivityType: Record<string, OpDocument["type"] | undefined> = Object.assign(
  // No prototype: "toString" or "constructor" is no activity type.
  Object.create(null),
  Object.fromEntries(Object.entries(activityTypeOf).map(([kind, type]) => [type, kind])),
);

export interface BridgeActivity {
  "@context": string[];
  id: string;
  type: string;
  actor: string;
  to: string;
  object: unknown;
  envelope?: Envelope;
  [key: string]: unknown;
}

/** An operation travelling from our channel actor to a peer's channel. */
export function operationActivity(
  opId: string,
  actor: string,
  to: string,
  document: OpDocument,
  envelope: Envelope,
): BridgeActivity {
  return {
    "@context": BRIDGE_CONTEXT,
    id: `${actor}/operations/${opId.replace(/^urn:harmony:op:/, "")}`,
    type: activityTypeOf[document.type],
    actor,
    to,
    object: document,
    envelope,
  };
}

/** A request for the operations a peer has that we lack (anti-entropy). */
export function syncActivity(
  actor: string,
  to: string,
  vector: VersionVector,
  after: { origin: string; seq: number } | null,
): BridgeActivity {
  return {
    "@context": BRIDGE_CONTEXT,
    id: `${actor}/sync/${crypto.randomUUID()}`,
    type: "Sync",
    actor,
    to,
    object: { versionVector: vector, after },
  };
}
