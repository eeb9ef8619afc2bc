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
 * Derived from the message quads, written in the same transaction, and
 * rebuildable from them (`rebuildMessageIndex`). Serves the hot paths:
 * a channel's history in total order and its change feed.
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
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    /** Global change counter: bumped on every create, edit and delete. */
    revision: integer("revision").notNull(),
  },
  (t) => [
    index("message_index_order").on(t.channel, t.lamport, t.author, t.id),
    index("message_index_changes").on(t.channel, t.revision),
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
