/**
 * The member's key on this device: a non-extractable WebCrypto Ed25519
 * key kept in IndexedDB. Page scripts can sign with it but cannot read it
 * out, and it is never sent anywhere.
 */
import { base64urlnopad } from "@scure/base";
import { importSigningKey } from "../../server/crypto/ed25519.ts";
import { identityFromMnemonic, identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { type KeySigner, keySigner } from "../../server/crypto/signer.ts";

const DB_NAME = "harmony";
const STORE = "identity";
const KEY = "current";

export interface StoredIdentity {
  did: string;
  signingKey: CryptoKey;
  created: string;
  /**
   * Only when the member allowed this device to add other devices without
   * the recovery phrase (docs/identity.md, "Adding a device"): the Ed25519
   * secret encrypted with AES-GCM under a non-extractable key kept beside it.
   */
  linkable?: { wrappingKey: CryptoKey; iv: Uint8Array; sealed: ArrayBuffer };
  /**
   * The X25519 key for end-to-end encrypted direct messages (docs/dms.md),
   * mapped from the same secret, kept as a non-extractable WebCrypto key.
   * Absent on devices set up before DMs existed (the DM page adds it).
   */
  agreementKey?: CryptoKey;
}

export interface SaveOptions {
  /** Keep an encrypted copy of the secret so this device can add others (opt-in). */
  linkable?: boolean;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export async function loadIdentity(): Promise<StoredIdentity | null> {
  return (await run("readonly", (s) => s.get(KEY))) as StoredIdentity | null ?? null;
}

/** Derives the keys from a mnemonic and keeps only the non-extractable signing key. */
export async function saveIdentityFromMnemonic(mnemonic: string, options: SaveOptions = {}): Promise<string> {
  const identity = await identityFromMnemonic(mnemonic);
  identity.agreementSecret.fill(0);
  return await saveIdentityFromSecret(identity.signingSecret, options);
}

/**
 * Keeps a 32-byte Ed25519 secret (from a mnemonic, or sealed by another
 * device) as a non-extractable key, and wipes the bytes.
 */
export async function saveIdentityFromSecret(secret: Uint8Array, options: SaveOptions = {}): Promise<string> {
  const identity = identityFromSigningSecret(secret);
  // A browser without WebCrypto X25519 still keeps the identity; only direct messages need this key.
  const agreementKey = await importAgreementKey(identity.agreementSecret, identity.agreementPublic)
    .catch(() => undefined);
  identity.agreementSecret.fill(0);
  const signingKey = await importSigningKey(secret, false);
  const stored: StoredIdentity = {
    did: identity.did,
    signingKey,
    agreementKey,
    created: new Date().toISOString(),
  };
  if (options.linkable) {
    const wrappingKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(identity.did) },
      wrappingKey,
      secret as BufferSource,
    );
    stored.linkable = { wrappingKey, iv, sealed };
  }
  secret.fill(0);
  await run("readwrite", (s) => s.put(stored, KEY));
  return identity.did;
}

/**
 * The secret of a device that allowed adding devices, for sealing it to a
 * new one right away; null otherwise. The caller wipes it after use.
 */
export async function linkableSecret(): Promise<Uint8Array | null> {
  const stored = await loadIdentity();
  if (!stored?.linkable) return null;
  const { wrappingKey, iv, sealed } = stored.linkable;
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: iv as BufferSource, additionalData: new TextEncoder().encode(stored.did) },
    wrappingKey,
    sealed,
  );
  return new Uint8Array(plain);
}

/** A non-extractable WebCrypto X25519 private key from its raw bytes. */
export async function importAgreementKey(secret: Uint8Array, publicKey: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "X25519", d: base64urlnopad.encode(secret), x: base64urlnopad.encode(publicKey) },
    { name: "X25519" },
    false,
    ["deriveBits"],
  );
}

/** Adds the DM key to a device that has the identity but not it (from the recovery phrase). */
export async function addAgreementKeyFromMnemonic(mnemonic: string): Promise<CryptoKey> {
  const stored = await loadIdentity();
  if (!stored) throw new Error("this device holds no identity");
  const identity = await identityFromMnemonic(mnemonic);
  identity.signingSecret.fill(0);
  if (identity.did !== stored.did) {
    identity.agreementSecret.fill(0);
    throw new Error("this recovery phrase belongs to another identity than the one on this device");
  }
  const agreementKey = await importAgreementKey(identity.agreementSecret, identity.agreementPublic);
  identity.agreementSecret.fill(0);
  await run("readwrite", (s) => s.put({ ...stored, agreementKey }, KEY));
  return agreementKey;
}

export async function forgetIdentity(): Promise<void> {
  await run("readwrite", (s) => s.delete(KEY));
}

export async function currentSigner(): Promise<KeySigner | null> {
  const stored = await loadIdentity();
  return stored ? keySigner(stored.did, stored.signingKey) : null;
}
