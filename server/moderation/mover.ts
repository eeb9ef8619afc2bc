/**
 * When a member's identity moves to a new DID (social recovery,
 * server/identity/move.ts), moderation follows it: a ban also bans the new
 * DID, a running timeout moves to it, and the new DID counts as known here
 * since the old one was first seen. In the mover's transaction.
 */
import { quadStore } from "../../db/quadstore.ts";
import { iri } from "../../db/terms.ts";
import { sqlOf } from "../audit/log.ts";
import { registerIdentityMover } from "../identity/move.ts";
import { moderationGraph } from "./state.ts";
import { M } from "./vocab.ts";

registerIdentityMover("moderation", async (tx, h, from, to) => {
  const g = moderationGraph(h);
  const held = await quadStore.match(tx, { graph: g, subject: iri(from) });
  if (held.length > 0) {
    await quadStore.insert(tx, held.map((q) => ({ ...q, subject: iri(to) })));
    for (const p of [M.timedOutUntil, M.timedOutBy]) {
      await quadStore.remove(tx, { graph: g, subject: iri(from), predicate: p });
    }
  }
  await sqlOf(tx).run(
    `INSERT INTO did_first_seen (did, first_seen) SELECT ?, first_seen FROM did_first_seen WHERE did = ?
       ON CONFLICT (did) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen)`,
    [to, from],
  );
});
