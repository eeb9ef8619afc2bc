import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The source of truth: every entity is a set of RDF quads.
 * `objectKind` is 0 for an IRI, 1 for a literal, 2 for a blank node.
 * `graph` is "" for the default graph; `datatype` and `language` are ""
 * when absent, so the unique index can treat them as plain values.
 */
export const quads = sqliteTable(
  "quads",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    graph: text("graph").notNull(),
    subject: text("subject").notNull(),
    predicate: text("predicate").notNull(),
    object: text("object").notNull(),
    objectKind: integer("object_kind").notNull(),
    datatype: text("datatype").notNull().default(""),
    language: text("language").notNull().default(""),
  },
  (t) => [
    uniqueIndex("quads_spog").on(
      t.subject,
      t.predicate,
      t.object,
      t.objectKind,
      t.datatype,
      t.language,
      t.graph,
    ),
    // Reverse lookups ("which subjects have type X / belong to channel Y")
    // only ever follow IRIs, so literals (message text) stay out of it.
    index("quads_pos").on(t.predicate, t.object).where(
      sql`${t.objectKind} = 0`,
    ),
    index("quads_graph").on(t.graph),
  ],
);

/**
 * The current state of every message, derived from the message quads,
 * written in the same transaction and rebuildable from them
 * (`rebuildIndexes`). Serves the hot paths: a channel's history in total
 * order and its change feed.
 */
export const messageIndex = sqliteTable(
  "message_index",
  {
    id: text("id").primaryKey(),
    channel: text("channel").notNull(),
    lamport: integer("lamport").notNull(),
    author: text("author").notNull(),
    content: text("content").notNull(),
    published: text("published").notNull(),
    updated: text("updated"),
    /** Lamport time and op id of the edit that won (last writer wins). */
    editLamport: integer("edit_lamport"),
    editOp: text("edit_op"),
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    /** Per-channel change counter: bumped on every create, edit and delete. */
    revision: integer("revision").notNull(),
  },
  (t) => [
    index("message_index_order").on(t.channel, t.lamport, t.author, t.id),
    index("message_index_changes").on(t.channel, t.revision),
  ],
);

/**
 * The replicated operation log of every channel (posts, edits, deletions,
 * local and received), derived from the operation quads and rebuildable
 * from them. `position` is this instance's insertion order: outbound
 * delivery cursors follow it.
 */
export const opLog = sqliteTable(
  "op_log",
  {
    position: integer("position").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    channel: text("channel").notNull(),
    /** The instance (origin) where the operation was made, and its number there. */
    origin: text("origin").notNull(),
    seq: integer("seq").notNull(),
    lamport: integer("lamport").notNull(),
    kind: text("kind").notNull(),
    target: text("target").notNull(),
    actor: text("actor").notNull(),
    /** The signed document, as JSON. */
    document: text("document").notNull(),
  },
  (t) => [
    uniqueIndex("op_log_id").on(t.id),
    uniqueIndex("op_log_origin_seq").on(t.channel, t.origin, t.seq),
    index("op_log_target").on(t.target),
    index("op_log_clock").on(t.channel, t.lamport),
  ],
);

/** A sign-in session. Only a hash of the bearer token is stored. */
export const sessions = sqliteTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    did: text("did").notNull(),
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("sessions_did").on(t.did)],
);

/** Sign-in challenges; a nonce is consumed by setting `usedAt`. */
export const challenges = sqliteTable("challenges", {
  nonce: text("nonce").primaryKey(),
  domain: text("domain").notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
});

/** Instance-level operational state (claim token hash, keys, ...). */
export const instanceState = sqliteTable("instance_state", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/** Keys of the ActivityPub actors this instance operates (JWK, private and public). */
export const actorKeys = sqliteTable(
  "actor_keys",
  {
    actor: text("actor").notNull(),
    algorithm: text("algorithm").notNull(),
    privateJwk: text("private_jwk").notNull(),
    publicJwk: text("public_jwk").notNull(),
    created: integer("created").notNull(),
  },
  (t) => [uniqueIndex("actor_keys_actor_algorithm").on(t.actor, t.algorithm)],
);

/** Fedify's key-value store (caches, idempotence records, circuit breakers). */
export const federationKv = sqliteTable(
  "federation_kv",
  {
    key: text("key").primaryKey(),
    value: text("value").notNull(),
    expires: integer("expires"),
  },
  (t) => [index("federation_kv_expires").on(t.expires)],
);

/**
 * Persistent message queues: Fedify's inbox and outbox work, and bridge
 * deliveries. A worker leases a row, runs it, then deletes it, so a crash
 * mid-delivery leaves the job to be retried.
 */
export const queueJobs = sqliteTable(
  "queue_jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    queue: text("queue").notNull(),
    message: text("message").notNull(),
    runAt: integer("run_at").notNull(),
    orderingKey: text("ordering_key"),
    lockedUntil: integer("locked_until"),
    attempts: integer("attempts").notNull().default(0),
  },
  (t) => [
    index("queue_jobs_due").on(t.queue, t.runAt),
    // The rows hold kilobytes of message (overflow pages): these let the workers find what is due
    // and check an ordering key from the indexes alone.
    index("queue_jobs_lease").on(t.queue, t.runAt, t.lockedUntil),
    index("queue_jobs_order").on(t.queue, t.orderingKey, t.id),
  ],
);

/** How far each outbound stream (followers, bridge peers) has read the op log. */
export const deliveryCursors = sqliteTable("delivery_cursors", {
  stream: text("stream").primaryKey(),
  position: integer("position").notNull(),
});

/** Capability invocations already accepted, kept while they are fresh, to refuse replays. */
export const seenInvocations = sqliteTable(
  "seen_invocations",
  {
    proofValue: text("proof_value").primaryKey(),
    expires: integer("expires").notNull(),
  },
  (t) => [index("seen_invocations_expires").on(t.expires)],
);

/**
 * Moderation (server/moderation/): each member's post count in the current
 * rate-limit window, keyed by DID.
 */
export const rateWindows = sqliteTable("rate_windows", {
  key: text("key").primaryKey(),
  windowStart: integer("window_start").notNull(),
  count: integer("count").notNull(),
});

/** Join attempts, kept for the raid-detection window (server/moderation/). */
export const joinLog = sqliteTable(
  "join_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    did: text("did").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("join_log_at").on(t.at)],
);

/** When each DID first signed in here (the minimum DID age, server/moderation/). */
export const didFirstSeen = sqliteTable("did_first_seen", {
  did: text("did").primaryKey(),
  firstSeen: integer("first_seen").notNull(),
});

/**
 * The hash-chained audit log (server/audit/), derived from its quads (graph
 * {origin}/audit) and written in the same transaction: for paging, the
 * chain's head, and refusing a signed action used twice (`evidence_key`).
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    seq: integer("seq").primaryKey(),
    hash: text("hash").notNull(),
    prevHash: text("prev_hash").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull(),
    actor: text("actor").notNull(),
    capability: text("capability"),
    at: text("at").notNull(),
    /** JSON, or null. */
    arguments: text("arguments"),
    /** The signed document behind the entry, as JSON. */
    evidence: text("evidence").notNull(),
    evidenceKey: text("evidence_key").notNull(),
  },
  (t) => [uniqueIndex("audit_log_evidence").on(t.evidenceKey)],
);

// --- attention (issue 5)

/**
 * Who each message mentions (a member's DID or a role IRI), derived from the
 * `harmony:mentions` quads of messages and written in the same transaction
 * as the message (server/attention/mentionIndex.ts). Rebuildable.
 */
export const mentions = sqliteTable(
  "mentions",
  {
    message: text("message").notNull(),
    target: text("target").notNull(),
    channel: text("channel").notNull(),
    author: text("author").notNull(),
    lamport: integer("lamport").notNull(),
  },
  (t) => [
    uniqueIndex("mentions_message_target").on(t.message, t.target),
    index("mentions_target").on(t.target, t.channel, t.lamport),
  ],
);

/** How far each member has read each channel: the Lamport time of the newest message seen. */
export const readMarkers = sqliteTable(
  "read_markers",
  {
    member: text("member").notNull(),
    channel: text("channel").notNull(),
    lamport: integer("lamport").notNull(),
    updated: integer("updated").notNull(),
  },
  (t) => [uniqueIndex("read_markers_member_channel").on(t.member, t.channel)],
);

/** Mentions a member marked read one by one (before reading their whole channel). */
export const mentionReads = sqliteTable(
  "mention_reads",
  {
    member: text("member").notNull(),
    message: text("message").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [uniqueIndex("mention_reads_member_message").on(t.member, t.message)],
);
