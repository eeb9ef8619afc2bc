/**
 * Keys of the actors this instance operates: the instance (Application)
 * and every channel (Group). Each has an RSA-2048 key (RSASSA-PKCS1-v1_5,
 * SHA-256: HTTP signatures as Mastodon checks them, and Linked Data
 * signatures) and an Ed25519 key (FEP-8b32 object proofs, FEP-521a
 * Multikey). They are generated once, on first use, and stored as JWK in
 * `actor_keys`. Members' Person actors have no keys here: their key is the
 * one in their did:key, which only they hold.
 */
import { exportJwk, importJwk, signRequest } from "@fedify/fedify";
import type { Harmony } from "../server/harmony.ts";
import { actorUri, INSTANCE } from "./uris.ts";

export interface ActorKeys {
  rsa: CryptoKeyPair;
  ed25519: CryptoKeyPair;
}

const RSA = "RSASSA-PKCS1-v1_5";
const ED25519 = "Ed25519";

async function generate(algorithm: typeof RSA | typeof ED25519): Promise<CryptoKeyPair> {
  if (algorithm === ED25519) {
    return await crypto.subtle.generateKey({ name: ED25519 }, true, ["sign", "verify"]) as CryptoKeyPair;
  }
  // Fedify's generateCryptoKeyPair makes 4096-bit keys; 2048 is what Mastodon uses and signs 5x faster.
  return await crypto.subtle.generateKey(
    { name: RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
}

async function loadOrCreate(h: Harmony, actor: string, algorithm: typeof RSA | typeof ED25519) {
  const read = async () => {
    const result = await h.database.client.execute({
      sql: "SELECT private_jwk, public_jwk FROM actor_keys WHERE actor = ? AND algorithm = ?",
      args: [actor, algorithm],
    });
    const row = result.rows[0];
    if (!row) return null;
    return {
      privateKey: await importJwk(JSON.parse(String(row.private_jwk)), "private"),
      publicKey: await importJwk(JSON.parse(String(row.public_jwk)), "public"),
    };
  };
  const stored = await read();
  if (stored) return stored;
  const pair = await generate(algorithm);
  const privateJwk = JSON.stringify(await exportJwk(pair.privateKey));
  const publicJwk = JSON.stringify(await exportJwk(pair.publicKey));
  await h.database.writeSql((sql) =>
    sql.run(
      `INSERT INTO actor_keys (actor, algorithm, private_jwk, public_jwk, created) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (actor, algorithm) DO NOTHING`,
      [actor, algorithm, privateJwk, publicJwk, Date.now()],
    )
  );
  // Another caller may have stored its pair first: the stored one is the key.
  return (await read())!;
}

const cache = new WeakMap<Harmony, Map<string, Promise<ActorKeys>>>();

/**
 * The key pairs of an actor this instance operates ("instance" or a
 * channel id), generated and stored on first use.
 */
export function actorKeys(h: Harmony, identifier: string): Promise<ActorKeys> {
  let perInstance = cache.get(h);
  if (!perInstance) cache.set(h, perInstance = new Map());
  const actor = actorUri(h.config.origin, identifier);
  let keys = perInstance.get(actor);
  if (!keys) {
    keys = (async () => ({
      rsa: await loadOrCreate(h, actor, RSA),
      ed25519: await loadOrCreate(h, actor, ED25519),
    }))();
    perInstance.set(actor, keys);
    keys.catch(() => perInstance.delete(actor));
  }
  return keys;
}

/**
 * The id of an actor's Ed25519 Multikey in its actor document (its
 * assertionMethod, FEP-521a), which FEP-8b32 proofs name as their
 * verification method. Fedify numbers an actor's Multikeys in key order:
 * RSA first, Ed25519 second.
 */
export function ed25519KeyId(actor: string | URL): string {
  return new URL("#multikey-2", actor).href;
}

/** The id of an actor's RSA key (its `publicKey`, used for HTTP signatures). */
export function rsaKeyId(actor: string | URL): string {
  return new URL("#main-key", actor).href;
}

/** The Group actor IRI of a channel. */
export function channelActorUri(h: Harmony, channelId: string): string {
  return actorUri(h.config.origin, channelId);
}

/**
 * `request` with an HTTP signature (draft-cavage, RSA `#main-key`) by the
 * instance actor: how this instance asks a bridge peer for a members-only
 * channel's actor (federation/visibility.ts), and delivers direct messages.
 */
export async function signedByInstance(h: Harmony, request: Request): Promise<Request> {
  const { rsa } = await actorKeys(h, INSTANCE);
  return await signRequest(request, rsa.privateKey, new URL(rsaKeyId(actorUri(h.config.origin, INSTANCE))));
}
