/**
 * Moving a member's place in the community from one DID to another (social
 * recovery, server/recovery/). Each module that keeps state about members
 * registers a mover at module load; `moveIdentity` runs every registered
 * mover in ONE write transaction, so a move happens completely or not at
 * all. The registry is code, not state: nothing about a move lives only in
 * memory.
 *
 * This module registers the first mover itself: memberships, roles and the
 * profile. Messages keep their author (the old DID signed them); the old
 * DID's profile becomes a link (`as:movedTo`) that display-name lookups
 * follow (server/community/snapshot.ts), so both DIDs show the member's current name.
 */
import type { Tx } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { dateTime, iri, quad } from "../../db/terms.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { invalid } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { R, recoveryGraph } from "../recovery/vocab.ts";
import { H } from "../rdf/vocab.ts";

export type IdentityMover = (tx: Tx, h: Harmony, from: string, to: string) => Promise<void>;

const movers = new Map<string, IdentityMover>();

/** Registers (or replaces, under the same name) a mover; call it at module load. */
export function registerIdentityMover(name: string, mover: IdentityMover): void {
  movers.set(name, mover);
}

/** The registered movers' names, in the order they run. */
export function identityMovers(): string[] {
  return [...movers.keys()];
}

export interface MoveHooks {
  /** Runs first in the transaction; throwing stops the move (nothing is written). */
  before?: (tx: Tx) => Promise<void>;
  /** Runs last in the same transaction (the recovery module closes its request there). */
  after?: (tx: Tx) => Promise<void>;
}

/**
 * Moves `from`'s memberships, roles, profile and whatever else the
 * registered movers hold to `to`, in one transaction: if any mover throws,
 * nothing moves.
 */
export async function moveIdentity(
  h: Harmony,
  from: string,
  to: string,
  hooks: MoveHooks = {},
): Promise<void> {
  if (!isDidKey(from) || !isDidKey(to)) throw invalid("invalid_did", "both identities must be did:keys");
  if (from === to) throw invalid("same_identity", "an identity cannot move to itself");
  // Moving credentials signs (new credentials, status lists): load that before taking the writer.
  await h.proofs.warm();
  await h.writeCommunity(async (tx) => {
    if (hooks.before) await hooks.before(tx);
    for (const mover of movers.values()) await mover(tx, h, from, to);
    if (hooks.after) await hooks.after(tx);
  });
}

/** Memberships and roles: the community graph's statements about `from` now speak of `to`. */
async function moveMembership(tx: Tx, h: Harmony, from: string, to: string): Promise<void> {
  const g = h.iris.community;
  const old = await quadStore.match(tx, { graph: g, subject: iri(from) });
  if (old.length > 0) {
    // The recovered membership replaces whatever the new DID had (normally nothing).
    await quadStore.remove(tx, { graph: g, subject: iri(to) });
    await quadStore.remove(tx, { graph: g, subject: iri(from) });
    await quadStore.insert(tx, old.map((q) => ({ ...q, subject: iri(to) })));
  }
  // The owner is named on the community too.
  const owned = await quadStore.match(tx, { graph: g, predicate: H.owner, object: iri(from) });
  for (const q of owned) {
    await quadStore.remove(tx, { graph: g, subject: q.subject, predicate: H.owner });
    await quadStore.insert(tx, [quad(q.subject, H.owner, iri(to), g)]);
  }
}

/**
 * The profile: its signature was made by the old key and cannot be
 * re-signed by the server, so the new DID gets the name and avatar
 * unsigned, marked `movedFrom`, until the member signs a profile with the
 * new key. A profile the new key already signed wins.
 */
async function moveProfile(tx: Tx, h: Harmony, from: string, to: string): Promise<void> {
  const g = h.iris.profiles;
  const old = await quadStore.match(tx, { graph: g, subject: iri(from) });
  const signedByNew = await quadStore.count(tx, { graph: g, subject: iri(to), predicate: H.profileProof });
  const oldAvatar = await quadStore.match(tx, { graph: h.iris.avatars, subject: iri(from) });
  await quadStore.remove(tx, { graph: g, subject: iri(from) });
  await quadStore.remove(tx, { graph: h.iris.avatars, subject: iri(from) });
  const carried = old.filter((q) =>
    q.predicate.value !== H.profileProof.value && q.predicate.value !== R.movedTo.value &&
    q.predicate.value !== R.movedFrom.value
  );
  if (signedByNew === 0 && carried.length > 0) {
    await quadStore.remove(tx, { graph: g, subject: iri(to) });
    await quadStore.remove(tx, { graph: h.iris.avatars, subject: iri(to) });
    await quadStore.insert(tx, [
      ...carried.map((q) => ({ ...q, subject: iri(to) })),
      quad(iri(to), R.movedFrom, iri(from), g),
      ...oldAvatar.map((q) => ({ ...q, subject: iri(to) })),
    ]);
  }
  // The link display names follow: messages stay attributed to `from`.
  await quadStore.insert(tx, [quad(iri(from), R.movedTo, iri(to), g)]);
  // Links that pointed at `from` (an earlier move) now point at `to`.
  const earlier = await quadStore.match(tx, { graph: g, predicate: R.movedTo, object: iri(from) });
  for (const q of earlier) {
    await quadStore.remove(tx, { graph: g, subject: q.subject, predicate: R.movedTo });
    await quadStore.insert(tx, [quad(q.subject, R.movedTo, iri(to), g)]);
  }
  // A permanent record beside the recovery requests, untouched by later profile changes.
  const r = recoveryGraph(h.config.origin);
  await quadStore.insert(tx, [
    quad(iri(to), R.alsoKnownAs, iri(from), r),
    quad(iri(from), R.movedTo, iri(to), r),
    quad(iri(from), R.movedAt, dateTime(new Date()), r),
  ]);
}

registerIdentityMover("membership", moveMembership);
registerIdentityMover("profile", moveProfile);
