/**
 * Who is on the other end of a request, as an address to count against
 * (the sign-in limits): the connection's peer, or behind a trusted reverse
 * proxy the client that proxy names in X-Forwarded-For. An IPv6 client is
 * counted by its /64, the block one subscriber usually gets whole.
 */
import type { Context } from "hono";
import type { AppEnv } from "./env.ts";

function ipv4Bytes(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

/** The eight 16-bit groups of an IPv6 address, or null. */
function ipv6Groups(text: string): number[] | null {
  let rest = text.toLowerCase().replace(/%.*$/, "");
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = rest.lastIndexOf(":");
  if (lastColon >= 0 && rest.slice(lastColon + 1).includes(".")) {
    const bytes = ipv4Bytes(rest.slice(lastColon + 1));
    if (!bytes) return null;
    const high = ((bytes[0] << 8) | bytes[1]).toString(16);
    const low = ((bytes[2] << 8) | bytes[3]).toString(16);
    rest = `${rest.slice(0, lastColon + 1)}${high}:${low}`;
  }
  const halves = rest.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]);
  const back = halves.length === 2 ? parse(halves[1]) : [];
  if (![...head, ...back].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const missing = 8 - head.length - back.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [
    ...head.map((g) => parseInt(g, 16)),
    ...new Array<number>(halves.length === 2 ? missing : 0).fill(0),
    ...back.map((g) => parseInt(g, 16)),
  ];
}

export function isIpAddress(text: string): boolean {
  return ipv4Bytes(text) !== null || ipv6Groups(text) !== null;
}

/** One spelling per address: IPv4 dotted, IPv4-mapped IPv6 as IPv4, other IPv6 as eight full groups. */
export function normalizeIp(text: string): string {
  const v4 = ipv4Bytes(text);
  if (v4) return v4.join(".");
  const groups = ipv6Groups(text);
  if (!groups) return text;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join(".");
  return groups.map((g) => g.toString(16).padStart(4, "0")).join(":");
}

/** What limits count against: the IPv4 address, or the /64 of an IPv6 one. */
export function addressKey(address: string): string {
  const normal = normalizeIp(address);
  if (!normal.includes(":")) return normal;
  return `${normal.split(":").slice(0, 4).join(":")}::/64`;
}

/**
 * The client's address: the connection's peer, unless that peer is one of
 * `trustedProxies`; then the nearest X-Forwarded-For entry that is not a
 * trusted proxy itself (entries further left are the client's to forge).
 */
export function clientAddress(c: Context<AppEnv>, trustedProxies: readonly string[]): string {
  const remote = c.env?.info?.remoteAddr;
  const peer = remote && "hostname" in remote ? normalizeIp(remote.hostname) : "unknown";
  if (!trustedProxies.includes(peer)) return peer;
  const forwarded = (c.req.header("x-forwarded-for") ?? "").split(",").map((a) => a.trim()).filter(
    isIpAddress,
  );
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const address = normalizeIp(forwarded[i]);
    if (!trustedProxies.includes(address)) return address;
  }
  return forwarded.length ? normalizeIp(forwarded[0]) : peer;
}
