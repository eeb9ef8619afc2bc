import { authorize } from "../authority/authorize.ts";
import { eq } from "drizzle-orm";
import type { Tx } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { instanceState } from "../../db/schema.ts";
import { dateTime, integer, iri, literal, quad } from "../../db/terms.ts";
import { badRequest, conflict, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { ConfigError } from "../config.ts";
import { communityKey } from "../capabilities/communityKey.ts";
import { grantOwnership, ownerCapability, upgradeRootGrants, writeAuthority } from "../authority/grants.ts";
import { ensureBuiltInRoles } from "../authority/store.ts";
import { randomToken, sha256Hex, shortId } from "../shared/ids.ts";
import type { Actor, AdmissionPolicy, CommunityInfo } from "../shared/model.ts";
import { migrateAdmission, parseAdmission, writeAdmission } from "../credentials/admission.ts";
import { issueMembershipCredential, issueRoleCredential } from "../credentials/issue.ts";

import { AS, H, RDF } from "../rdf/vocab.ts";
import { cleanText } from "../shared/text.ts";

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
        quad(community, H.admission, H.InviteAdmission, g),
        quad(general, RDF.type, H.Channel, g),
        quad(general, H.community, community, g),
        quad(general, AS.name, literal("general"), g),
        quad(general, AS.summary, literal("Say hello"), g),
        quad(general, H.position, integer(0), g),
        quad(general, H.visibility, H.Public, g),
      ]);
    });
  }
  // The community key signs capabilities: make sure it exists before any transaction needs it.
  await communityKey(h);
  await writeAuthority(h, (tx) => ensureBuiltInRoles(h, tx), { signs: false });
  // Root grants made before a release added actions to the owner's or the member role.
  await upgradeRootGrants(h);
  await migrateAdmission(h);
  if (owner && !(await getCommunity(h)).owner) {
    // HARMONY_OWNER names the owner of an instance nobody has claimed yet.
    const capability = await ownerCapability(h, owner);
    await writeAuthority(h, async (tx) => {
      await grantOwnership(h, tx, capability);
      const g = h.iris.community;
      await quadStore.insert(tx, [quad(iri(h.iris.community), H.owner, iri(owner), g)]);
      await quadStore.remove(tx, { graph: g, subject: iri(owner) });
      await addMember(h, tx, owner, H.Owner, new Date());
      await issueMembershipCredential(tx, h, owner);
      await issueRoleCredential(tx, h, owner, "owner");
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
  const capability = await ownerCapability(h, did);
  await writeAuthority(h, async (tx) => {
    const [row] = await tx.select().from(instanceState).where(eq(instanceState.key, CLAIM_KEY));
    if (!row) throw conflict("already_claimed", "this instance already has an owner");
    if (row.value !== hash) throw badRequest("invalid_claim", "this claim link is not valid");
    const g = h.iris.community;
    await quadStore.insert(tx, [quad(iri(h.iris.community), H.owner, iri(did), g)]);
    await quadStore.remove(tx, { graph: g, subject: iri(did) });
    await addMember(h, tx, did, H.Owner, new Date());
    await issueMembershipCredential(tx, h, did);
    await issueRoleCredential(tx, h, did, "owner");
    await tx.delete(instanceState).where(eq(instanceState.key, CLAIM_KEY));
    await grantOwnership(h, tx, capability);
  });
}

/** Whether `token` is the live claim token. */
export async function isClaimable(h: Harmony, token: string): Promise<boolean> {
  const [row] = await h.db.select().from(instanceState).where(eq(instanceState.key, CLAIM_KEY));
  return Boolean(row) && row.value === await sha256Hex(token);
}

export interface CommunityUpdate {
  name?: string;
  /** Kept for older clients: true is the "open" policy, false "invite". */
  openJoin?: boolean;
  /** The admission policy (server/credentials/admission.ts parseAdmission). */
  admission?: unknown;
}

export async function updateCommunity(h: Harmony, actor: Actor, update: CommunityUpdate) {
  await authorize(h, actor, "manage-community");
  const name = update.name === undefined
    ? undefined
    : cleanText(update.name, { field: "community name", max: 100 });
  if (update.openJoin !== undefined && typeof update.openJoin !== "boolean") {
    throw invalid("invalid_open_join", "openJoin must be true or false");
  }
  let admission = update.admission === undefined ? undefined : parseAdmission(update.admission);
  if (update.openJoin !== undefined) {
    const implied: AdmissionPolicy = { policy: update.openJoin ? "open" : "invite" };
    if (admission && admission.policy !== implied.policy) {
      throw invalid(
        "conflicting_admission",
        "openJoin and admission say different things; send admission only",
      );
    }
    admission ??= implied;
  }
  await h.writeCommunity(async (tx) => {
    const g = h.iris.community;
    const community = iri(h.iris.community);
    if (name !== undefined) await quadStore.set(tx, g, community, AS.name, literal(name));
    if (admission !== undefined) await writeAdmission(tx, h, admission);
  });
  return await getCommunity(h);
}
