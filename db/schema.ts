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
    /** The signed attachment descriptors (JSON array, server/files), NULL when none or deleted. */
    attachments: text("attachments"),
    /** Conversation (issue 5): the message this one replies to, and the thread root it belongs to. */
    inReplyTo: text("in_reply_to"),
    threadRoot: text("thread_root"),
  },
  (t) => [
    index("message_index_order").on(t.channel, t.lamport, t.author, t.id),
    index("message_index_changes").on(t.channel, t.revision),
    index("message_index_thread").on(t.threadRoot, t.lamport),
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
    /**
     * For a moderation (a deletion of someone else's message, a pin): the
     * capability, as JSON, whose chain showed the signer held the action in
     * the community the operation was made in. Checked before it was logged.
     */
    authority: text("authority"),
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

/**
 * Device pairings waiting for their key (server/recovery/pairing.ts): a
 * five-minute mailbox keyed by a hash of its code, whose `state` (JSON) holds
 * only public keys, a hash of the pick-up token and, once delivered, the
 * sealed key. `requester` is who opened it (server/shared/requester.ts), so
 * one requester cannot hold more than a few at once. Never exported.
 */
export const pairings = sqliteTable(
  "pairings",
  {
    codeHash: text("code_hash").primaryKey(),
    requester: text("requester").notNull(),
    expires: integer("expires").notNull(),
    state: text("state").notNull(),
  },
  (t) => [index("pairings_requester").on(t.requester), index("pairings_expires").on(t.expires)],
);

/**
 * How many pairing codes each requester (an address, or a DID) looked up
 * in the current window: a fixed window per key, so guessing codes is slow
 * and the count survives a restart. Rows of past windows are swept.
 */
export const pairingLookups = sqliteTable(
  "pairing_lookups",
  {
    key: text("key").primaryKey(),
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [index("pairing_lookups_window").on(t.windowStart)],
);

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
 * Operations a bridge peer sent that were refused (server/replication/refusals.ts):
 * which peer, for which of our channels, what and why, for the admins.
 * One row per peer, operation and reason, counting repeats; the newest
 * 10,000 are kept.
 */
export const bridgeRefusals = sqliteTable(
  "bridge_refusals",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The peer channel actor that sent it. */
    peer: text("peer").notNull(),
    channel: text("channel").notNull(),
    /** "inbox" (a delivery) or "sync" (in a Sync answer). */
    via: text("via").notNull(),
    kind: text("kind").notNull(),
    opId: text("op_id").notNull(),
    origin: text("origin").notNull(),
    code: text("code").notNull(),
    reason: text("reason").notNull(),
    first: integer("first").notNull(),
    last: integer("last").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [
    uniqueIndex("bridge_refusals_key").on(t.peer, t.opId, t.code),
    index("bridge_refusals_last").on(t.last),
  ],
);

/**
 * How a channel of a further instance is bridged, through our peers, into
 * one of our channels (server/replication/relays.ts): the capabilities,
 * from ours to the one granted to that channel, that prove an operation
 * relayed from it belongs in the mesh. Learned from relayed operations, so
 * that we can prove it in turn when we relay them.
 */
export const bridgeRelays = sqliteTable(
  "bridge_relays",
  {
    channel: text("channel").notNull(),
    foreignChannel: text("foreign_channel").notNull(),
    path: text("path").notNull(),
    updated: integer("updated").notNull(),
  },
  (t) => [uniqueIndex("bridge_relays_channel").on(t.channel, t.foreignChannel)],
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

// --- dms (issue 5)
/**
 * One row per end-to-end encrypted direct message (server/dms/store.ts):
 * derived from the DM quads (graph urn:harmony:dm:<conversation>) in the
 * same transaction and rebuildable from them. Holds only the signed
 * ciphertext envelope; `position` orders and pages a conversation.
 */
export const dmIndex = sqliteTable(
  "dm_index",
  {
    position: integer("position").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    conversation: text("conversation").notNull(),
    sender: text("sender").notNull(),
    recipient: text("recipient").notNull(),
    published: text("published").notNull(),
    envelope: text("envelope").notNull(),
  },
  (t) => [
    uniqueIndex("dm_index_id").on(t.id),
    index("dm_index_conversation").on(t.conversation, t.position),
    index("dm_index_sender").on(t.sender, t.conversation),
    index("dm_index_recipient").on(t.recipient, t.conversation),
  ],
);

/** How far each participant has read each conversation (operational state, like sessions). */
export const dmReads = sqliteTable(
  "dm_reads",
  {
    conversation: text("conversation").notNull(),
    did: text("did").notNull(),
    position: integer("position").notNull(),
  },
  (t) => [uniqueIndex("dm_reads_key").on(t.conversation, t.did)],
);
// --- files (issue 5)

/**
 * Uploaded files (server/files/): the encrypted blob's storage key, what
 * the server sniffed and hashed, and the per-file key wrapped by the
 * instance's key-encryption key (which is not in the database). `message`
 * is set when a signed message attaches the file; files never attached are
 * swept after a while (server/files/gc.ts).
 */
export const files = sqliteTable(
  "files",
  {
    /** The uuid of the file's urn:uuid id. */
    id: text("id").primaryKey(),
    /** Random, never derived from the file name. */
    storageKey: text("storage_key").notNull(),
    channel: text("channel").notNull(),
    uploader: text("uploader").notNull(),
    name: text("name").notNull(),
    mediaType: text("media_type").notNull(),
    size: integer("size").notNull(),
    /** "sha256-" and the base64 SHA-256 of the plaintext. */
    digest: text("digest").notNull(),
    width: integer("width"),
    height: integer("height"),
    /** The file key, wrapped (AES-256-GCM) by the key-encryption key `kekId`. */
    wrappedKey: text("wrapped_key").notNull(),
    kekId: text("kek_id").notNull(),
    created: integer("created").notNull(),
    /** The message that attaches it (claimed before the message is stored). */
    message: text("message"),
    attachedAt: integer("attached_at"),
  },
  (t) => [
    index("files_message").on(t.message, t.created),
    index("files_uploader").on(t.uploader, t.message),
  ],
);
// --- conversation (issue 5)

/**
 * The reactions that currently stand (server/conversation/): one row per
 * React operation no Unreact has removed (an observed-remove set), derived
 * from the operation log and rebuildable from its quads.
 */
export const reactions = sqliteTable(
  "reactions",
  {
    opId: text("op_id").primaryKey(),
    message: text("message").notNull(),
    channel: text("channel").notNull(),
    actor: text("actor").notNull(),
    emoji: text("emoji").notNull(),
    lamport: integer("lamport").notNull(),
  },
  (t) => [
    index("reactions_message").on(t.message, t.emoji, t.actor, t.lamport),
    index("reactions_actor").on(t.actor, t.message),
  ],
);

/** Each message's pin state: the Pin or Unpin with the highest (Lamport time, op id) wins. */
export const pins = sqliteTable(
  "pins",
  {
    message: text("message").primaryKey(),
    channel: text("channel").notNull(),
    pinned: integer("pinned", { mode: "boolean" }).notNull(),
    actor: text("actor").notNull(),
    at: text("at").notNull(),
    lamport: integer("lamport").notNull(),
    opId: text("op_id").notNull(),
  },
  (t) => [index("pins_channel").on(t.channel, t.pinned, t.lamport)],
);

/** How far each member has read each thread (the Lamport time of the newest reply they saw). */
export const threadReads = sqliteTable(
  "thread_reads",
  {
    member: text("member").notNull(),
    root: text("root").notNull(),
    lamport: integer("lamport").notNull(),
  },
  (t) => [uniqueIndex("thread_reads_member_root").on(t.member, t.root)],
);
// --- search (issue 5)

/**
 * The documents of the full-text index (server/search/): one row per
 * message that is not deleted, kept in step with message_index by triggers
 * (db/migrations/0007_search_fts.sql). `key` is the index's rowid: the
 * message's published time in milliseconds times 1,024, plus a counter
 * among messages of the same millisecond, so newest-first is rowid order
 * and dates are rowid ranges. Derived: rebuilt by server/exchange/indexes.ts.
 */
export const searchDocs = sqliteTable("search_docs", {
  key: integer("key").primaryKey(),
  messageId: text("message_id").notNull().unique(),
});
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
