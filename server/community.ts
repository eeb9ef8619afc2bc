import { eq } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { quadStore } from "../db/quadstore.ts";
import { instanceState } from "../db/schema.ts";
import { boolean, dateTime, integer, iri, literal, quad } from "../db/terms.ts";
import { badRequest, conflict, invalid, notFound, unauthorized } from "./errors.ts";
import type { Harmony } from "./harmony.ts";
import { ConfigError } from "./config.ts";
import { randomToken, sha256Hex, shortId } from "./ids.ts";
import type { Actor, CommunityInfo } from "./model.ts";
import { requireRole } from "./permissions.ts";
import { AS, H, RDF } from "./vocab.ts";
import { cleanText } from "./text.ts";

const CLAIM_KEY = "claim_token_sha256";
const ORIGIN_KEY = "origin";

/**
 * Every IRI embeds the origin, so a database belongs to one origin. Starting
 * it under another would silently show an empty new community instead.
 */
async function checkOrigin(h: Harmony): Promise<void> {
  const [row] = await h.db.select().from(instanceState).where(eq(instanceState.key, ORIGIN_KEY));
  if (row && row.value !== h.config.origin) {
    throw new ConfigError(
      `this database belongs to ${row.value}, not ${h.config.origin}: set HARMONY_ORIGIN=${row.value} ` +
        `(and PORT) to serve it`,
    );
  }
  if (!row) {
    const hasCommunity = (await quadStore.count(h.db, { predicate: RDF.type, object: H.Community })) > 0;
    const existing = hasCommunity
      ? (await quadStore.match(h.db, { predicate: RDF.type, object: H.Community }))[0].subject.value
      : null;
    if (existing && existing !== h.iris.community) {
      throw new ConfigError(`this database holds the community ${existing}, not one at ${h.config.origin}`);
    }
    await h.database.write((tx) =>
      tx.insert(instanceState).values({ key: ORIGIN_KEY, value: h.config.origin })
    );
  }
}

export async function getCommunity(h: Harmony): Promise<CommunityInfo> {
  const { community } = await h.snapshot();
  if (!community) throw notFound("this instance has no community yet");
  return community;
}

export async function addMember(
  h: Harmony,
  tx: Tx,
  did: string,
  role: typeof H.Owner,
  now: Date,
): Promise<void> {
  const g = h.iris.community;
  await quadStore.insert(tx, [
    quad(iri(did), RDF.type, H.Member, g),
    quad(iri(did), H.memberOf, iri(h.iris.community), g),
    quad(iri(did), H.role, role, g),
    quad(iri(did), H.joined, dateTime(now), g),
  ]);
}

/**
 * First start: creates the community with a public #general channel.
 * Returns a one-time claim token when no owner exists yet.
 */
export async function bootstrap(h: Harmony): Promise<{ claimToken: string | null }> {
  await checkOrigin(h);
  const existing = await quadStore.count(h.db, {
    subject: iri(h.iris.community),
    predicate: RDF.type,
  });
  const owner = h.config.ownerDid;
  if (existing === 0) {
    await h.writeCommunity(async (tx) => {
      const g = h.iris.community;
      const community = iri(h.iris.community);
      const general = iri(h.iris.channel(shortId()));
      await quadStore.insert(tx, [
        quad(community, RDF.type, H.Community, g),
        quad(community, AS.name, literal("Harmony"), g),
        quad(community, H.openJoin, boolean(false), g),
        quad(general, RDF.type, H.Channel, g),
        quad(general, H.community, community, g),
        quad(general, AS.name, literal("general"), g),
        quad(general, AS.summary, literal("Say hello"), g),
        quad(general, H.position, integer(0), g),
        quad(general, H.visibility, H.Public, g),
      ]);
    });
  }
  if (owner && !(await getCommunity(h)).owner) {
    // HARMONY_OWNER names the owner of an instance nobody has claimed yet.
    await h.writeCommunity(async (tx) => {
      const g = h.iris.community;
      await quadStore.insert(tx, [quad(iri(h.iris.community), H.owner, iri(owner), g)]);
      await quadStore.remove(tx, { graph: g, subject: iri(owner) });
      await addMember(h, tx, owner, H.Owner, new Date());
    });
  }
  const { owner: current } = await getCommunity(h);
  if (current) {
    await h.database.write((tx) => tx.delete(instanceState).where(eq(instanceState.key, CLAIM_KEY)));
    return { claimToken: null };
  }
  // A new token on every start while unclaimed: an old printed URL stops working.
  const token = randomToken();
  const hash = await sha256Hex(token);
  await h.database.write((tx) =>
    tx.insert(instanceState).values({ key: CLAIM_KEY, value: hash }).onConflictDoUpdate({
      target: instanceState.key,
      set: { value: hash },
    })
  );
  return { claimToken: token };
}

export function claimUrl(h: Harmony, token: string): string {
  return `${h.config.origin}/claim/${token}`;
}

/** Makes `actor` the owner if `token` is the live claim token. */
export async function claim(h: Harmony, actor: Actor, token: string): Promise<void> {
  if (!actor.did) throw unauthorized("sign in before claiming the instance");
  const did = actor.did;
  const hash = await sha256Hex(token);
  await h.writeCommunity(async (tx) => {
    const [row] = await tx.select().from(instanceState).where(eq(instanceState.key, CLAIM_KEY));
    if (!row) throw conflict("already_claimed", "this instance already has an owner");
    if (row.value !== hash) throw badRequest("invalid_claim", "this claim link is not valid");
    const g = h.iris.community;
    await quadStore.insert(tx, [quad(iri(h.iris.community), H.owner, iri(did), g)]);
    await quadStore.remove(tx, { graph: g, subject: iri(did) });
    await addMember(h, tx, did, H.Owner, new Date());
    await tx.delete(instanceState).where(eq(instanceState.key, CLAIM_KEY));
  });
}

/** Whether `token` is the live claim token. */
export async function isClaimable(h: Harmony, token: string): Promise<boolean> {
  const [row] = await h.db.select().from(instanceState).where(eq(instanceState.key, CLAIM_KEY));
  return Boolean(row) && row.value === await sha256Hex(token);
}

export interface CommunityUpdate {
  name?: string;
  openJoin?: boolean;
}

export async function updateCommunity(h: Harmony, actor: Actor, update: CommunityUpdate) {
  await requireRole(h, actor, "admin", "change the community's settings");
  const name = update.name === undefined
    ? undefined
    : cleanText(update.name, { field: "community name", max: 100 });
  if (update.openJoin !== undefined && typeof update.openJoin !== "boolean") {
    throw invalid("invalid_open_join", "openJoin must be true or false");
  }
  await h.writeCommunity(async (tx) => {
    const g = h.iris.community;
    const community = iri(h.iris.community);
    if (name !== undefined) await quadStore.set(tx, g, community, AS.name, literal(name));
    if (update.openJoin !== undefined) {
      await quadStore.set(tx, g, community, H.openJoin, boolean(update.openJoin));
    }
  });
  return await getCommunity(h);
}
