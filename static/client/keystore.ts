/**
 * The member's key on this device: a non-extractable WebCrypto Ed25519
 * key kept in IndexedDB. Page scripts can sign with it but cannot read it
 * out, and it is never sent anywhere.
 */
import { importSigningKey } from "../../server/crypto/ed25519.ts";
import { identityFromMnemonic } from "../../server/crypto/derive.ts";
import { type KeySigner, keySigner } from "../../server/crypto/signer.ts";

const DB_NAME = "harmony";
const STORE = "identity";
const KEY = "current";

interface StoredIdentity {
  did: string;
  signingKey: CryptoKey;
  created: string;
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
export async function saveIdentityFromMnemonic(mnemonic: string): Promise<string> {
  const identity = await identityFromMnemonic(mnemonic);
  const signingKey = await importSigningKey(identity.signingSecret, false);
  identity.signingSecret.fill(0);
  identity.agreementSecret.fill(0);
  const stored: StoredIdentity = { did: identity.did, signingKey, created: new Date().toISOString() };
  await run("readwrite", (s) => s.put(stored, KEY));
  return identity.did;
}

export async function forgetIdentity(): Promise<void> {
  await run("readwrite", (s) => s.delete(KEY));
}

export async function currentSigner(): Promise<KeySigner | null> {
  const stored = await loadIdentity();
  return stored ? keySigner(stored.did, stored.signingKey) : null;
}
