/**
 * Our channel actors sign their capability invocations with their own
 * Ed25519 key, the one their actor document lists as a Multikey.
 */
import type { Harmony } from "../../server/harmony.ts";
import { type SuiteSigner, suiteSigner } from "../../server/capabilities/signer.ts";
import { actorKeys, ed25519KeyId } from "../keys.ts";

export async function channelSigner(h: Harmony, channelId: string): Promise<SuiteSigner> {
  const { ed25519 } = await actorKeys(h, channelId);
  return suiteSigner(ed25519KeyId(h.iris.channelActor(channelId)), ed25519.privateKey);
}
