/**
 * An in-memory view of the community graph and the profiles graph, read
 * from the quads and rebuilt after every write to them. It is a cache:
 * the quads stay the source of truth.
 */
import type { Queryable } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import type { Quad, Term } from "../../db/terms.ts";
import type { Iris } from "../rdf/iris.ts";
import type {
  BotInfo,
  ChannelInfo,
  CommunityInfo,
  InviteInfo,
  MemberInfo,
  ProfileInfo,
  Role,
} from "../shared/model.ts";
import { AS, H, RDF } from "../rdf/vocab.ts";
import { admissionFrom } from "../credentials/admission.ts";
import { R } from "../recovery/vocab.ts";

export interface Snapshot {
  community: CommunityInfo | null;
  /** Sorted by position, then name. */
  channels: ChannelInfo[];
  members: Map<string, MemberInfo>;
  /**
   * Registered bots, by DID: only those whose owner is a member (a bot of a
   * member who left, was kicked or banned stays registered, and acts for nobody).
   */
  bots: Map<string, BotInfo>;
  /** Every registration, also those whose owner is not a member now (server/moderation on bridges). */
  registeredBots: Map<string, BotInfo>;
  profiles: Map<string, ProfileInfo>;
  invites: InviteInfo[];
}

function bySubject(quads: Quad[]): Map<string, Map<string, Term[]>> {
  const out = new Map<string, Map<string, Term[]>>();
  for (const q of quads) {
    let props = out.get(q.subject.value);
    if (!props) out.set(q.subject.value, props = new Map());
    const list = props.get(q.predicate.value);
    if (list) list.push(q.object);
    else props.set(q.predicate.value, [q.object]);
  }
  return out;
}

/** A short form of a DID with no profile: its key's first 8 and last 4 characters. */
export function shortDid(did: string): string {
  const key = did.replace(/^did:key:/, "");
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}

const one = (props: Map<string, Term[]>, p: { value: string }) => props.get(p.value)?.[0]?.value;

const roleOf: Record<string, Role> = {
  [H.Owner.value]: "owner",
  [H.Admin.value]: "admin",
  [H.Moderator.value]: "moderator",
  [H.MemberRole.value]: "member",
};

export async function loadSnapshot(q: Queryable, iris: Iris): Promise<Snapshot> {
  const [communityQuads, profileQuads, remoteQuads] = await Promise.all([
    quadStore.match(q, { graph: iris.community }),
    quadStore.match(q, { graph: iris.profiles }),
    quadStore.match(q, { graph: iris.remoteActors }),
  ]);
  const snapshot: Snapshot = {
    community: null,
    channels: [],
    members: new Map(),
    bots: new Map(),
    registeredBots: new Map(),
    profiles: new Map(),
    invites: [],
  };
  for (const [subject, props] of bySubject(communityQuads)) {
    const types = new Set((props.get(RDF.type.value) ?? []).map((t) => t.value));
    if (types.has(H.Community.value)) {
      const admission = admissionFrom((p) => one(props, p));
      snapshot.community = {
        iri: subject,
        name: one(props, AS.name) ?? "Harmony",
        openJoin: admission.policy === "open",
        admission,
        owner: one(props, H.owner) ?? null,
      };
    } else if (types.has(H.Channel.value)) {
      snapshot.channels.push({
        iri: subject,
        id: iris.channelId(subject) ?? subject,
        name: one(props, AS.name) ?? "",
        topic: one(props, AS.summary) ?? "",
        position: Number(one(props, H.position) ?? 0),
        visibility: one(props, H.visibility) === H.MembersOnly.value ? "members" : "public",
        approveFollowers: one(props, H.approveFollowers) === "true",
        fediverseReplies: one(props, H.fediverseReplies) === H.Open.value ? "open" : "members",
      });
    } else if (types.has(H.Member.value)) {
      snapshot.members.set(subject, {
        did: subject,
        role: roleOf[one(props, H.role) ?? ""] ?? "member",
        joined: one(props, H.joined) ?? "",
      });
    } else if (types.has(H.Bot.value)) {
      snapshot.registeredBots.set(subject, {
        did: subject,
        owner: one(props, H.botOf) ?? "",
        name: one(props, AS.name) ?? "",
        registered: one(props, AS.published) ?? "",
      });
    } else if (types.has(H.Invite.value)) {
      const maxUses = one(props, H.maxUses);
      snapshot.invites.push({
        iri: subject,
        code: one(props, H.code) ?? "",
        createdBy: one(props, AS.attributedTo) ?? "",
        created: one(props, AS.published) ?? "",
        expires: one(props, H.expires) ?? null,
        maxUses: maxUses === undefined ? null : Number(maxUses),
        uses: Number(one(props, H.uses) ?? 0),
        revoked: one(props, H.revoked) === "true",
      });
    }
  }
  for (const [subject, props] of bySubject(profileQuads)) {
    snapshot.profiles.set(subject, {
      did: subject,
      name: one(props, AS.name) ?? "",
      avatarType: one(props, H.avatarType) ?? null,
      avatarHash: one(props, H.avatarHash) ?? null,
      updated: one(props, AS.updated) ?? "",
      ...(props.has(R.movedFrom.value) ? { movedFrom: one(props, R.movedFrom) } : {}),
    });
  }
  // Identities moved by social recovery (server/identity/move.ts): the old
  // DID shows the profile its member uses now, found through `as:movedTo`.
  const movedTo = new Map<string, string>();
  for (const q of profileQuads) {
    if (q.predicate.value === R.movedTo.value) movedTo.set(q.subject.value, q.object.value);
  }
  for (const from of movedTo.keys()) {
    let current = from;
    for (let hops = 0; hops < 16 && movedTo.has(current); hops++) current = movedTo.get(current)!;
    const profile = snapshot.profiles.get(current);
    if (current !== from && profile && !movedTo.has(current)) {
      snapshot.profiles.set(from, { ...profile, movedTo: current });
    } else {
      snapshot.profiles.delete(from);
    }
  }
  // A bot shows the name it was registered with, marked as its owner's.
  for (const bot of snapshot.registeredBots.values()) {
    if (!snapshot.members.has(bot.owner) || snapshot.members.has(bot.did)) continue;
    snapshot.bots.set(bot.did, bot);
    const owner = snapshot.profiles.get(bot.owner);
    snapshot.profiles.set(bot.did, {
      did: bot.did,
      name: bot.name,
      avatarType: null,
      avatarHash: null,
      updated: bot.registered,
      bot: { owner: bot.owner, ownerName: owner?.name || shortDid(bot.owner) },
    });
  }
  // Fediverse authors of replies: shown like profiles, marked remote.
  for (const [subject, props] of bySubject(remoteQuads)) {
    if (snapshot.profiles.has(subject)) continue;
    const username = one(props, AS.preferredUsername);
    let host = "";
    try {
      host = new URL(subject).host;
    } catch { /* not a URL */ }
    snapshot.profiles.set(subject, {
      did: subject,
      name: one(props, AS.name) || username || "",
      avatarType: null,
      avatarHash: null,
      updated: one(props, AS.updated) ?? "",
      remote: { handle: username ? `@${username}@${host}` : host, url: one(props, AS.url) ?? null },
    });
  }
  snapshot.channels.sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  snapshot.invites.sort((a, b) => b.created.localeCompare(a.created));
  return snapshot;
}
