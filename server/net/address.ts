/**
 * The instance's address policy for everything it fetches (fediverse
 * servers, bridge peers, status lists a presented credential points at):
 * unless private addresses are allowed (config.allowPrivateAddresses,
 * HARMONY_ALLOW_PRIVATE_ADDRESSES=1), only https URLs whose host resolves to
 * public addresses only, so nobody can point this instance at its own
 * network. The policy is applied by server/net/outbound.ts, which connects
 * to the very addresses it checked.
 */
const privateV4: ReadonlyArray<readonly [number, number]> = [
  [0x00000000, 8], // 0.0.0.0/8, "this network"
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10, carrier-grade NAT
  [0x7f000000, 8], // 127/8, loopback
  [0xa9fe0000, 16], // 169.254/16, link local (cloud metadata)
  [0xac100000, 12], // 172.16/12
  [0xc0000000, 24], // 192.0.0/24, protocol assignments
  [0xc0a80000, 16], // 192.168/16
  [0xc6120000, 15], // 198.18/15, benchmarking
  [0xe0000000, 3], // multicast and reserved
];

export function ipv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const bytes = parts.map(Number);
  if (bytes.some((b) => b > 255)) return null;
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/** Whether an IP address (v4 or v6 text) is loopback, private, link-local or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const lower = address.toLowerCase().replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  const v4 = ipv4(mapped ? mapped[1] : lower);
  if (v4 !== null) return privateV4.some(([net, bits]) => v4 >>> (32 - bits) === net >>> (32 - bits));
  if (!lower.includes(":")) return true; // not an address at all: refuse
  return lower === "::" || lower === "::1" || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) ||
    /^ff/.test(lower) || /^::ffff:/.test(lower) || /^64:ff9b:/.test(lower) || /^2001:db8:/.test(lower);
}

export class AddressRefused extends Error {
  override name = "AddressRefused";
}

/** Whether `host` (a URL's hostname, brackets removed) is an IP address rather than a name. */
export function isIpLiteral(host: string): boolean {
  return ipv4(host) !== null || host.includes(":");
}

/** The URL if its form may be fetched under the policy (scheme, no credentials); throws AddressRefused. */
export function fetchableUrl(url: string | URL, allowPrivate: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AddressRefused(`${url} is not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new AddressRefused(`${parsed.href}: only http(s) URLs are fetched`);
  }
  if (parsed.username || parsed.password) {
    throw new AddressRefused(`${parsed.origin}: URLs with credentials are refused`);
  }
  if (!allowPrivate && parsed.protocol !== "https:") {
    throw new AddressRefused(
      `${parsed.href}: only https is fetched (private addresses are not allowed here)`,
    );
  }
  return parsed;
}

/** Throws AddressRefused unless every address `host` resolved to may be connected to. */
export function checkAddresses(host: string, addresses: readonly string[], allowPrivate: boolean): void {
  if (addresses.length === 0) throw new AddressRefused(`${host} does not resolve`);
  if (!allowPrivate && addresses.some(isNonPublicAddress)) {
    throw new AddressRefused(`${host} resolves to a private address`);
  }
}
