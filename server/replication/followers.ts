/**
 * Fediverse followers of channels. Each follower is an entity in the
 * followers graph: which actor follows which channel, where to deliver,
 * the Follow being answered and the decision (pending, accepted,
 * rejected). Deciding is domain logic; sending the Accept or Reject is the
 * federation layer's job: a decision marks the entity "answer due", the
 * federation layer hands the answer to its outbound queue and clears the
 * mark, so a crash in between only means the answer is sent twice (with
 * the same id).
 *
 * Nobody from a blocked account or server (server/moderation/remoteBlocks.ts)
 * can follow; blocking one drops its followers (dropFollowers).
 *
 * Nothing here speaks ActivityPub.
 */
import { refuseBlocked } from "../moderation/remoteBlocks.ts";
import { authorize } from "../authority/authorize.ts";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Queryable, Tx } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { quads } from "../../db/schema.ts";
import { boolean, dateTime, iri, literal, type Quad, quad } from "../../db/terms.ts";
import { findChannel } from "../channels/channels.ts";
import { invalid, notFound } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { sha256Hex } from "../shared/ids.ts";
import type { Actor, ChannelInfo, FollowerInfo, FollowState } from "../shared/model.ts";

import { AS, H, LDP, RDF } from "../rdf/vocab.ts";

const stateIri = { pending: H.Pending, accepted: H.Accepted, rejected: H.Rejected };
const stateOf: Record<string, FollowState> = {
  [H.Pending.value]: "pending",
  [H.Accepted.value]: "accepted",
  [H.Rejected.value]: "rejected",
};

/** The key naming the answer to one Follow (its Accept or Reject). */
export async function answerKey(followId: string): Promise<string> {
  return (await sha256Hex(`follow\n${followId}`)).slice(0, 32);
}

const answerIri = (key: string) => `urn:harmony:answer:${key}`;

async function followerIri(h: Harmony, channel: ChannelInfo, actor: string): Promise<string> {
  return `${h.iris.followers}/${channel.id}/${(await sha256Hex(actor)).slice(0, 32)}`;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/** Reads follower entities: the quads of every subject matching `subjects` (a subquery). */
async function readFollowers(q: Queryable, graph: string, subjects: ReturnType<typeof subjectsWhere>) {
  const rows = await q.select().from(quads)
    .where(and(eq(quads.graph, graph), inArray(quads.subject, subjects)))
    .orderBy(asc(quads.id));
  const bySubject = new Map<string, Map<string, string>>();
  for (const row of rows) {
    let props = bySubject.get(row.subject);
    if (!props) bySubject.set(row.subject, props = new Map());
    props.set(row.predicate, row.object);
  }
  const out: FollowerInfo[] = [];
  for (const [subject, p] of bySubject) {
    if (p.get(RDF.type.value) !== H.Follower.value) continue;
    out.push({
      iri: subject,
      channel: p.get(H.channel.value) ?? "",
      actor: p.get(AS.actor.value) ?? "",
      inbox: p.get(LDP.inbox.value) ?? "",
      sharedInbox: p.get(AS.sharedInbox.value) ?? null,
      followId: p.get(H.followActivity.value) ?? "",
      state: stateOf[p.get(H.followState.value) ?? ""] ?? "pending",
      answer: (p.get(H.answer.value) ?? "").replace(/^urn:harmony:answer:/, ""),
      answerDue: p.get(H.answerDue.value) === "true",
      software: p.get(H.software.value) ?? null,
      since: p.get(AS.published.value) ?? "",
    });
  }
  return out.sort((a, b) => a.since.localeCompare(b.since) || a.actor.localeCompare(b.actor));
}

function subjectsWhere(q: Queryable, graph: string, predicate: string, object: string, subject?: string) {
  return q.select({ subject: quads.subject }).from(quads).where(
    subject === undefined
      ? sql`${quads.graph} = ${graph} and ${quads.predicate} = ${predicate} and ${quads.object} = ${object} and ${quads.objectKind} = 0`
      : sql`${quads.graph} = ${graph} and ${quads.subject} = ${subject} and ${quads.predicate} = ${predicate} and ${quads.object} = ${object} and ${quads.objectKind} = 0`,
  );
}

/** Every follower entity of a channel, in every state, oldest first. */
export async function channelFollowers(h: Harmony, channelIri: string): Promise<FollowerInfo[]> {
  const g = h.iris.followers;
  return await readFollowers(h.db, g, subjectsWhere(h.db, g, H.channel.value, channelIri));
}

/** One follower entity, by its IRI (without reading the channel's other followers). */
async function followerAt(h: Harmony, subject: string): Promise<FollowerInfo | undefined> {
  const g = h.iris.followers;
  const [found] = await readFollowers(
    h.db,
    g,
    subjectsWhere(h.db, g, RDF.type.value, H.Follower.value, subject),
  );
  return found;
}

/** The accepted followers of a channel: those its messages are delivered to. */
export async function acceptedFollowers(h: Harmony, channelIri: string): Promise<FollowerInfo[]> {
  return (await channelFollowers(h, channelIri)).filter((f) => f.state === "accepted");
}

/** The follower entity that an answer key names, if any. */
export async function followerByAnswer(h: Harmony, key: string): Promise<FollowerInfo | null> {
  const g = h.iris.followers;
  const [found] = await readFollowers(h.db, g, subjectsWhere(h.db, g, H.answer.value, answerIri(key)));
  return found ?? null;
}

/** Decisions whose Accept or Reject has not been handed to the outbound queue yet. */
export async function dueAnswers(h: Harmony): Promise<FollowerInfo[]> {
  const g = h.iris.followers;
  const due = h.db.select({ subject: quads.subject }).from(quads).where(
    sql`${quads.graph} = ${g} and ${quads.predicate} = ${H.answerDue.value} and ${quads.object} = 'true'`,
  );
  return (await readFollowers(h.db, g, due)).filter((f) => f.answerDue);
}

/** The answer to `followId` was queued: clear the mark (unless a newer Follow replaced it meanwhile). */
export async function answerQueued(h: Harmony, follower: FollowerInfo): Promise<void> {
  await h.database.write(async (tx) => {
    const subject = iri(follower.iri);
    const [current] = await quadStore.match(tx, {
      graph: h.iris.followers,
      subject,
      predicate: H.followActivity,
    });
    if (current?.object.value !== follower.followId) return;
    await quadStore.set(tx, h.iris.followers, subject, H.answerDue, boolean(false));
  });
}

export interface FollowRequest {
  channelIri: string;
  /** The follower's actor IRI. */
  actor: string;
  inbox: string;
  sharedInbox: string | null;
  /** The id of the Follow activity. */
  followId: string;
  /** The follower server's software name (NodeInfo), when known. */
  software: string | null;
}

async function writeFollower(
  h: Harmony,
  tx: Tx,
  subject: string,
  channel: ChannelInfo,
  values: Omit<FollowerInfo, "iri" | "channel" | "answer" | "answerDue"> & { answerDue: boolean },
): Promise<void> {
  const g = h.iris.followers;
  const s = iri(subject);
  await quadStore.remove(tx, { graph: g, subject: s });
  const items: Quad[] = [
    quad(s, RDF.type, H.Follower, g),
    quad(s, H.channel, iri(channel.iri), g),
    quad(s, AS.actor, iri(values.actor), g),
    quad(s, LDP.inbox, iri(values.inbox), g),
    quad(s, H.followActivity, iri(values.followId), g),
    quad(s, H.followState, stateIri[values.state], g),
    quad(s, H.answer, iri(answerIri(await answerKey(values.followId))), g),
    quad(s, H.answerDue, boolean(values.answerDue), g),
    quad(s, AS.published, dateTime(values.since), g),
  ];
  if (values.sharedInbox) items.push(quad(s, AS.sharedInbox, iri(values.sharedInbox), g));
  if (values.software) items.push(quad(s, H.software, literal(values.software), g));
  await quadStore.insert(tx, items);
}

/**
 * Records a Follow of a channel and decides it: a members-only channel
 * refuses; a channel that approves followers manually keeps it pending
 * (an actor already accepted stays accepted); otherwise it is accepted.
 * A new Follow from the same actor replaces the old one.
 */
export async function requestFollow(h: Harmony, request: FollowRequest): Promise<FollowerInfo> {
  const channel = await findChannel(h, request.channelIri);
  for (const value of [request.actor, request.inbox, request.followId]) {
    if (!isHttpUrl(value)) throw invalid("invalid_follow", `${value} is not an http(s) URL`);
  }
  if (request.sharedInbox !== null && !isHttpUrl(request.sharedInbox)) {
    throw invalid("invalid_follow", `${request.sharedInbox} is not an http(s) URL`);
  }
  for (const url of [request.actor, request.inbox, request.sharedInbox]) if (url) await refuseBlocked(h, url);
  const subject = await followerIri(h, channel, request.actor);
  await h.database.write(async (tx) => {
    const [previous] = await quadStore.match(tx, {
      graph: h.iris.followers,
      subject: iri(subject),
      predicate: H.followState,
    });
    const wasAccepted = previous?.object.value === H.Accepted.value;
    const state: FollowState = channel.visibility !== "public"
      ? "rejected"
      : channel.approveFollowers && !wasAccepted
      ? "pending"
      : "accepted";
    await writeFollower(h, tx, subject, channel, {
      actor: request.actor,
      inbox: request.inbox,
      sharedInbox: request.sharedInbox,
      followId: request.followId,
      software: request.software,
      state,
      answerDue: state !== "pending",
      since: new Date().toISOString(),
    });
  });
  h.hub.publishFollowers();
  return (await followerAt(h, subject))!;
}

/**
 * Undoes a follow: the follower entity goes. `followId`, when given, must
 * be the Follow being followed on (an Undo of an older Follow changes
 * nothing). Returns whether something was removed.
 */
export async function undoFollow(
  h: Harmony,
  channelIri: string,
  actor: string,
  followId: string | null,
): Promise<boolean> {
  let channel: ChannelInfo;
  try {
    channel = await findChannel(h, channelIri);
  } catch {
    return false;
  }
  const subject = iri(await followerIri(h, channel, actor));
  const removed = await h.database.write(async (tx) => {
    const [current] = await quadStore.match(tx, {
      graph: h.iris.followers,
      subject,
      predicate: H.followActivity,
    });
    if (!current || (followId !== null && current.object.value !== followId)) return false;
    await quadStore.remove(tx, { graph: h.iris.followers, subject });
    return true;
  });
  if (removed) h.hub.publishFollowers();
  return removed;
}

/** An actor that no longer exists (its server deleted it) follows nothing any more. */
export async function forgetFollowerActor(h: Harmony, actor: string): Promise<number> {
  const g = h.iris.followers;
  const removed = await h.database.write(async (tx) => {
    const found = await quadStore.match(tx, { graph: g, predicate: AS.actor, object: iri(actor) });
    for (const q of found) await quadStore.remove(tx, { graph: g, subject: q.subject });
    return found.length;
  });
  if (removed) h.hub.publishFollowers();
  return removed;
}

/**
 * Drops every follower (accepted or pending, of any channel) for which
 * `blocked(actor, inbox, sharedInbox)` holds, in the caller's transaction
 * (a block's); returns how many. Call `h.hub.publishFollowers()` after the
 * commit. Nothing is sent to them.
 */
export async function dropFollowers(
  h: Harmony,
  tx: Tx,
  blocked: (urls: Array<string | null>) => boolean,
): Promise<number> {
  const g = h.iris.followers;
  const all = await readFollowers(tx, g, subjectsWhere(tx, g, RDF.type.value, H.Follower.value));
  let dropped = 0;
  for (const f of all) {
    if (!blocked([f.actor, f.inbox, f.sharedInbox])) continue;
    await quadStore.remove(tx, { graph: g, subject: iri(f.iri) });
    dropped++;
  }
  return dropped;
}

async function decide(
  h: Harmony,
  actor: Actor,
  channelId: string,
  followerActor: unknown,
  decision: "accepted" | "rejected",
): Promise<FollowerInfo> {
  await authorize(h, actor, "manage-followers");
  const channel = await findChannel(h, channelId);
  if (typeof followerActor !== "string" || !isHttpUrl(followerActor)) {
    throw invalid("invalid_actor", "actor must be the follower's actor IRI");
  }
  const subject = await followerIri(h, channel, followerActor);
  const current = await followerAt(h, subject);
  if (!current) throw notFound("this actor has not asked to follow the channel");
  if (decision === "accepted" && current.state !== "pending") {
    if (current.state === "accepted") return current;
    throw invalid("not_pending", "this follow request was already refused");
  }
  if (decision === "accepted" && channel.visibility !== "public") {
    throw invalid("members_only", `#${channel.name} is for members only; it cannot have fediverse followers`);
  }
  if (decision === "rejected" && current.state === "rejected") return current;
  await h.database.write(async (tx) => {
    await writeFollower(h, tx, subject, channel, { ...current, state: decision, answerDue: true });
  });
  h.hub.publishFollowers();
  return (await followerAt(h, subject))!;
}

/** An admin accepts a pending follow request. */
export function approveFollower(
  h: Harmony,
  actor: Actor,
  channelId: string,
  followerActor: unknown,
): Promise<FollowerInfo> {
  return decide(h, actor, channelId, followerActor, "accepted");
}

/** An admin refuses a follow request, or removes an accepted follower. */
export function rejectFollower(
  h: Harmony,
  actor: Actor,
  channelId: string,
  followerActor: unknown,
): Promise<FollowerInfo> {
  return decide(h, actor, channelId, followerActor, "rejected");
}

/** The followers and pending requests of a channel, for its admins. */
export async function followRequests(
  h: Harmony,
  actor: Actor,
  channelId: string,
): Promise<{ followers: FollowerInfo[]; pending: FollowerInfo[] }> {
  await authorize(h, actor, "manage-followers");
  const channel = await findChannel(h, channelId);
  const all = await channelFollowers(h, channel.iri);
  return {
    followers: all.filter((f) => f.state === "accepted"),
    pending: all.filter((f) => f.state === "pending"),
  };
}
