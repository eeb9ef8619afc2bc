/**
 * Which fediverse accounts and servers are blocked. A blocked account is
 * named by its actor IRI; a blocked server by its host (with the port when
 * it is not the scheme's default), and the block covers its subdomains
 * too, whatever the scheme. The blocks themselves are quads in the
 * moderation graph (state.ts), set and lifted by signed moderation actions
 * (fediverse.ts); everything that takes or sends fediverse traffic asks
 * here: the inbox (federation/), follows and replies (server/replication/)
 * and outbound delivery.
 */
import { HarmonyError } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import { moderationState, type RemoteBlock } from "./state.ts";

/** The host a URL's server is blocked by (lower-case, port kept when not the default); null if not http(s). */
export function hostOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.host : null;
  } catch {
    return null;
  }
}

/**
 * The server blocks that would cover a host: itself and, for a name, the
 * domains above it with the same port ("a.b.example:8443" → itself,
 * "b.example:8443", "example:8443"); an address only by itself.
 */
function coveringHosts(host: string): string[] {
  const [name, port = ""] = host.split(/(?=:\d+$)/);
  if (/^[\d.]+$/.test(name) || name.startsWith("[")) return [host];
  const labels = name.split(".");
  return labels.map((_, i) => labels.slice(i).join(".") + port);
}

/** Whether a block covers a URL (pure: for a block not yet in the cached state). */
export function blockCovers(block: Pick<RemoteBlock, "kind" | "target">, url: string | null): boolean {
  if (!url) return false;
  if (block.kind === "actor") return url === block.target;
  const host = hostOf(url);
  return host !== null && coveringHosts(host).includes(hostOf(block.target) ?? "");
}

/** The block that applies to an actor, inbox or object URL, if any: the account's own, else its server's. */
export async function remoteBlockOf(h: Harmony, url: string | null | undefined): Promise<RemoteBlock | null> {
  if (!url) return null;
  const state = await moderationState(h);
  if (state.blockedActors.size === 0 && state.blockedServers.size === 0) return null;
  const actor = state.blockedActors.get(url);
  if (actor) return actor;
  const host = hostOf(url);
  if (!host || state.blockedServers.size === 0) return null;
  for (const key of coveringHosts(host)) {
    const block = state.blockedServers.get(key);
    if (block) return block;
  }
  return null;
}

/** Whether anything is blocked at all (most communities block nothing: their checks cost nothing). */
export async function hasRemoteBlocks(h: Harmony): Promise<boolean> {
  const state = await moderationState(h);
  return state.blockedActors.size > 0 || state.blockedServers.size > 0;
}

/** Whether any of these URLs (an actor, its inbox, its shared inbox) is blocked. */
export async function anyBlocked(h: Harmony, urls: Array<string | null | undefined>): Promise<boolean> {
  for (const url of urls) if (await remoteBlockOf(h, url)) return true;
  return false;
}

/** 403 when the URL's account or server is blocked here. */
export async function refuseBlocked(h: Harmony, url: string): Promise<void> {
  const block = await remoteBlockOf(h, url);
  if (!block) return;
  throw new HarmonyError(
    403,
    "blocked",
    block.kind === "actor"
      ? "this fediverse account is blocked here"
      : `the fediverse server ${new URL(block.target).host} is blocked here`,
  );
}
