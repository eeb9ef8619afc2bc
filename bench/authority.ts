/**
 * Authorization checks per second on the hot path (may this member post in
 * this channel?) for a member whose capability is three delegations from
 * the root (community → owner → admin → moderator), with verified chains
 * cached (the normal case: revocation and expiry still checked on every
 * call) and uncached (every link's signature verified on every call).
 */
import { authorizationSettings, authorize } from "../server/authority/authorize.ts";
import { findChannel } from "../server/channels/channels.ts";
import { claimedInstance, memberOf } from "../tests/helpers/instance.ts";

export interface AuthorityBenchRow {
  name: string;
  chainLinks: number;
  perSecond: number;
  microsecondsPerCheck: number;
}

async function rate(seconds: number, check: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await check(); // warm-up
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await check();
    n++;
  }
  return n / seconds;
}

export async function benchAuthority(seconds = 3): Promise<AuthorityBenchRow[]> {
  const { instance, owner } = await claimedInstance();
  try {
    const admin = await memberOf(instance, owner);
    const moderator = await memberOf(instance, owner);
    await owner.assignRole(admin.did, "admin");
    await admin.assignRole(moderator.did, "moderator");
    const h = instance.harmony;
    const channel = await findChannel(h, "general");
    const actor = { did: moderator.did, via: "bearer" as const };
    const check = () => authorize(h, actor, "post", channel);
    const links = (await moderator.capabilities()).held.find((c) =>
      c.role?.endsWith("/moderator")
    )!.chain.length - 1;
    const rows: AuthorityBenchRow[] = [];
    authorizationSettings.cacheVerifiedChains = true;
    const cached = await rate(seconds, check);
    rows.push({ name: "cached", chainLinks: links, perSecond: cached, microsecondsPerCheck: 1e6 / cached });
    authorizationSettings.cacheVerifiedChains = false;
    try {
      const uncached = await rate(seconds, check);
      rows.push({
        name: "uncached",
        chainLinks: links,
        perSecond: uncached,
        microsecondsPerCheck: 1e6 / uncached,
      });
    } finally {
      authorizationSettings.cacheVerifiedChains = true;
    }
    return rows;
  } finally {
    await instance.close();
  }
}

if (import.meta.main) console.table(await benchAuthority(Number(Deno.args[0] ?? 3)));
