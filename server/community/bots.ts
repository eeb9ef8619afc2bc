/**
 * Bots a member registers. A bot is a DID that is not a member: it holds
 * only what its owner delegates to it (server/authority/holders.ts), shows
 * as the owner's bot in the member list and on its messages, and what it
 * does counts against its owner's limits (server/moderation/guard.ts). It
 * needs no admission of its own (its owner was admitted and answers for it),
 * but it is no way round admission either: nobody else can delegate to it,
 * it never holds the owner's own actions, and a member has at most
 * MAX_BOTS_PER_MEMBER of them.
 *
 * Registering needs two signatures: the owner's Action (`bot-register`,
 * the audit log's evidence) and the bot's own (`bot-consent`, naming its
 * owner), so nobody can pass off someone else's DID as their bot.
 *
 * Quads in the community graph, on the bot's DID: `rdf:type harmony:Bot`,
 * `harmony:botOf` (the owner), `as:name`, `as:published`, and
 * `harmony:botConsent` (the bot's signed consent). A registration stays
 * when its owner leaves, is kicked or banned, but gives nothing while the
 * owner is not a member. A bot that joins as a member stops being a bot.
 */
import type { Tx } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { dateTime, iri, literal, quad } from "../../db/terms.ts";
import { auditFor, recordAudit } from "../audit/log.ts";
import { allowed, authorize, outranks } from "../authority/authorize.ts";
import { revokeAllHeldBy, writeAuthority } from "../authority/grants.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { checkClock, verifySigned } from "../documents/signed.ts";
import { registerIdentityMover } from "../identity/move.ts";
import { moderationState, sanctionOn } from "../moderation/state.ts";
import { AS, H, RDF, RDF_JSON } from "../rdf/vocab.ts";
import { conflict, forbidden, HarmonyError, invalid, notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, BotInfo } from "../shared/model.ts";
import { cleanText } from "../shared/text.ts";
import { formatDuration } from "../shared/duration.ts";
import { shortDid } from "./snapshot.ts";

export const MAX_BOTS_PER_MEMBER = 10;

export interface BotListing extends BotInfo {
  /** The owner's display name. */
  ownerName: string;
}

const listings = new WeakMap<object, readonly BotListing[]>();

/** The registered bots of current members, by owner's name, then name (shared until the snapshot changes). */
export async function listBots(h: Harmony): Promise<readonly BotListing[]> {
  const snapshot = await h.snapshot();
  let listing = listings.get(snapshot);
  if (!listing) {
    const collator = new Intl.Collator();
    listing = Object.freeze(
      [...snapshot.bots.values()].map((bot) =>
        Object.freeze({
          ...bot,
          ownerName: snapshot.profiles.get(bot.owner)?.name || shortDid(bot.owner),
        })
      ).sort((a, b) => collator.compare(a.ownerName, b.ownerName) || collator.compare(a.name, b.name)),
    );
    listings.set(snapshot, listing);
  }
  return listing;
}

export interface BotRegistration {
  did?: unknown;
  name?: unknown;
  /** The owner's signed Action: `bot-register`, target the bot's DID, arguments `{name}`. */
  action?: unknown;
  /** The bot's signed Action: `bot-consent`, target the owner's DID. */
  consent?: unknown;
}

async function refuseIfSanctioned(h: Harmony, did: string, doing: string): Promise<void> {
  const sanction = sanctionOn(await moderationState(h), did);
  if (sanction?.kind === "timed_out") {
    throw new HarmonyError(
      403,
      "timed_out",
      `you are timed out and cannot ${doing} for another ${
        formatDuration(Date.parse(sanction.until) - Date.now())
      }`,
    );
  }
  if (sanction) throw new HarmonyError(403, "banned", "you are banned from this community");
}

/** The bot's consent: an Action it signed, recently, for this community, naming `owner`. */
async function checkConsent(h: Harmony, bot: string, owner: string, value: unknown) {
  if (value === undefined || value === null) {
    throw invalid(
      "missing_consent",
      'send the bot\'s own signed Action as "consent" (action "bot-consent", target: your DID)',
    );
  }
  const doc = await verifySigned("Action", value);
  if (doc.actor !== bot) throw invalid("wrong_consent", "the consent was not signed by the bot's DID");
  if (doc.action !== "bot-consent" || doc.target !== owner) {
    throw invalid("wrong_consent", 'the consent must be a "bot-consent" action naming you as its target');
  }
  if (doc.arguments?.community !== h.iris.community) {
    throw invalid("wrong_community", "the consent was signed for another community");
  }
  checkClock(doc.published);
  return doc;
}

/** Registers `input.did` as the actor's bot. */
export async function registerBot(h: Harmony, actor: Actor, input: BotRegistration): Promise<BotInfo> {
  if (!actor.did) throw unauthorized("sign in to register a bot");
  const owner = actor.did;
  const snapshot = await h.snapshot();
  if (!snapshot.members.has(owner)) {
    throw forbidden("only members can register bots; join the community first");
  }
  await refuseIfSanctioned(h, owner, "register bots");
  if (!isDidKey(input.did)) throw invalid("invalid_did", "a bot is a did:key");
  const did = input.did;
  const name = cleanText(input.name, { field: "bot name", max: 64 });
  if (did === owner) throw invalid("own_identity", "you cannot be your own bot");
  if (snapshot.members.has(did)) throw conflict("already_member", "that DID is a member, not a bot");
  const moderation = await moderationState(h);
  if (moderation.bans.has(did)) {
    throw new HarmonyError(403, "banned", "that DID is banned from this community");
  }
  if (moderation.joinsLocked) {
    throw forbidden("joining is locked for now, and so is registering bots; an admin must unlock it");
  }
  if (snapshot.bots.has(did)) throw conflict("bot_exists", "that DID is already a member's bot");
  const mine = [...snapshot.bots.values()].filter((b) => b.owner === owner).length;
  if (mine >= MAX_BOTS_PER_MEMBER) {
    throw conflict("too_many_bots", `a member can register at most ${MAX_BOTS_PER_MEMBER} bots`);
  }
  // A bot speaks for its owner: registering one takes the capability to post.
  const { capabilityId } = await authorize(h, actor, "post");
  const consent = await checkConsent(h, did, owner, input.consent);
  const audit = await auditFor(h, actor, input.action, {
    action: "bot-register",
    target: did,
    capability: capabilityId,
    arguments: { name },
  });
  const registered = new Date();
  await writeAuthority(h, async (tx) => {
    const g = h.iris.community;
    const s = iri(did);
    await recordAudit(tx, h, audit);
    // A registration left by a former member (who is not one now) is replaced.
    await quadStore.remove(tx, { graph: g, subject: s });
    await quadStore.insert(tx, [
      quad(s, RDF.type, H.Bot, g),
      quad(s, H.botOf, iri(owner), g),
      quad(s, AS.name, literal(name), g),
      quad(s, AS.published, dateTime(registered), g),
      quad(s, H.botConsent, literal(JSON.stringify(consent), RDF_JSON), g),
    ]);
  }, { signs: false });
  return { did, owner, name, registered: registered.toISOString() };
}

/** Removes a bot's registration and revokes everything it holds, in the caller's transaction. */
export async function dropBot(h: Harmony, tx: Tx, did: string, by: string): Promise<void> {
  await quadStore.remove(tx, {
    graph: h.iris.community,
    subject: iri(did),
    predicate: RDF.type,
    object: H.Bot,
  });
  for (const p of [H.botOf, AS.name, AS.published, H.botConsent]) {
    await quadStore.remove(tx, { graph: h.iris.community, subject: iri(did), predicate: p });
  }
  await revokeAllHeldBy(h, tx, did, by);
}

/**
 * Unregisters a bot: its owner may, and so may whoever may remove members
 * (`kick`) and outranks the owner. Everything the bot holds is revoked.
 */
export async function unregisterBot(h: Harmony, actor: Actor, did: string, signed?: unknown): Promise<void> {
  if (!actor.did) throw unauthorized("sign in to remove a bot");
  const bot = (await h.snapshot()).registeredBots.get(did);
  if (!bot) throw notFound("that DID is not a registered bot");
  // Its owner invokes what registered it (post); anyone else, kick.
  let capability = (await allowed(h, actor.did, "post"))?.capabilityId ?? null;
  if (bot.owner !== actor.did) {
    capability = (await authorize(h, actor, "kick")).capabilityId;
    if (!(await outranks(h, actor.did, bot.owner))) {
      throw forbidden("you can only remove the bots of members you outrank");
    }
  }
  const audit = await auditFor(h, actor, signed, { action: "bot-unregister", target: did, capability });
  await writeAuthority(h, async (tx) => {
    await recordAudit(tx, h, audit);
    await dropBot(h, tx, did, actor.did!);
  }, { signs: false });
}

/** A member's identity moves (social recovery): their bots are the new DID's. */
registerIdentityMover("bots", async (tx, h, from, to) => {
  const g = h.iris.community;
  for (const q of await quadStore.match(tx, { graph: g, predicate: H.botOf, object: iri(from) })) {
    await quadStore.set(tx, g, q.subject, H.botOf, iri(to));
  }
});
