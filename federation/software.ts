/**
 * Which shape a follower's server understands. Software that implements
 * FEP-1b12 groups (Lemmy, Mbin, PieFed, Friendica, …, and Harmony itself)
 * gets Announce(Create(Note)); everything else, and any server whose
 * NodeInfo cannot be read, gets Announce(Note): the boost Mastodon and the
 * other microblogs show. The software name comes from the server's
 * NodeInfo, cached in the key-value store for a day (an hour when it
 * could not be read).
 */
import type { KvStore } from "@fedify/fedify";
import type { Outbound } from "../server/net/outbound.ts";

export type FollowerKind = "group-aware" | "microblog";

/** Software known to handle FEP-1b12 group announces (NodeInfo software names). */
export const GROUP_AWARE = new Set([
  "lemmy",
  "mbin",
  "kbin",
  "piefed",
  "friendica",
  "hubzilla",
  "streams",
  "forte",
  "nodebb",
  "discourse",
  "lotide",
  "harmony",
]);

export function kindOf(software: string | null): FollowerKind {
  return software !== null && GROUP_AWARE.has(software.toLowerCase()) ? "group-aware" : "microblog";
}

const TIMEOUT_MS = 5_000;

async function getJson(url: URL, outbound: Outbound, userAgent: string): Promise<unknown> {
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  const response = await outbound.fetch(url, {
    headers: { accept: "application/json", "user-agent": userAgent },
    redirect: "error",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!response.ok) {
    await response.body?.cancel();
    return null;
  }
  return await response.json();
}

/** Reads a server's NodeInfo software name (lowercase), or null. */
export async function fetchSoftwareName(
  origin: string,
  options: { outbound: Outbound; userAgent: string },
): Promise<string | null> {
  try {
    const wellKnown = await getJson(
      new URL("/.well-known/nodeinfo", origin),
      options.outbound,
      options.userAgent,
    );
    const links = (wellKnown as { links?: Array<{ rel?: string; href?: string }> } | null)?.links ?? [];
    const link = links.find((l) => /nodeinfo\.diaspora\.software\/ns\/schema\/2\.[01]$/.test(l?.rel ?? ""));
    if (!link?.href) return null;
    const document = await getJson(new URL(link.href, origin), options.outbound, options.userAgent);
    const name = (document as { software?: { name?: unknown } } | null)?.software?.name;
    return typeof name === "string" && /^[a-z0-9._-]{1,64}$/i.test(name) ? name.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** The software of the server at `origin`, from the cache or its NodeInfo. */
export async function softwareOf(
  kv: KvStore,
  origin: string,
  options: { outbound: Outbound; userAgent: string },
): Promise<string | null> {
  const key = ["harmony", "software", origin] as const;
  const cached = await kv.get<{ name: string | null }>(key);
  if (cached) return cached.name;
  const name = await fetchSoftwareName(origin, options);
  await kv.set(key, { name }, { ttl: Temporal.Duration.from({ hours: name ? 24 : 1 }) });
  return name;
}
