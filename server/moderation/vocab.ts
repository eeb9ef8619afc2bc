/**
 * Terms of moderation (docs/vocabulary.md): bans, timeouts, slow mode,
 * the community's moderation settings and alerts, blocked fediverse
 * accounts and servers, in the graph
 * {origin}/moderation. The IRIs are in the Harmony namespace.
 */
import { iri, type NamedNode } from "../../db/terms.ts";
import { HARMONY_NS } from "../rdf/vocab.ts";

const h = (term: string): NamedNode => iri(HARMONY_NS + term);

export const M = {
  // a ban (subject: the banned DID)
  Ban: h("Ban"),
  bannedBy: h("bannedBy"),
  bannedAt: h("bannedAt"),
  reason: h("reason"),
  // a timeout (subject: the member's DID)
  timedOutUntil: h("timedOutUntil"),
  timedOutBy: h("timedOutBy"),
  // slow mode (subject: the channel)
  slowModeSeconds: h("slowModeSeconds"),
  // settings (subject: the community)
  rateLimitMessages: h("rateLimitMessages"),
  rateLimitSeconds: h("rateLimitSeconds"),
  raidJoins: h("raidJoins"),
  raidSeconds: h("raidSeconds"),
  minimumDidAge: h("minimumDidAge"),
  joinsLockedAt: h("joinsLockedAt"),
  joinsLockedBy: h("joinsLockedBy"),
  // a blocked fediverse account (subject: its actor IRI) or server (subject: its origin)
  BlockedActor: h("BlockedActor"),
  BlockedServer: h("BlockedServer"),
  blockedBy: h("blockedBy"),
  blockedAt: h("blockedAt"),
  // alerts for moderators (subject: {origin}/moderation/alerts/{uuid})
  ModerationAlert: h("ModerationAlert"),
  alertKind: h("alertKind"),
  resolvedAt: h("resolvedAt"),
  resolvedBy: h("resolvedBy"),
};
