/**
 * The capability a local moderation is submitted with: the one
 * `authorize()` found, as JSON, its chain embedded. It travels with the
 * operation (op_log.authority, and to bridge peers), so that every replica
 * can check that the signer held the action (server/messages/oplog.ts).
 */
import type { Authorization } from "../authority/authorize.ts";
import { authorityState } from "../authority/store.ts";
import type { Harmony } from "../harmony.ts";
import type { Capability } from "./authority.ts";

export async function authorityOf(h: Harmony, authorization: Authorization): Promise<Capability> {
  const held = (await authorityState(h)).byId.get(authorization.capabilityId);
  if (!held) throw new Error(`capability ${authorization.capabilityId} is not held here`);
  return held.capability as unknown as Capability;
}
