/**
 * Mentions in message text (isomorphic: the browser composer, the
 * command-line client and the server all use it).
 *
 * A member types `@Ada` or `@moderators`; before signing, the client
 * resolves each against the community's directory and writes a token into
 * the content, `<@did:key:z…>` for a member and `<@&slug>` for a role, and
 * lists the targets (DIDs and role IRIs) in the signed `mentions` field.
 * The signature therefore binds WHO was mentioned, not a name that may
 * change later; pages render each token as `@CurrentName`.
 */

/** At most this many distinct targets in one message. */
export const MAX_MENTIONS = 20;

export interface MentionDirectory {
  members: Array<{ did: string; name: string }>;
  roles: Array<{ slug: string; name: string; iri: string }>;
}

const memberToken = /<@(did:key:z[1-9A-HJ-NP-Za-km-z]{1,100})>/g;
const roleToken = /<@&([a-z0-9][a-z0-9-]{0,39})>/g;

/** The mention tokens in a text: member DIDs and role slugs, each once, in order. */
export function mentionTokens(content: string): { members: string[]; roles: string[] } {
  const members = [...new Set([...content.matchAll(memberToken)].map((m) => m[1]))];
  const roles = [...new Set([...content.matchAll(roleToken)].map((m) => m[1]))];
  return { members, roles };
}

/** The slug at the end of a role IRI (`…/roles/{slug}`). */
export function roleSlugOf(roleIri: string): string {
  return roleIri.slice(roleIri.lastIndexOf("/") + 1);
}

interface Candidate {
  label: string;
  token: string;
  target: string;
}

/**
 * Replaces `@name` (a member's display name or a role's name or slug,
 * case-insensitive, longest match first) with mention tokens, and returns
 * the targets of every token in the result (including tokens already
 * there, as in an edited message).
 */
export function resolveMentions(
  text: string,
  directory: MentionDirectory,
): { content: string; mentions: string[] } {
  const candidates: Candidate[] = [];
  for (const m of directory.members) {
    if (m.name) candidates.push({ label: m.name, token: `<@${m.did}>`, target: m.did });
  }
  for (const r of directory.roles) {
    candidates.push({ label: r.slug, token: `<@&${r.slug}>`, target: r.iri });
    if (r.name.toLowerCase() !== r.slug) {
      candidates.push({ label: r.name, token: `<@&${r.slug}>`, target: r.iri });
    }
  }
  candidates.sort((a, b) => b.label.length - a.label.length);
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const atStart = i === 0 || /[\s([{,;:!?"']/.test(text[i - 1]);
    if (ch === "@" && atStart) {
      const rest = text.slice(i + 1);
      const lower = rest.toLowerCase();
      const hit = candidates.find((c) => {
        if (!lower.startsWith(c.label.toLowerCase())) return false;
        const after = rest[c.label.length];
        return after === undefined || !/[\p{L}\p{N}_-]/u.test(after);
      });
      if (hit) {
        out += hit.token;
        i += 1 + hit.label.length;
        continue;
      }
    }
    out += ch;
    i++;
  }
  return { content: out, mentions: mentionTargets(out, directory) };
}

/** The targets of the tokens in `content` (role slugs become role IRIs through the directory). */
export function mentionTargets(content: string, directory: Pick<MentionDirectory, "roles">): string[] {
  const { members, roles } = mentionTokens(content);
  const bySlug = new Map(directory.roles.map((r) => [r.slug, r.iri]));
  return [...members, ...roles.map((slug) => bySlug.get(slug)).filter((x): x is string => Boolean(x))];
}

/** Turns tokens back into `@Name` for editing (the inverse of resolveMentions, by current names). */
export function tokensToNames(content: string, directory: MentionDirectory): string {
  // A name two members share would resolve back to the wrong one: those stay tokens.
  const counts = new Map<string, number>();
  for (const m of directory.members) {
    counts.set(m.name.toLowerCase(), (counts.get(m.name.toLowerCase()) ?? 0) + 1);
  }
  const names = new Map(
    directory.members.filter((m) => m.name && counts.get(m.name.toLowerCase()) === 1).map((
      m,
    ) => [m.did, m.name]),
  );
  const roleNames = new Map(directory.roles.map((r) => [r.slug, r.name]));
  return content
    .replace(memberToken, (whole, did) => (names.has(did) ? `@${names.get(did)}` : whole))
    .replace(roleToken, (whole, slug) => (roleNames.has(slug) ? `@${roleNames.get(slug)}` : whole));
}
