/** What a member's capabilities look like from outside: for the API and the chain viewer. */
import type { Harmony } from "../harmony.ts";
import { capabilitiesInForce } from "./authorize.ts";
import { authorityState, type HeldCapability } from "./store.ts";

export interface CapabilityJson {
  id: string;
  holder: string;
  delegatedBy: string;
  role: string | null;
  actions: string[];
  target: string;
  expires: string;
  issued: string;
  revoked: boolean;
  /** The chain from the root, root first: each link's id and who delegated it. */
  chain: Array<{ id: string; delegatedBy: string | null; holder: string | null; actions: string[] }>;
  capability: unknown;
}

export function capabilityJson(held: HeldCapability, chain: CapabilityJson["chain"] = []): CapabilityJson {
  return {
    id: held.id,
    holder: held.holder,
    delegatedBy: held.delegatedBy,
    role: held.role,
    actions: held.actions,
    target: held.target,
    expires: held.expires,
    issued: held.issued,
    revoked: held.revoked,
    chain,
    capability: held.capability,
  };
}

/** A member's capabilities in force, with their chains, and those they delegated to others. */
export async function capabilityReport(h: Harmony, did: string) {
  const state = await authorityState(h);
  const chainOf = (ids: string[]) =>
    ids.map((id) => {
      const link = state.byId.get(id);
      return {
        id,
        delegatedBy: link?.delegatedBy ?? null,
        holder: link?.holder ?? null,
        actions: link?.actions ?? [],
      };
    });
  const held = (await capabilitiesInForce(h, did)).map((c) => capabilityJson(c, chainOf(c.chainIds)));
  const delegated = [...state.byId.values()].filter((c) => c.delegatedBy === did).map((c) =>
    capabilityJson(c)
  );
  return { did, held, delegated };
}
