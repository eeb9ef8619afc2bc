/**
 * Social recovery (docs/identity.md): a member names guardians and a
 * threshold in a document they sign; after losing their key they make a new
 * one and ask, with it, to take over the old DID's place; once `threshold`
 * distinct guardians have signed approvals a time lock starts, during which
 * a signature of the old key cancels the request; when it runs out the
 * community moves the membership, roles and profile to the new DID
 * (server/identity/move.ts). Everything is quads in the graph
 * `{origin}/recovery`, with the signed documents beside them.
 */
import type { Queryable, Tx } from "../../db/client.ts";
import { describe, type Description, quadStore } from "../../db/quadstore.ts";
import { dateTime, integer, iri, literal, type Quad, quad } from "../../db/terms.ts";
import { conflict, forbidden, HarmonyError, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { moveIdentity } from "../identity/move.ts";
import { isUrnUuid, newUrnUuid } from "../shared/ids.ts";
import type { Actor } from "../shared/model.ts";
import { atLeast, requireRole } from "../community/permissions.ts";
import {
  checkClock,
  type SignedRecoveryApproval,
  type SignedRecoveryCancel,
  type SignedRecoveryRequest,
  type SignedRecoverySetup,
  verifySigned,
} from "../documents/signed.ts";
import { AS, H, RDF, RDF_JSON } from "../rdf/vocab.ts";
import { R, recoveryGraph } from "./vocab.ts";
import { requireFreshId } from "./ids.ts";

export const DEFAULT_DELAY_SECONDS = 72 * 3600;
/** The range admins may choose for their community's time lock. */
export const MIN_DELAY_SECONDS = 3600;
export const MAX_DELAY_SECONDS = 30 * 86400;
export const MAX_GUARDIANS = 16;
/** A request that has not reached its threshold after this long expires. */
export const PENDING_TTL_MS = 14 * 86_400_000;
/** Open (not yet locked) requests against one identity, at most. */
export const MAX_PENDING_PER_IDENTITY = 20;

export type RecoveryStatus =
  | "pending"
  | "locked"
  | "cancelled"
  | "completed"
  | "failed"
  | "expired"
  | "superseded";

export interface RecoverySetupView {
  id: string;
  member: string;
  guardians: string[];
  threshold: number;
  published: string;
  document: SignedRecoverySetup;
}

export interface RecoveryApprovalView {
  guardian: string;
  published: string;
  document: SignedRecoveryApproval;
}

export interface RecoveryRequestView {
  id: string;
  /** The community the request is for (as signed). */
  community: string;
  oldIdentity: string;
  newIdentity: string;
  guardians: string[];
  threshold: number;
  approvals: RecoveryApprovalView[];
  status: RecoveryStatus;
  published: string;
  /** When the threshold was reached and the time lock started. */
  lockedAt: string | null;
  /** When the identity moves, unless the old key cancels before. */
  dueAt: string | null;
  closedAt: string | null;
  closeReason: string | null;
  document: SignedRecoveryRequest;
  cancellation: SignedRecoveryCancel | null;
}

export interface RecoveryOverview {
  did: string;
  /** The time lock of this community, in seconds. */
  delaySeconds: number;
  /** The viewer's own setup. */
  setup: RecoverySetupView | null;
  /** Members who named the viewer as a guardian. */
  guardianOf: { member: string; threshold: number; guardians: number }[];
  /** Requests the viewer may approve as a guardian (open ones first). */
  guarding: RecoveryRequestView[];
  /** Requests to take over the viewer's own DID: cancel them if they are not yours. */
  againstMe: RecoveryRequestView[];
  /** Requests the viewer made with their new key. */
  mine: RecoveryRequestView[];
}

const graphOf = (h: Harmony) => recoveryGraph(h.config.origin);
const json = (value: unknown) => literal(JSON.stringify(value), RDF_JSON);
const isOpen = (status: RecoveryStatus) => status === "pending" || status === "locked";

/** The request id of a path segment: a urn:uuid, or the bare UUID. */
export function requestIdOf(text: string): string {
  const id = text.startsWith("urn:uuid:") ? text : `urn:uuid:${text}`;
  if (!isUrnUuid(id)) throw notFound("there is no such recovery request");
  return id;
}

// ---- the community's time lock

export async function recoveryDelaySeconds(h: Harmony, q: Queryable = h.db): Promise<number> {
  const [row] = await quadStore.match(q, {
    graph: graphOf(h),
    subject: iri(h.iris.community),
    predicate: R.recoveryDelay,
  });
  return row ? Number(row.object.value) : h.config.recoveryDelaySeconds ?? DEFAULT_DELAY_SECONDS;
}

/** Admins set their community's time lock; it applies to requests locked afterwards. */
export async function setRecoveryDelay(h: Harmony, actor: Actor, seconds: unknown): Promise<number> {
  await requireRole(h, actor, "admin", "change the recovery time lock");
  if (
    typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < MIN_DELAY_SECONDS ||
    seconds > MAX_DELAY_SECONDS
  ) {
    throw invalid(
      "invalid_delay",
      `the recovery time lock is ${MIN_DELAY_SECONDS} to ${MAX_DELAY_SECONDS} seconds (1 hour to 30 days)`,
    );
  }
  await h.database.write((tx) =>
    quadStore.set(tx, graphOf(h), iri(h.iris.community), R.recoveryDelay, integer(seconds))
  );
  return seconds;
}

// ---- reading

function setupView(d: Description): RecoverySetupView {
  const document = JSON.parse(d.string(R.signedDocument)!) as SignedRecoverySetup;
  return {
    id: d.subject.value,
    member: d.string(AS.actor)!,
    guardians: document.guardians,
    threshold: d.number(R.threshold)!,
    published: d.string(AS.published)!,
    document,
  };
}

async function setupOf(q: Queryable, h: Harmony, did: string): Promise<RecoverySetupView | null> {
  const rows = await quadStore.match(q, { graph: graphOf(h), predicate: AS.actor, object: iri(did) });
  for (const row of rows) {
    const d = await describe(q, row.subject, graphOf(h));
    if (d.has(RDF.type, R.RecoverySetup)) return setupView(d);
  }
  return null;
}

function effectiveStatus(d: Description, now: number): RecoveryStatus {
  const status = d.string(R.recoveryStatus) as RecoveryStatus;
  if (status === "pending" && Date.parse(d.string(AS.published)!) + PENDING_TTL_MS <= now) return "expired";
  return status;
}

async function readRequest(
  q: Queryable,
  h: Harmony,
  id: string,
  now = Date.now(),
): Promise<RecoveryRequestView | null> {
  const g = graphOf(h);
  const d = await describe(q, iri(id), g);
  if (!d.has(RDF.type, R.RecoveryRequest)) return null;
  const approvals: RecoveryApprovalView[] = [];
  for (const row of await quadStore.match(q, { graph: g, predicate: R.request, object: iri(id) })) {
    const a = await describe(q, row.subject, g);
    approvals.push({
      guardian: a.string(AS.actor)!,
      published: a.string(AS.published)!,
      document: JSON.parse(a.string(R.signedDocument)!),
    });
  }
  approvals.sort((a, b) => a.published.localeCompare(b.published));
  // The guardians and threshold are those of the signed setup copied into the
  // request when it was opened; no other quad on the subject can lower them.
  const setup = JSON.parse(d.string(R.setupDocument)!) as SignedRecoverySetup;
  const cancellation = d.string(R.cancellation);
  const document = JSON.parse(d.string(R.signedDocument)!) as SignedRecoveryRequest;
  return {
    id,
    community: document.community,
    oldIdentity: d.string(R.oldIdentity)!,
    newIdentity: d.string(R.newIdentity)!,
    guardians: setup.guardians,
    threshold: setup.threshold,
    approvals,
    status: effectiveStatus(d, now),
    published: d.string(AS.published)!,
    lockedAt: d.string(R.lockedAt) ?? null,
    dueAt: d.string(R.dueAt) ?? null,
    closedAt: d.string(R.closedAt) ?? null,
    closeReason: d.string(R.closeReason) ?? null,
    document,
    cancellation: cancellation ? JSON.parse(cancellation) : null,
  };
}

async function requestsWhere(
  q: Queryable,
  h: Harmony,
  predicate: typeof R.oldIdentity,
  did: string,
): Promise<RecoveryRequestView[]> {
  const out: RecoveryRequestView[] = [];
  const seen = new Set<string>();
  for (const row of await quadStore.match(q, { graph: graphOf(h), predicate, object: iri(did) })) {
    if (seen.has(row.subject.value)) continue;
    seen.add(row.subject.value);
    const request = await readRequest(q, h, row.subject.value);
    if (request) out.push(request);
  }
  return out.sort((a, b) =>
    Number(isOpen(b.status)) - Number(isOpen(a.status)) || b.published.localeCompare(a.published)
  );
}

async function setStatus(
  tx: Tx,
  h: Harmony,
  id: string,
  status: RecoveryStatus,
  extra: Quad[] = [],
): Promise<void> {
  const g = graphOf(h);
  await quadStore.set(tx, g, iri(id), R.recoveryStatus, literal(status));
  await quadStore.insert(tx, extra);
}

function closing(h: Harmony, id: string, reason: string, now: number): Quad[] {
  const g = graphOf(h);
  return [
    quad(iri(id), R.closedAt, dateTime(new Date(now)), g),
    quad(iri(id), R.closeReason, literal(reason), g),
  ];
}

function requireSignedIn(actor: Actor, doing: string): string {
  if (!actor.did) throw unauthorized(`sign in to ${doing}`);
  return actor.did;
}

function checkCommunity(h: Harmony, community: string): void {
  if (community !== h.iris.community) {
    throw invalid("wrong_community", `the document is for ${community}, not ${h.iris.community}`);
  }
}

// ---- the member's setup

/**
 * Stores the guardians and threshold a member signed (replacing an older
 * setup). Its id must be one the server minted for this member's setups, not
 * used before (server/recovery/ids.ts).
 */
export async function setRecoverySetup(h: Harmony, actor: Actor, input: unknown): Promise<RecoverySetupView> {
  const doc = await verifySigned("RecoverySetup", input);
  const did = requireSignedIn(actor, "name recovery guardians");
  if (doc.actor !== did) throw forbidden("you can only name guardians for yourself");
  await requireRole(h, actor, "member", "name recovery guardians");
  checkCommunity(h, doc.community);
  checkClock(doc.published);
  const guardians = doc.guardians;
  if (guardians.length < 1 || guardians.length > MAX_GUARDIANS) {
    throw invalid("invalid_guardians", `name 1 to ${MAX_GUARDIANS} guardians`);
  }
  if (new Set(guardians).size !== guardians.length) {
    throw invalid("invalid_guardians", "a guardian is named twice");
  }
  if (guardians.includes(did)) throw invalid("invalid_guardians", "you cannot be your own guardian");
  if (doc.threshold < 1 || doc.threshold > guardians.length) {
    throw invalid("invalid_threshold", `the threshold must be from 1 to ${guardians.length} (the guardians)`);
  }
  await h.database.write(async (tx) => {
    const g = graphOf(h);
    const previous = await setupOf(tx, h, did);
    // The same document sent again (a retry) is already stored.
    if (previous && JSON.stringify(previous.document) === JSON.stringify(doc)) return;
    if (previous && Date.parse(previous.published) >= Date.parse(doc.published)) {
      throw conflict("stale_setup", "a newer recovery setup is already stored");
    }
    await requireFreshId(tx, h, "RecoverySetup", did, doc.id);
    if (previous) await quadStore.remove(tx, { graph: g, subject: iri(previous.id) });
    const subject = iri(doc.id);
    await quadStore.insert(tx, [
      quad(subject, RDF.type, R.RecoverySetup, g),
      quad(subject, AS.actor, iri(did), g),
      ...guardians.map((guardian) => quad(subject, R.guardian, iri(guardian), g)),
      quad(subject, R.threshold, integer(doc.threshold), g),
      quad(subject, AS.published, dateTime(doc.published), g),
      quad(subject, R.signedDocument, json(doc), g),
    ]);
  });
  return (await setupOf(h.db, h, did))!;
}

export function getRecoverySetup(h: Harmony, did: string): Promise<RecoverySetupView | null> {
  return setupOf(h.db, h, did);
}

// ---- requests

/**
 * The new key asks to take over `oldIdentity`'s place in the community,
 * under an id the server minted for the new key's requests. The request
 * keeps a copy of the setup in force now: its guardians and threshold.
 */
export async function openRecoveryRequest(
  h: Harmony,
  actor: Actor,
  input: unknown,
  now = Date.now(),
): Promise<RecoveryRequestView> {
  const doc = await verifySigned("RecoveryRequest", input);
  const did = requireSignedIn(actor, "ask for a recovery (with your new key)");
  if (doc.newIdentity !== did) {
    throw forbidden("sign the request with the new key you are signed in with");
  }
  checkCommunity(h, doc.community);
  checkClock(doc.published, now);
  if (doc.oldIdentity === doc.newIdentity) {
    throw invalid("same_identity", "the new identity must differ from the one you lost");
  }
  const { members } = await h.snapshot();
  if (!members.has(doc.oldIdentity)) {
    throw invalid("not_a_member", "that DID is not a member of this community; there is nothing to recover");
  }
  if (members.has(doc.newIdentity)) {
    throw conflict(
      "already_member",
      "your new identity is already a member here; recover to a new identity that is not",
    );
  }
  const g = graphOf(h);
  await h.database.write(async (tx) => {
    const existing = await readRequest(tx, h, doc.id, now);
    if (existing) {
      if (JSON.stringify(existing.document) === JSON.stringify(doc)) return;
      throw conflict("duplicate_request", "a recovery request with this id already exists");
    }
    await requireFreshId(tx, h, "RecoveryRequest", doc.newIdentity, doc.id);
    const setup = await setupOf(tx, h, doc.oldIdentity);
    if (!setup) {
      throw conflict(
        "no_recovery_setup",
        "that member named no guardians, so the community cannot recover their identity",
      );
    }
    const mine = await requestsWhere(tx, h, R.newIdentity, doc.newIdentity);
    if (mine.some((r) => isOpen(r.status))) {
      throw conflict("open_request", "your new identity already has an open recovery request");
    }
    const against = await requestsWhere(tx, h, R.oldIdentity, doc.oldIdentity);
    if (against.filter((r) => r.status === "pending").length >= MAX_PENDING_PER_IDENTITY) {
      throw new HarmonyError(
        429,
        "too_many_requests",
        "too many recovery requests for that identity are waiting; ask its guardians to look at them",
      );
    }
    const subject = iri(doc.id);
    await quadStore.insert(tx, [
      quad(subject, RDF.type, R.RecoveryRequest, g),
      quad(subject, R.oldIdentity, iri(doc.oldIdentity), g),
      quad(subject, R.newIdentity, iri(doc.newIdentity), g),
      // The guardians and threshold in force when the request was made.
      ...setup.guardians.map((guardian) => quad(subject, R.guardian, iri(guardian), g)),
      quad(subject, R.threshold, integer(setup.threshold), g),
      quad(subject, R.setupDocument, json(setup.document), g),
      quad(subject, R.recoveryStatus, literal("pending"), g),
      quad(subject, AS.published, dateTime(doc.published), g),
      quad(subject, R.signedDocument, json(doc), g),
    ]);
  });
  return (await readRequest(h.db, h, doc.id))!;
}

/** Whether `did` takes part in the request (and may read it). */
function concerns(request: RecoveryRequestView, did: string): boolean {
  return request.oldIdentity === did || request.newIdentity === did || request.guardians.includes(did);
}

export async function getRecoveryRequest(h: Harmony, actor: Actor, id: string): Promise<RecoveryRequestView> {
  const did = requireSignedIn(actor, "see recovery requests");
  const request = await readRequest(h.db, h, id);
  if (!request) throw notFound("there is no such recovery request");
  if (!concerns(request, did)) {
    const member = (await h.snapshot()).members.get(did);
    if (!member || !atLeast(member.role, "admin")) {
      throw forbidden("only the member, the new identity, the guardians and admins can see this request");
    }
  }
  return request;
}

/**
 * A guardian's signed approval. Approving twice counts once; the time lock
 * starts when the threshold of distinct guardians is reached.
 */
export async function approveRecovery(
  h: Harmony,
  actor: Actor,
  id: string,
  input: unknown,
  now = Date.now(),
): Promise<{ request: RecoveryRequestView; counted: boolean }> {
  const doc = await verifySigned("RecoveryApproval", input);
  const did = requireSignedIn(actor, "approve a recovery");
  if (doc.actor !== did) throw forbidden("sign the approval with the key you are signed in with");
  if (doc.request !== id) throw invalid("request_mismatch", "the approval names another request");
  checkCommunity(h, doc.community);
  checkClock(doc.published, now);
  const g = graphOf(h);
  const counted = await h.database.write(async (tx) => {
    const request = await readRequest(tx, h, id, now);
    if (!request) throw notFound("there is no such recovery request");
    if (doc.oldIdentity !== request.oldIdentity || doc.newIdentity !== request.newIdentity) {
      throw invalid("approval_mismatch", "the approval names other identities than the request");
    }
    if (!request.guardians.includes(did)) {
      throw new HarmonyError(403, "not_a_guardian", "you are not a guardian of this identity");
    }
    if (did === request.newIdentity) throw forbidden("the new identity cannot approve its own request");
    if (!isOpen(request.status)) {
      throw conflict("recovery_closed", `this recovery is ${request.status}; it takes no more approvals`);
    }
    if (request.approvals.some((a) => a.guardian === did)) return false;
    const approval = iri(newUrnUuid());
    await quadStore.insert(tx, [
      quad(approval, RDF.type, R.RecoveryApproval, g),
      quad(approval, R.request, iri(id), g),
      quad(approval, AS.actor, iri(did), g),
      quad(approval, AS.published, dateTime(doc.published), g),
      quad(approval, R.signedDocument, json(doc), g),
    ]);
    const distinct = new Set([...request.approvals.map((a) => a.guardian), did]).size;
    if (request.status === "pending" && distinct >= request.threshold) {
      const delay = await recoveryDelaySeconds(h, tx);
      await setStatus(tx, h, id, "locked", [
        quad(iri(id), R.lockedAt, dateTime(new Date(now)), g),
        quad(iri(id), R.dueAt, dateTime(new Date(now + delay * 1000)), g),
      ]);
    }
    return true;
  });
  recoveryHooks.locked?.(h);
  return { request: (await readRequest(h.db, h, id))!, counted };
}

/** The old key cancels a recovery before its time lock runs out. */
export async function cancelRecovery(
  h: Harmony,
  actor: Actor,
  id: string,
  input: unknown,
  now = Date.now(),
): Promise<RecoveryRequestView> {
  const doc = await verifySigned("RecoveryCancel", input);
  const did = requireSignedIn(actor, "cancel a recovery");
  if (doc.oldIdentity !== did) {
    throw forbidden("only the key of the identity being recovered can cancel the recovery");
  }
  if (doc.request !== id) throw invalid("request_mismatch", "the cancellation names another request");
  checkCommunity(h, doc.community);
  checkClock(doc.published, now);
  await h.database.write(async (tx) => {
    const request = await readRequest(tx, h, id, now);
    if (!request) throw notFound("there is no such recovery request");
    if (doc.oldIdentity !== request.oldIdentity || doc.newIdentity !== request.newIdentity) {
      throw invalid("cancel_mismatch", "the cancellation names other identities than the request");
    }
    if (!isOpen(request.status)) {
      throw conflict("recovery_closed", `this recovery is already ${request.status}`);
    }
    await setStatus(tx, h, id, "cancelled", [
      ...closing(h, id, "cancelled with the old key", now),
      quad(iri(id), R.cancellation, json(doc), graphOf(h)),
    ]);
  });
  return (await readRequest(h.db, h, id))!;
}

// ---- completion

class Skip extends Error {}
class NoLongerMember extends Error {}

/**
 * Moves the identities of every locked request whose time lock has run
 * out, and expires pending requests that never reached their threshold.
 * Safe to run from several timers or processes at once: each request is
 * re-checked inside the transaction that moves it.
 */
export async function completeDueRecoveries(h: Harmony, now = Date.now()): Promise<string[]> {
  const g = graphOf(h);
  const completed: string[] = [];
  const pending = await quadStore.match(h.db, {
    graph: g,
    predicate: R.recoveryStatus,
    object: literal("pending"),
  });
  for (const row of pending) {
    const request = await readRequest(h.db, h, row.subject.value, now);
    if (request?.status !== "expired") continue;
    await h.database.write(async (tx) => {
      const fresh = await readRequest(tx, h, request.id, now);
      if (fresh?.status !== "expired") return;
      await setStatus(
        tx,
        h,
        request.id,
        "expired",
        closing(h, request.id, "the threshold was not reached", now),
      );
    });
  }
  const locked = await quadStore.match(h.db, {
    graph: g,
    predicate: R.recoveryStatus,
    object: literal("locked"),
  });
  for (const row of locked) {
    const request = await readRequest(h.db, h, row.subject.value, now);
    if (!request || request.status !== "locked" || Date.parse(request.dueAt!) > now) continue;
    if (await completeOne(h, request, now)) completed.push(request.id);
  }
  return completed;
}

async function completeOne(h: Harmony, request: RecoveryRequestView, now: number): Promise<boolean> {
  const { id, oldIdentity, newIdentity } = request;
  try {
    await moveIdentity(h, oldIdentity, newIdentity, {
      before: async (tx) => {
        const fresh = await readRequest(tx, h, id, now);
        if (!fresh || fresh.status !== "locked" || Date.parse(fresh.dueAt!) > now) throw new Skip();
        const member = await quadStore.count(tx, {
          graph: h.iris.community,
          subject: iri(oldIdentity),
          predicate: RDF.type,
          object: H.Member,
        });
        if (member === 0) throw new NoLongerMember();
      },
      after: async (tx) => {
        await setStatus(tx, h, id, "completed", closing(h, id, "the identity moved", now));
        // Other open requests for the same identity have nothing left to move.
        for (const other of await requestsWhere(tx, h, R.oldIdentity, oldIdentity)) {
          if (other.id !== id && isOpen(other.status)) {
            await setStatus(
              tx,
              h,
              other.id,
              "superseded",
              closing(h, other.id, "another recovery completed", now),
            );
          }
        }
      },
    });
    return true;
  } catch (error) {
    if (error instanceof Skip) return false;
    if (error instanceof NoLongerMember) {
      await h.database.write((tx) =>
        setStatus(tx, h, id, "failed", closing(h, id, "the old identity is no longer a member", now))
      );
      return false;
    }
    throw error;
  }
}

/** The earliest time lock still running, if any (for the scheduler). */
export async function nextDue(h: Harmony): Promise<number | null> {
  const g = graphOf(h);
  let next: number | null = null;
  for (
    const row of await quadStore.match(h.db, {
      graph: g,
      predicate: R.recoveryStatus,
      object: literal("locked"),
    })
  ) {
    const [due] = await quadStore.match(h.db, { graph: g, subject: row.subject, predicate: R.dueAt });
    if (!due) continue;
    const t = Date.parse(due.object.value);
    if (next === null || t < next) next = t;
  }
  return next;
}

/** Set by the scheduler: told when a time lock starts, so it can wake up at its end. */
export const recoveryHooks: { locked?: (h: Harmony) => void } = {};

// ---- what the viewer sees

export async function recoveryOverview(h: Harmony, did: string): Promise<RecoveryOverview> {
  const g = graphOf(h);
  const guardianOf: RecoveryOverview["guardianOf"] = [];
  const guarding: RecoveryRequestView[] = [];
  for (const row of await quadStore.match(h.db, { graph: g, predicate: R.guardian, object: iri(did) })) {
    const d = await describe(h.db, row.subject, g);
    if (d.has(RDF.type, R.RecoverySetup)) {
      const setup = setupView(d);
      guardianOf.push({
        member: setup.member,
        threshold: setup.threshold,
        guardians: setup.guardians.length,
      });
    } else if (d.has(RDF.type, R.RecoveryRequest)) {
      const request = await readRequest(h.db, h, row.subject.value);
      if (request) guarding.push(request);
    }
  }
  guarding.sort((a, b) =>
    Number(isOpen(b.status)) - Number(isOpen(a.status)) || b.published.localeCompare(a.published)
  );
  return {
    did,
    delaySeconds: await recoveryDelaySeconds(h),
    setup: await setupOf(h.db, h, did),
    guardianOf,
    guarding,
    againstMe: await requestsWhere(h.db, h, R.oldIdentity, did),
    mine: await requestsWhere(h.db, h, R.newIdentity, did),
  };
}
