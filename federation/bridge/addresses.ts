/**
 * Bridges reach peers their admins named; unless private addresses are
 * allowed (HARMONY_ALLOW_PRIVATE_ADDRESSES=1), a peer's host must resolve to
 * public addresses only, so a capability cannot point this instance at its
 * own network.
 */
const privateV4 = [
  [0x00000000, 8], // 0.0.0.0/8
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0xe0000000, 3], // multicast and reserved
] as const;

function v4ToInt(ip: string): number | null {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function isPrivateAddress(ip: string): boolean {
  const v4 = v4ToInt(ip.replace(/^::ffff:/i, ""));
  if (v4 !== null) return privateV4.some(([net, bits]) => (v4 >>> (32 - bits)) === (net >>> (32 - bits)));
  const lower = ip.toLowerCase();
  return lower === "::" || lower === "::1" || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
}

const resolved = new Map<string, { ok: boolean; at: number }>();

/** Throws unless `url`'s host may be contacted under the instance's address policy. */
export async function checkPeerAddress(url: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const { hostname, protocol } = new URL(url);
  if (protocol !== "https:") {
    throw new Error(`${url}: bridges use https (private addresses are not allowed here)`);
  }
  const host = hostname.replace(/^\[|\]$/g, "");
  const cached = resolved.get(host);
  if (cached && Date.now() - cached.at < 300_000) {
    if (!cached.ok) throw new Error(`${host} resolves to a private address`);
    return;
  }
  let addresses: string[];
  if (v4ToInt(host) !== null || host.includes(":")) {
    addresses = [host];
  } else if (host === "localhost" || host.endsWith(".localhost")) {
    addresses = ["127.0.0.1"];
  } else {
    const [a, aaaa] = await Promise.all([
      Deno.resolveDns(host, "A").catch(() => [] as string[]),
      Deno.resolveDns(host, "AAAA").catch(() => [] as string[]),
    ]);
    addresses = [...a, ...aaaa];
    if (addresses.length === 0) throw new Error(`${host} does not resolve`);
  }
  const ok = !addresses.some(isPrivateAddress);
  resolved.set(host, { ok, at: Date.now() });
  if (!ok) throw new Error(`${host} resolves to a private address`);
}
