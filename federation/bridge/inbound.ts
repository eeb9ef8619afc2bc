/**
 * A channel inbox as a bridge: a POST that carries a capability invocation
 * is answered here, before Fedify sees it. It is accepted only when the
 * capability chain verifies up to our community's root for exactly this
 * inbox, the action is allowed, nothing in the chain is expired or
 * revoked, the invocation is fresh and not a replay, and the operation
 * passes the checks every peer operation passes, in a delivery or a Sync
 * answer alike (server/replication/admission.ts: envelope, origin, author
 * signature, authority). Anything else is refused with a status and a
 * reason, is logged (a refused operation of a verified peer also in
 * bridge_refusals), and stores nothing.
 */
import type { Context, MiddlewareHandler } from "hono";
import { lt } from "drizzle-orm";
import { seenInvocations } from "../../db/schema.ts";
import { bridgeState, chainRevoked } from "../../server/replication/bridges.ts";
import { findChannel } from "../../server/channels/channels.ts";
import { communityKey } from "../../server/capabilities/communityKey.ts";
import { verifyInvocation } from "../../server/capabilities/zcap.ts";
import { HarmonyError } from "../../server/shared/errors.ts";
import type { Harmony } from "../../server/harmony.ts";
import { opsSince, versionVector } from "../../server/replication/sync.ts";
import { admitPeerOp } from "../../server/replication/admission.ts";
import { recordRefusal, refusedOpId } from "../../server/replication/refusals.ts";
import { relayPathFor } from "../../server/replication/relays.ts";
import type { AppEnv } from "../../server/http/env.ts";
import { actionOf, kindOfActivityType } from "./activity.ts";
import type { PeerKeys } from "./peers.ts";

/** How old (or early) an invocation may be; seen proofs are remembered this long. */
export const FRESHNESS_SECONDS = 300;

const inboxPath = /^\/ap\/actors\/([a-z2-7]{10})\/inbox$/;

function refuse(c: Context, status: 400 | 401 | 403 | 404 | 409 | 413 | 422, code: string, message: string) {
  return c.json({ error: code, message }, status);
}

function hasInvocationProof(body: unknown): boolean {
  const proof = (body as { proof?: unknown })?.proof;
  const proofs = Array.isArray(proof) ? proof : [proof];
  return proofs.some((p) => (p as { proofPurpose?: unknown })?.proofPurpose === "capabilityInvocation");
}

const SWEEP_MS = 60_000;
const lastSweep = new WeakMap<Harmony, number>();

/**
 * Remembers a Sync invocation's proof; false when it was already seen (a
 * replay). (Operations record theirs with the operation, in one write.)
 */
async function firstSighting(h: Harmony, proofValue: string, expires: number): Promise<boolean> {
  const now = Date.now();
  const sweep = now - (lastSweep.get(h) ?? 0) > SWEEP_MS;
  if (sweep) lastSweep.set(h, now);
  return await h.database.write(async (tx) => {
    // Proofs past their freshness can never be accepted again: forget them now and then.
    if (sweep) await tx.delete(seenInvocations).where(lt(seenInvocations.expires, now));
    const inserted = await tx.insert(seenInvocations).values({ proofValue, expires }).onConflictDoNothing();
    return inserted.rowsAffected === 1;
  });
}

export function bridgeInbox(h: Harmony, peers: PeerKeys): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const match = c.req.method === "POST" ? inboxPath.exec(c.req.path) : null;
    if (!match) return await next();
    let body: Record<string, unknown>;
    try {
      // The body streams through the app's limit (MAX_INBOX_BYTES, server/http/limits.ts): past it the
      // read fails here, and whatever Fedify answers then, the limit layer answers 413.
      body = JSON.parse(await c.req.raw.clone().text());
    } catch {
      return await next(); // not JSON: Fedify answers that
    }
    if (!hasInvocationProof(body)) return await next();
    try {
      return await handle(c, h, peers, match[1], body);
    } catch (error) {
      if (error instanceof HarmonyError) {
        console.warn(`bridge: refused ${String(body.type)} from ${String(body.actor)}: ${error.message}`);
        return refuse(c, error.status as 401, error.code, error.message);
      }
      throw error;
    }
  };
}

async function handle(
  c: Context,
  h: Harmony,
  peers: PeerKeys,
  channelId: string,
  body: Record<string, unknown>,
) {
  const noSuchChannel = () => new HarmonyError(404, "not_found", "there is no such channel here");
  const channel = await findChannel(h, channelId).catch(() => null);
  if (!channel) throw noSuchChannel();
  // Until the invocation verifies, a members-only channel answers as a missing one would.
  const unverified = (error: HarmonyError) => {
    if (channel.visibility === "public") return error;
    console.warn(`bridge: refused ${String(body.type)} at members-only ${channel.id}: ${error.message}`);
    return noSuchChannel();
  };
  const action = actionOf[String(body.type)];
  if (!action) {
    throw unverified(
      new HarmonyError(
        422,
        "unsupported_activity",
        `a bridge does not carry ${String(body.type)} activities`,
      ),
    );
  }
  const target = h.iris.channelInbox(channel.id);
  const community = await communityKey(h);
  const result = await verifyInvocation(body, {
    expectedTarget: target,
    expectedAction: action,
    rootControllerOf: (t: string) => (t === target ? community.did : null),
    isRevoked: async (ids: string[]) => (await chainRevoked(h, ids, channel.iri)) !== null,
    resolveHttpsController: (url: string) => peers.resolve(url),
    freshnessSeconds: FRESHNESS_SECONDS,
  });
  if (!result.verified) {
    throw unverified(
      new HarmonyError(
        result.status,
        result.status === 401 ? "invalid_invocation" : "capability_refused",
        result.reason,
      ),
    );
  }
  if (body.actor !== result.invoker) {
    throw unverified(
      new HarmonyError(
        401,
        "invalid_invocation",
        "the activity's actor is not the one who invoked the capability",
      ),
    );
  }
  const invocation = {
    proofValue: result.proofValue,
    expires: Math.max(Date.parse(result.created), Date.now()) + 2 * FRESHNESS_SECONDS * 1000,
  };

  if (action === "sync") {
    if (!(await firstSighting(h, invocation.proofValue, invocation.expires))) {
      throw new HarmonyError(
        401,
        "replayed_invocation",
        "this invocation was already used; each delivery must be signed anew",
      );
    }
    const request = (body.object ?? {}) as { versionVector?: unknown; after?: unknown };
    const vector = request.versionVector;
    if (typeof vector !== "object" || vector === null || Array.isArray(vector)) {
      throw new HarmonyError(422, "malformed_activity", "a Sync carries the requester's versionVector");
    }
    const after = request.after as { origin?: unknown; seq?: unknown } | null | undefined;
    const page = await opsSince(h.db, channel.iri, vector as Record<string, number>, {
      after: after && typeof after.origin === "string" && Number.isSafeInteger(after.seq)
        ? { origin: after.origin, seq: after.seq as number }
        : null,
    });
    // Operations relayed from further channels come with the proof that those are bridged here.
    const relays: Record<string, unknown[]> = {};
    const requester = new URL(result.invoker).origin;
    for (const { envelope, document } of page.ops) {
      if (envelope.origin === h.config.origin || envelope.origin === requester) continue;
      const foreign = (document as { channel: string }).channel;
      if (foreign in relays) continue;
      const path = await relayPathFor(h, channel.iri, foreign);
      if (path) relays[foreign] = path;
    }
    return c.json({ ...page, relays, versionVector: await versionVector(h.db, channel.iri) });
  }

  const kind = kindOfActivityType[String(body.type)];
  if (!kind) {
    throw new HarmonyError(
      422,
      "malformed_activity",
      `a bridge does not carry ${String(body.type)} activities`,
    );
  }
  const grant = (await bridgeState(h)).grants.find((g) => g.id === result.chainIds[1])!;
  const document = body.object;
  try {
    const submission = await admitPeerOp(
      h,
      { envelope: body.envelope, document, authority: body.authority, relay: body.relay },
      { channel, peer: result.invoker, grant, directory: peers, kind },
    );
    const outcome = await h.ops.submit({ ...submission, invocation });
    return c.json({ status: outcome.status, id: outcome.opId }, outcome.status === "duplicate" ? 200 : 202);
  } catch (error) {
    // The peer is known now: what it sent and why it was refused is kept for the admins.
    if (error instanceof HarmonyError && error.status !== 503) {
      const envelope = body.envelope as { origin?: unknown } | undefined;
      await recordRefusal(h, {
        peer: result.invoker,
        channel: channel.iri,
        via: "inbox",
        kind,
        opId: await refusedOpId(document),
        origin: typeof envelope?.origin === "string" ? envelope.origin : "",
        code: error.code,
        reason: error.message,
      });
    }
    throw error;
  }
}
