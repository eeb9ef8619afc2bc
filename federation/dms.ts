/**
 * Direct messages between Harmony instances (FEDERATION.md, "Direct
 * messages"). A DM to a member of another Harmony instance travels as a
 * `Create` from our instance actor, addressed only to the recipient's
 * actor, whose object is a Harmony `EncryptedMessage` carrying nothing but
 * the member-signed ciphertext envelope (server/dms/crypto.ts). The request
 * is signed with the instance actor's RSA key (HTTP Signatures, as Fedify
 * signs and checks them). It is only ever sent to an actor that is a
 * member actor of a Harmony instance (NodeInfo software "harmony", a
 * Person whose alsoKnownAs holds the recipient's did:key).
 *
 * Receiving: Fedify checks the HTTP signature and that the signer owns the
 * activity's actor; then `withDms` takes Creates of EncryptedMessage
 * before the Note handling: the envelope's signature must verify against
 * its sender's did:key, the sender's actor (the object's attributedTo, on
 * the same server as the activity's actor) must list that did:key in
 * alsoKnownAs, and the recipient must be a member here.
 */
import type { Context, InboxContext, KvStore } from "@fedify/fedify";
import { signRequest } from "@fedify/fedify";
import { type Create, Person } from "@fedify/vocab";
import { isDidKey } from "../server/crypto/didkey.ts";
import type { EncryptedMessage } from "../server/dms/crypto.ts";
import { type DmTransport, receiveRemoteDm, type RemoteMember } from "../server/dms/service.ts";
import { HarmonyError, invalid } from "../server/shared/errors.ts";
import { refuseBlocked, remoteBlockOf } from "../server/moderation/remoteBlocks.ts";
import type { Harmony } from "../server/harmony.ts";
import { HARMONY_NS } from "../server/rdf/vocab.ts";
import type { HarmonyFederation } from "./federation.ts";
import { actorKeys, rsaKeyId } from "./keys.ts";
import { SqlMessageQueue } from "./queue.ts";
import { withOutbound } from "../server/net/outbound.ts";
import { softwareOf } from "./software.ts";
import { actorUri, INSTANCE, memberIdentifier } from "./uris.ts";

/**
 * The terms the activity uses beyond ActivityStreams, inline (the same
 * IRIs as the Harmony context at /ns/v1): receivers need not fetch a
 * context to read it.
 */
export const DM_ACTIVITY_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  {
    harmony: HARMONY_NS,
    EncryptedMessage: "harmony:EncryptedMessage",
    dmEnvelope: { "@id": "harmony:dmEnvelope", "@type": "@json" },
  },
];

const MAX_ATTEMPTS = 8;

interface DeliveryJob {
  envelope: EncryptedMessage;
  inbox: string;
  actor: string;
  attempt: number;
}

/** The Create activity that carries an envelope from our instance to a remote member. */
export function dmActivity(origin: string, envelope: EncryptedMessage, to: string): Record<string, unknown> {
  const key = envelope.id.replace(/^urn:uuid:/, "");
  const object = `${origin}/ap/dms/${key}`;
  return {
    "@context": DM_ACTIVITY_CONTEXT,
    id: `${object}/create`,
    type: "Create",
    actor: actorUri(origin, INSTANCE),
    to: [to],
    published: envelope.published,
    object: {
      id: object,
      type: ["Object", "EncryptedMessage"],
      attributedTo: actorUri(origin, memberIdentifier(envelope.attributedTo)),
      to: [to],
      published: envelope.published,
      dmEnvelope: envelope,
    },
  };
}

function isDmObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return (Array.isArray(type) ? type : [type]).includes("EncryptedMessage");
}

/** The did:key a member actor is also known as, and its inbox; null if it is not such an actor. */
function memberOfActor(actor: unknown, url: string): { did: string; inbox: string } | null {
  if (!(actor instanceof Person) || actor.id?.href !== url || !actor.inboxId) return null;
  const did = actor.aliasIds.map((a) => a.href).find(isDidKey);
  return did ? { did, inbox: actor.inboxId.href } : null;
}

type AnyContext = Context<void>;

async function lookupMember(
  h: Harmony,
  ctx: AnyContext,
  kv: KvStore,
  url: string,
): Promise<RemoteMember & { inbox: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid("invalid_actor", "actor must be an http(s) URL");
  }
  if (parsed.origin === h.config.origin) {
    throw invalid("not_remote", "that actor lives on this instance; write to the member directly");
  }
  await refuseBlocked(h, parsed.href);
  const software = await softwareOf(kv, parsed.origin, {
    outbound: h.outbound,
    userAgent: "Harmony",
  });
  if (software !== "harmony") {
    throw invalid(
      "not_harmony",
      "direct messages go only to members of Harmony instances (that server is not one, or cannot be reached)",
    );
  }
  const actor = await ctx.lookupObject(url).catch(() => null);
  const member = memberOfActor(actor, url);
  if (!member) {
    throw invalid(
      "not_a_member_actor",
      "that URL is not a Harmony member's actor (no did:key in alsoKnownAs)",
    );
  }
  return { did: member.did, actor: url, inbox: member.inbox };
}

export interface DmFederation {
  /** How server/dms reaches other instances (installed by the federation gate). */
  transport: DmTransport;
  start(): void;
  close(): Promise<void>;
}

/** The DM transport to other instances, and the durable delivery queue behind it. */
export function registerDms(
  federation: HarmonyFederation,
  h: Harmony,
  kv: KvStore,
  log: (message: string, error?: unknown) => void,
): DmFederation {
  const queue = new SqlMessageQueue(h.database, "dms", { workers: 2, log });
  const context = () => federation.createContext(new URL(h.config.origin), undefined);
  const inboxes = new Map<string, string>();

  // Called from API requests: what Fedify fetches for them is held to the outbound policy.
  const transport: DmTransport = {
    resolveMember: (url) =>
      withOutbound(h.outbound, async () => {
        const member = await lookupMember(h, context(), kv, url);
        inboxes.set(url, member.inbox);
        return { did: member.did, actor: member.actor };
      }),
    deliver: (envelope, to) =>
      withOutbound(h.outbound, async () => {
        const inbox = inboxes.get(to.actor) ?? (await lookupMember(h, context(), kv, to.actor)).inbox;
        await queue.enqueue({ envelope, inbox, actor: to.actor, attempt: 0 } satisfies DeliveryJob);
      }),
  };

  const deliver = async (job: DeliveryJob) => {
    const instanceActor = actorUri(h.config.origin, INSTANCE);
    const { rsa } = await actorKeys(h, INSTANCE);
    const body = JSON.stringify(dmActivity(h.config.origin, job.envelope, job.actor));
    const request = await signRequest(
      new Request(job.inbox, {
        method: "POST",
        headers: { "content-type": "application/activity+json", accept: "application/activity+json" },
        body,
      }),
      rsa.privateKey,
      new URL(rsaKeyId(instanceActor)),
    );
    const response = await h.outbound.fetch(request, {
      redirect: "error",
      signal: AbortSignal.timeout(15_000),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`the inbox ${job.inbox} answered ${response.status}`);
  };

  const abort = new AbortController();
  let running: Promise<void> | null = null;
  return {
    transport,
    start() {
      running = queue.listen(async (message) => {
        const job = message as DeliveryJob;
        // Blocked since it was queued: dropped.
        if (await remoteBlockOf(h, job.actor) ?? await remoteBlockOf(h, job.inbox)) return;
        try {
          await deliver(job);
        } catch (error) {
          if (job.attempt + 1 >= MAX_ATTEMPTS) {
            log(`federation: gave up delivering a direct message to ${job.actor}`, error);
            return;
          }
          // 2 s, 4 s, 8 s, … about four minutes in all.
          const delay = Temporal.Duration.from({ seconds: 2 ** (job.attempt + 1) });
          await queue.enqueue({ ...job, attempt: job.attempt + 1 }, { delay });
        }
      }, { signal: abort.signal }).catch((error) => log("federation: the DM queue stopped", error));
    },
    async close() {
      abort.abort();
      await queue.close();
      await running;
    },
  };
}

/** Wraps the Create listener: EncryptedMessage objects are direct messages, everything else goes on. */
export function withDms(
  h: Harmony,
  next: (ctx: InboxContext<void>, create: Create) => Promise<void>,
) {
  return async (ctx: InboxContext<void>, create: Create) => {
    const raw = await create.toJsonLd() as Record<string, unknown>;
    if (!isDmObject(raw.object)) return await next(ctx, create);
    await receiveDmActivity(h, ctx, create, raw.object);
  };
}

async function receiveDmActivity(
  h: Harmony,
  ctx: InboxContext<void>,
  create: Create,
  object: Record<string, unknown>,
): Promise<void> {
  const actorId = create.actorId;
  const attributedTo = object.attributedTo;
  const envelope = object.dmEnvelope as Partial<EncryptedMessage> | undefined;
  if (!actorId || typeof attributedTo !== "string" || typeof envelope !== "object" || envelope === null) {
    return;
  }
  let sender: URL;
  try {
    sender = new URL(attributedTo);
  } catch {
    return;
  }
  // The instance that signed the request speaks for its own members only.
  if (sender.origin !== actorId.origin || sender.origin === h.config.origin) return;
  // Delivered to a member's inbox: it must be the envelope's recipient.
  if (ctx.recipient !== null && ctx.recipient !== memberIdentifier(String(envelope.recipient))) return;
  const actor = await ctx.lookupObject(sender.href).catch(() => null);
  const member = memberOfActor(actor, sender.href);
  if (!member || member.did !== envelope.attributedTo) return;
  try {
    await receiveRemoteDm(h, envelope, sender.href);
  } catch (error) {
    // A bad envelope (shape, size, signature) is dropped: it changes nothing here.
    if (error instanceof HarmonyError) return;
    throw error;
  }
}
