/**
 * The community's own Ed25519 key and its did:key: the controller of the
 * root capability of every channel this instance hosts, and (issue 4) the
 * issuer of the community's Verifiable Credentials.
 *
 * Generated once, stored in actor_keys (actor "community", algorithm
 * "Ed25519", JWKs) through the one writer queue; every later start reads
 * it back. Two first calls racing (or two processes) both end up with the
 * key that was stored first.
 */
import { and, eq } from "drizzle-orm";
import { base64urlnopad } from "@scure/base";
import { actorKeys } from "../../db/schema.ts";
import type { Harmony } from "../harmony.ts";
import { didFromPublicKey, ed25519Multibase, verificationMethodOf } from "../crypto/didkey.ts";
import { type KeySigner, keySigner } from "../crypto/signer.ts";
import { type SuiteSigner, suiteSigner } from "./signer.ts";

export const COMMUNITY_ACTOR = "community";
export const ED25519 = "Ed25519";

export interface CommunityKey {
  /** did:key of the community key. */
  did: string;
  /** Its verification method id (`did#z6Mk…`). */
  verificationMethod: string;
  publicKeyMultibase: string;
  /** For @digitalbazaar suites (zcap delegation, VC issuance). */
  signer: SuiteSigner;
  /** For our own eddsa-jcs-2022 proofs (server/crypto/dataIntegrity.ts). */
  keySigner: KeySigner;
}

const loaded = new WeakMap<Harmony, Promise<CommunityKey>>();

/** The community key of `h` (generated and stored on first use). */
export function communityKey(h: Harmony): Promise<CommunityKey> {
  let key = loaded.get(h);
  if (!key) {
    key = loadOrCreate(h);
    loaded.set(h, key);
    key.catch(() => {
      if (loaded.get(h) === key) loaded.delete(h);
    });
  }
  return key;
}

interface StoredKey {
  privateJwk: string;
  publicJwk: string;
}

async function loadOrCreate(h: Harmony): Promise<CommunityKey> {
  const where = and(eq(actorKeys.actor, COMMUNITY_ACTOR), eq(actorKeys.algorithm, ED25519));
  let [stored]: StoredKey[] = await h.db.select().from(actorKeys).where(where);
  if (!stored) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const row = {
      actor: COMMUNITY_ACTOR,
      algorithm: ED25519,
      privateJwk: JSON.stringify(await crypto.subtle.exportKey("jwk", pair.privateKey)),
      publicJwk: JSON.stringify(await crypto.subtle.exportKey("jwk", pair.publicKey)),
      created: Date.now(),
    };
    // If another writer stored one first, keep theirs and use it.
    [stored] = await h.database.write(async (tx) => {
      await tx.insert(actorKeys).values(row).onConflictDoNothing();
      return await tx.select().from(actorKeys).where(where);
    });
  }
  return await communityKeyFromJwk(JSON.parse(stored.privateJwk));
}

/** The community key view of an Ed25519 private JWK. */
export async function communityKeyFromJwk(privateJwk: JsonWebKey): Promise<CommunityKey> {
  if (privateJwk.kty !== "OKP" || privateJwk.crv !== ED25519 || !privateJwk.x || !privateJwk.d) {
    throw new Error("the stored community key is not an Ed25519 private JWK");
  }
  const publicKey = base64urlnopad.decode(privateJwk.x);
  const did = didFromPublicKey(publicKey);
  const verificationMethod = verificationMethodOf(did);
  const { key_ops: _ops, ext: _ext, ...jwk } = privateJwk;
  const privateKey = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["sign"]);
  return {
    did,
    verificationMethod,
    publicKeyMultibase: ed25519Multibase(publicKey),
    signer: suiteSigner(verificationMethod, privateKey),
    keySigner: keySigner(did, privateKey),
  };
}
