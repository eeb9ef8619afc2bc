/**
 * Mentions on the server: checking a signed message's `mentions` against
 * the community (members and roles), the directory clients resolve `@name`
 * against, and the roles a member holds. The derived table is in
 * mentionIndex.ts (it runs in the writer worker).
 */
import { invalid } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { authorityState } from "../authority/store.ts";
import { shortDid } from "../community/members.ts";
import type { MentionNames } from "../../markup/mentions.ts";
import { MAX_MENTIONS, type MentionDirectory, mentionTargets } from "./mentionText.ts";

/** Members and roles a message may mention, with their current names. */
export async function mentionDirectory(h: Harmony): Promise<MentionDirectory> {
  const { members, profiles } = await h.snapshot();
  const state = await authorityState(h);
  return {
    members: [...members.keys()].map((did) => ({ did, name: profiles.get(did)?.name || shortDid(did) })),
    roles: state.roles.map((r) => ({ slug: r.slug, name: r.name, iri: r.iri })),
  };
}

/**
 * Refuses a Message or Update whose mentions are not members or roles of
 * this community, too many, repeated, or not the tokens its text carries.
 */
export async function checkMentions(
  h: Harmony,
  doc: { content: string; mentions?: string[] },
): Promise<void> {
  const listed = doc.mentions ?? [];
  if (listed.length > MAX_MENTIONS) {
    throw invalid("too_many_mentions", `a message may mention at most ${MAX_MENTIONS} members or roles`);
  }
  if (new Set(listed).size !== listed.length) {
    throw invalid("duplicate_mentions", "each member or role is listed once in mentions");
  }
  if (listed.length === 0 && !doc.content.includes("<@")) return;
  const directory = await mentionDirectory(h);
  const members = new Set(directory.members.map((m) => m.did));
  const roles = new Set(directory.roles.map((r) => r.iri));
  for (const target of listed) {
    if (target.startsWith("did:")) {
      if (!members.has(target)) {
        throw invalid(
          "unknown_mention",
          `${target} is not a member of this community and cannot be mentioned`,
        );
      }
    } else if (!roles.has(target)) {
      throw invalid("unknown_mention", `${target} is not a role of this community`);
    }
  }
  const tokens = new Set(mentionTargets(doc.content, directory));
  if (tokens.size !== listed.length || listed.some((t) => !tokens.has(t))) {
    throw invalid(
      "mentions_mismatch",
      "mentions must list exactly the members and roles the text mentions (<@did> and <@&role> tokens)",
    );
  }
}

/** The role IRIs a member holds: their built-in role and every role assigned by capability. */
export async function rolesOf(h: Harmony, did: string): Promise<string[]> {
  const member = (await h.snapshot()).members.get(did);
  if (!member) return [];
  const state = await authorityState(h);
  const roles = new Set([h.iris.role(member.role)]);
  for (const c of state.byHolder.get(did) ?? []) if (!c.revoked && c.role) roles.add(c.role);
  return [...roles];
}

/** Current names for the mention tokens pages render (markup/mentions.ts). */
export async function mentionNames(h: Harmony): Promise<MentionNames> {
  const { profiles } = await h.snapshot();
  const roles = new Map((await authorityState(h)).roles.map((r) => [r.slug, r.name]));
  return {
    member: (did) => profiles.get(did)?.name || shortDid(did),
    role: (slug) => roles.get(slug) ?? null,
  };
}
