/**
 * How reactions and pins fold into state (called by applyBatch in
 * server/messages/oplog.ts, inside its transaction, in the writer worker too).
 *
 * Reactions are an observed-remove set: each React operation adds an
 * element tagged with its own operation id; an Unreact removes the tags
 * (React operation ids) its author had observed, and only that author's.
 * So, whatever order operations arrive in:
 * - a React whose removal arrived first stays removed (the Unreact is in the log);
 * - a React the Unreact did not name (made concurrently) stays: add wins over an unobserved remove;
 * - applying an operation twice changes nothing (the log refuses duplicates before this runs).
 *
 * Pins are a last-writer-wins register per message: the Pin or Unpin with
 * the highest (Lamport time, operation id) decides.
 */
import type { SqlTransaction } from "../../db/sql.ts";
import type { SignedPin, SignedReact, SignedUnreact } from "../documents/signed.ts";
import { authorityCovers } from "../messages/authority.ts";

export type ConversationOp = SignedReact | SignedUnreact | SignedPin;

export function isConversationOp(doc: { type: string }): doc is ConversationOp {
  return doc.type === "React" || doc.type === "Unreact" || doc.type === "Pin" || doc.type === "Unpin";
}

/** An error applyBatch turns into a per-operation refusal. */
export class FoldRefusal extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

interface ReactionRow {
  opId: string;
  message: string;
  channel: string;
  actor: string;
  emoji: string;
  lamport: number;
}

interface PinRow {
  message: string;
  channel: string;
  pinned: boolean;
  actor: string;
  at: string;
  lamport: number;
  opId: string;
}

const inList = (n: number) => Array(n).fill("?").join(",");

export class ConversationFold {
  /** Reactions added in this batch and not removed since. */
  readonly #adds = new Map<string, ReactionRow>();
  /** React operations seen in this batch (added or not), for validating Unreacts. */
  readonly #reacts = new Map<string, ReactionRow>();
  /** React operation id -> the actor whose Unreact (in this batch) removed it. */
  readonly #removed = new Map<string, Set<string>>();
  /** Removals to apply to rows written by earlier batches: [actor, React op ids]. */
  readonly #removals: Array<[string, string[]]> = [];
  readonly #pins = new Map<string, PinRow | null>();
  readonly #dirtyPins = new Set<string>();

  constructor(readonly sql: SqlTransaction) {}

  /** Folds one operation; whether the visible state changed. Throws FoldRefusal for a bad local operation. */
  apply(
    doc: ConversationOp,
    opId: string,
    channel: string,
    lamport: number,
    local: boolean,
  ): Promise<boolean> {
    if (doc.type === "React") return this.#react(doc, opId, channel, lamport);
    if (doc.type === "Unreact") return this.#unreact(doc, local);
    return this.#pin(doc, opId, channel, lamport);
  }

  async #react(doc: SignedReact, opId: string, channel: string, lamport: number): Promise<boolean> {
    const row = { opId, message: doc.object, channel, actor: doc.actor, emoji: doc.content, lamport };
    this.#reacts.set(opId, row);
    if (this.#removed.get(opId)?.has(doc.actor)) return false;
    // An Unreact by the same member that arrived first (it names this operation) keeps it removed.
    // (Operation ids are fixed-length, so a quoted id in the document is the id in `removes`.)
    const removed = await this.sql.all(
      "SELECT 1 FROM op_log WHERE target = ? AND kind = 'Unreact' AND actor = ? AND instr(document, ?) > 0 LIMIT 1",
      [doc.object, doc.actor, `"${opId}"`],
    );
    if (removed.length) return false;
    this.#adds.set(opId, row);
    return true;
  }

  async #unreact(doc: SignedUnreact, local: boolean): Promise<boolean> {
    const ids = [...new Set(doc.removes)];
    const stored = new Map<string, { kind: string; actor: string; target: string; emoji: string | null }>();
    for (
      const r of await this.sql.all(
        `SELECT id, kind, actor, target, document FROM op_log WHERE id IN (${inList(ids.length)})`,
        ids,
      )
    ) {
      const parsed = JSON.parse(String(r.document)) as { content?: unknown };
      stored.set(String(r.id), {
        kind: String(r.kind),
        actor: String(r.actor),
        target: String(r.target),
        emoji: typeof parsed.content === "string" ? parsed.content : null,
      });
    }
    for (const [id, r] of this.#reacts) {
      stored.set(id, { kind: "React", actor: r.actor, target: r.message, emoji: r.emoji });
    }
    if (local) {
      // A member takes back only reactions they made, on this message, with this emoji.
      for (const id of ids) {
        const op = stored.get(id);
        if (!op || op.kind !== "React") {
          throw new FoldRefusal(422, "unknown_reaction", `${id} is not a reaction stored here`);
        }
        if (op.actor !== doc.actor) {
          throw new FoldRefusal(
            403,
            "not_your_reaction",
            "an Unreact can only remove its author's own reactions",
          );
        }
        if (op.target !== doc.object || op.emoji !== doc.content) {
          throw new FoldRefusal(
            422,
            "wrong_reaction",
            `${id} is not a ${doc.content} reaction on this message`,
          );
        }
      }
    }
    let changed = false;
    for (const id of ids) {
      let by = this.#removed.get(id);
      if (!by) this.#removed.set(id, by = new Set());
      by.add(doc.actor);
      const added = this.#adds.get(id);
      if (added && added.actor === doc.actor) {
        this.#adds.delete(id);
        changed = true;
      }
    }
    // Rows from earlier batches: only the Unreact's author's own are removed.
    const present = await this.sql.all(
      `SELECT op_id FROM reactions WHERE actor = ? AND op_id IN (${inList(ids.length)})`,
      [doc.actor, ...ids],
    );
    if (present.length) changed = true;
    this.#removals.push([doc.actor, ids]);
    return changed;
  }

  async #pin(doc: SignedPin, opId: string, channel: string, lamport: number): Promise<boolean> {
    let current = this.#pins.get(doc.object);
    if (current === undefined) {
      const [r] = await this.sql.all("SELECT * FROM pins WHERE message = ?", [doc.object]);
      current = r
        ? {
          message: String(r.message),
          channel: String(r.channel),
          pinned: Boolean(r.pinned),
          actor: String(r.actor),
          at: String(r.at),
          lamport: Number(r.lamport),
          opId: String(r.op_id),
        }
        : null;
    }
    if (current && !(lamport > current.lamport || (lamport === current.lamport && opId > current.opId))) {
      this.#pins.set(doc.object, current);
      return false;
    }
    this.#pins.set(doc.object, {
      message: doc.object,
      channel,
      pinned: doc.type === "Pin",
      actor: doc.actor,
      at: doc.published,
      lamport,
      opId,
    });
    this.#dirtyPins.add(doc.object);
    return true;
  }

  /** Writes what the batch changed. */
  async write(): Promise<void> {
    for (const [actor, ids] of this.#removals) {
      await this.sql.run(`DELETE FROM reactions WHERE actor = ? AND op_id IN (${inList(ids.length)})`, [
        actor,
        ...ids,
      ]);
    }
    const adds = [...this.#adds.values()];
    for (let i = 0; i < adds.length; i += 400) {
      const chunk = adds.slice(i, i + 400);
      await this.sql.run(
        `INSERT INTO reactions (op_id, message, channel, actor, emoji, lamport) VALUES ${
          chunk.map(() => "(?,?,?,?,?,?)").join(",")
        } ON CONFLICT DO NOTHING`,
        chunk.flatMap((r) => [r.opId, r.message, r.channel, r.actor, r.emoji, r.lamport]),
      );
    }
    for (const message of this.#dirtyPins) {
      const p = this.#pins.get(message)!;
      await this.sql.run(
        `INSERT INTO pins (message, channel, pinned, actor, at, lamport, op_id) VALUES (?,?,?,?,?,?,?)
           ON CONFLICT (message) DO UPDATE SET channel = excluded.channel, pinned = excluded.pinned,
           actor = excluded.actor, at = excluded.at, lamport = excluded.lamport, op_id = excluded.op_id`,
        [p.message, p.channel, p.pinned ? 1 : 0, p.actor, p.at, p.lamport, p.opId],
      );
    }
  }
}

/**
 * Rebuilds the reactions and pins tables from the operation log (itself
 * rebuilt from the operation quads): the same fold, one batch.
 */
export async function rebuildConversation(
  sql: SqlTransaction,
): Promise<{ reactions: number; pins: number }> {
  await sql.run("DELETE FROM reactions");
  await sql.run("DELETE FROM pins");
  const fold = new ConversationFold(sql);
  // Only operations of the channel their message is in (one that named a message of another
  // channel before it arrived does not count).
  const ops = await sql.all(
    `SELECT o.id, o.channel, o.lamport, o.document, o.authority FROM op_log o
       LEFT JOIN message_index m ON m.id = o.target
       WHERE o.kind IN ('React', 'Unreact', 'Pin', 'Unpin') AND (m.id IS NULL OR m.channel = o.channel)
       ORDER BY o.position`,
  );
  for (const op of ops) {
    const doc = JSON.parse(String(op.document)) as ConversationOp;
    // A pin counts only with the capability it was checked against when it was logged.
    const pin = doc.type === "Pin" || doc.type === "Unpin";
    if (
      pin &&
      (op.authority == null ||
        !authorityCovers(JSON.parse(String(op.authority)), doc.actor, doc.channel, "pin"))
    ) {
      continue;
    }
    await fold.apply(doc, String(op.id), String(op.channel), Number(op.lamport), false);
  }
  await fold.write();
  const [r] = await sql.all("SELECT count(*) n FROM reactions");
  const [p] = await sql.all("SELECT count(*) n FROM pins WHERE pinned = 1");
  return { reactions: Number(r.n), pins: Number(p.n) };
}
