/**
 * The keys an instance holds for its community (the community's did:key,
 * and its actors' RSA and Ed25519 keys), out of `actor_keys` and back in.
 * They are not in the N-Quads export, which the owner downloads: they are
 * the community's root of authority, so they move from server to server
 * only, as a file the operator keeps secret (`deno task export-keys`).
 * An import needs them: the export is signed with the community key and
 * every capability chain in it ends there.
 */
import type { Database, Tx } from "../../db/client.ts";
import { actorKeys } from "../../db/schema.ts";
import {
  COMMUNITY_ACTOR,
  type CommunityKey,
  communityKeyFromJwk,
  ED25519,
} from "../capabilities/communityKey.ts";

export const KEYS_TYPE = "HarmonyInstanceKeys";

export interface StoredKey {
  actor: string;
  algorithm: string;
  privateJwk: string;
  publicJwk: string;
  created: number;
}

export interface InstanceKeys {
  type: typeof KEYS_TYPE;
  /** The community's did:key (its key is among `keys`). */
  community: string;
  keys: StoredKey[];
}

export class KeysFileError extends Error {
  override name = "KeysFileError";
}

/** Every key the database holds; throws KeysFileError when it has no community key. */
export async function readInstanceKeys(database: Database): Promise<InstanceKeys> {
  const keys = await database.db.select().from(actorKeys);
  const community = await communityKeyIn(keys);
  if (!community) throw new KeysFileError("this database holds no community key");
  return { type: KEYS_TYPE, community: community.did, keys };
}

/** The keys of a keys file, checked: its community key is there and is the did:key it names. */
export async function parseInstanceKeys(text: string): Promise<InstanceKeys> {
  let value: Partial<InstanceKeys>;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeysFileError("the keys file is not JSON");
  }
  if (value?.type !== KEYS_TYPE || !Array.isArray(value.keys) || typeof value.community !== "string") {
    throw new KeysFileError(
      `the keys file is not a ${KEYS_TYPE} document (deno task export-keys writes one)`,
    );
  }
  for (const key of value.keys) {
    const fields = [key?.actor, key?.algorithm, key?.privateJwk, key?.publicJwk];
    if (fields.some((f) => typeof f !== "string") || !Number.isSafeInteger(key.created)) {
      throw new KeysFileError("the keys file holds a malformed key");
    }
  }
  const community = await communityKeyIn(value.keys);
  if (!community || community.did !== value.community) {
    throw new KeysFileError(`the keys file does not hold the key of ${value.community}`);
  }
  return value as InstanceKeys;
}

/** The community key among stored keys, or null. */
export async function communityKeyIn(keys: StoredKey[]): Promise<CommunityKey | null> {
  const stored = keys.find((k) => k.actor === COMMUNITY_ACTOR && k.algorithm === ED25519);
  if (!stored) return null;
  try {
    return await communityKeyFromJwk(JSON.parse(stored.privateJwk));
  } catch {
    throw new KeysFileError("the community key is not an Ed25519 private key");
  }
}

/** Stores the keys; a key the database already has for an actor and algorithm stays. */
export async function writeInstanceKeys(tx: Tx, keys: InstanceKeys): Promise<void> {
  if (keys.keys.length > 0) await tx.insert(actorKeys).values(keys.keys).onConflictDoNothing();
}
