/** What the profile page's Recovery section shows (views/recovery.tsx). */
import type { Harmony } from "../harmony.ts";
import { shortDid } from "../community/members.ts";
import type { RecoveryPanelData } from "../../views/recovery.tsx";
import { recoveryOverview } from "./recovery.ts";

export async function recoveryPanel(h: Harmony, did: string): Promise<RecoveryPanelData> {
  const overview = await recoveryOverview(h, did);
  const { profiles } = await h.snapshot();
  const dids = new Set<string>([did]);
  for (const did of overview.setup?.guardians ?? []) dids.add(did);
  for (const g of overview.guardianOf) dids.add(g.member);
  for (const r of [...overview.guarding, ...overview.againstMe, ...overview.mine]) {
    dids.add(r.oldIdentity);
    dids.add(r.newIdentity);
  }
  const names: Record<string, string> = {};
  for (const d of dids) names[d] = profiles.get(d)?.name || shortDid(d);
  return { overview, community: h.iris.community, names };
}
