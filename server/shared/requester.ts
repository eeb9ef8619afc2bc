/**
 * Who is asking, for limits kept per requester of anonymous requests
 * (device pairing): the address the connection comes from, or, when that is
 * a reverse proxy named in HARMONY_TRUSTED_PROXIES, the nearest address in
 * `X-Forwarded-For` that is not one of them (the entries before it were
 * written by the client and prove nothing). Without that setting, behind a
 * proxy every request comes from the proxy, and its limits would be
 * everyone's.
 *
 * An IPv6 address counts by its /64, which one host or household usually
 * holds whole; an IPv4-mapped IPv6 address counts as the IPv4 address.
 */

/** The key of a requester: an IPv4 address, `v6:` and the first four groups of an IPv6 one, or "unknown". */
export function requesterKey(
  peer: string | undefined,
  forwardedFor: string | null | undefined,
  trustedProxies: readonly string[] = [],
): string {
  let address = peer ? canonical(peer) : null;
  if (address && forwardedFor && trustedProxies.length > 0) {
    const trusted = new Set(trustedProxies.map(canonical).filter((a): a is string => a !== null));
    if (trusted.has(address)) {
      const hops = forwardedFor.split(",").map((hop) => canonical(hop.trim()));
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i];
        if (hop === null) break; // a malformed hop: stop at the proxy we trust
        address = hop;
        if (!trusted.has(hop)) break;
      }
    }
  }
  if (!address) return "unknown";
  if (!address.includes(":")) return address;
  return `v6:${address.split(":").slice(0, 4).join(":")}`;
}

/** An IP address in one spelling: IPv4 dotted, IPv6 as eight lower-case groups; null if it is neither. */
export function canonical(text: string): string | null {
  let value = text.trim();
  if (value.startsWith("[") && value.endsWith("]")) value = value.slice(1, -1);
  const zone = value.indexOf("%");
  if (zone >= 0) value = value.slice(0, zone);
  if (isIpv4(value)) return value.split(".").map(Number).join(".");
  const groups = ipv6Groups(value.toLowerCase());
  if (!groups) return null;
  // ::ffff:a.b.c.d is an IPv4 client of a dual-stack socket.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join(".");
  }
  return groups.map((g) => g.toString(16)).join(":");
}

function isIpv4(value: string): boolean {
  const parts = value.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function ipv6Groups(value: string): number[] | null {
  if (!/^[0-9a-f:.]+$/.test(value)) return null;
  const lastColon = value.lastIndexOf(":");
  if (lastColon < 0) return null;
  let text = value;
  const dotted: number[] = [];
  // A trailing dotted IPv4 part stands for the last two groups.
  const last = value.slice(lastColon + 1);
  if (last.includes(".")) {
    if (!isIpv4(last)) return null;
    const [a, b, c, d] = last.split(".").map(Number);
    dotted.push((a << 8) | b, (c << 8) | d);
    text = value.slice(0, lastColon + 1);
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((g) => /^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN);
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if ([...head, ...tail].some(Number.isNaN)) return null;
  const have = head.length + tail.length + dotted.length;
  if (halves.length === 1) return have === 8 ? [...head, ...dotted] : null;
  if (have > 7) return null;
  return [...head, ...new Array<number>(8 - have).fill(0), ...tail, ...dotted];
}
