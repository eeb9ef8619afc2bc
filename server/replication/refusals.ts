/**
 * Operations a bridge peer sent that were refused, for the admins: which
 * peer, for which of our channels, by which path (a delivery to the inbox
 * or a Sync answer), what it was and why. Kept in `bridge_refusals`
 * (operational state, not quads: it records what peers did, not what the
 * community holds), one row per peer, operation and reason with a count of
 * repeats; the newest MAX_ROWS are kept. Read by `GET /api/bridges/refusals`,
 * `harmony bridge refusals` and the bridges section of the settings page.
 */
import { desc, lt, sql } from "drizzle-orm";
import { bridgeRefusals } from "../../db/schema.ts";
import { authorize } from "../authority/authorize.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { sha256Hex } from "../shared/ids.ts";

const MAX_ROWS = 10_000;
/** The same refusal again within this long is not written again (a peer retrying, a Sync re-asking). */
const QUIET_MS = 5_000;

export interface Refusal {
  /** The peer channel actor that sent the operation. */
  peer: string;
  /** Our channel. */
  channel: string;
  via: "inbox" | "sync";
  kind: string;
  opId: string;
  origin: string;
  code: string;
  reason: string;
}

export interface RefusalView extends Refusal {
  first: string;
  last: string;
  count: number;
}

const recent = new WeakMap<Harmony, Map<string, number>>();
let writes = 0;

/** The id an operation would have (the hash of its signature), or a hash of what was sent. */
export async function refusedOpId(document: unknown): Promise<string> {
  const proofValue = (document as { proof?: { proofValue?: unknown } } | null)?.proof?.proofValue;
  if (typeof proofValue === "string") return `urn:harmony:op:${(await sha256Hex(proofValue)).slice(0, 40)}`;
  return `urn:harmony:sent:${(await sha256Hex(JSON.stringify(document ?? null))).slice(0, 40)}`;
}

/** Records a refusal; false when the same one was recorded moments ago (not written again). */
export async function recordRefusal(h: Harmony, refusal: Refusal, now = Date.now()): Promise<boolean> {
  let seen = recent.get(h);
  if (!seen) recent.set(h, seen = new Map());
  const key = `${refusal.peer} ${refusal.opId} ${refusal.code}`;
  if (now - (seen.get(key) ?? 0) < QUIET_MS) return false;
  if (seen.size > 10_000) seen.clear();
  seen.set(key, now);
  const row = {
    ...refusal,
    kind: refusal.kind.slice(0, 40),
    origin: refusal.origin.slice(0, 300),
    reason: refusal.reason.slice(0, 500),
  };
  const prune = ++writes % 100 === 0;
  await h.database.write(async (tx) => {
    await tx.insert(bridgeRefusals).values({ ...row, first: now, last: now, count: 1 }).onConflictDoUpdate({
      target: [bridgeRefusals.peer, bridgeRefusals.opId, bridgeRefusals.code],
      set: { last: now, reason: row.reason, count: sql`${bridgeRefusals.count} + 1` },
    });
    if (prune) {
      const [cut] = await tx.select({ last: bridgeRefusals.last }).from(bridgeRefusals)
        .orderBy(desc(bridgeRefusals.last)).limit(1).offset(MAX_ROWS);
      if (cut) await tx.delete(bridgeRefusals).where(lt(bridgeRefusals.last, cut.last));
    }
  });
  return true;
}

/** The most recent refusals, newest first (admins who manage bridges). */
export async function listRefusals(h: Harmony, actor: Actor, limit = 100): Promise<RefusalView[]> {
  await authorize(h, actor, "manage-bridges");
  const rows = await h.db.select().from(bridgeRefusals).orderBy(
    desc(bridgeRefusals.last),
    desc(bridgeRefusals.id),
  )
    .limit(Math.min(Math.max(limit, 1), 1000));
  return rows.map((r) => ({
    peer: r.peer,
    channel: r.channel,
    via: r.via as "inbox" | "sync",
    kind: r.kind,
    opId: r.opId,
    origin: r.origin,
    code: r.code,
    reason: r.reason,
    first: new Date(r.first).toISOString(),
    last: new Date(r.last).toISOString(),
    count: r.count,
  }));
}
