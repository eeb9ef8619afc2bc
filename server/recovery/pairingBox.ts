/**
 * Sealing the member's key for a new device and opening it there (the
 * scheme is in pairingCrypto.ts). Only the two devices run this; the server
 * does not load it.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import {
  decodeKey,
  PAIRING_CONTEXT,
  type PairingKeys,
  SEALED_LENGTH,
  type SealedKey,
} from "./pairingCrypto.ts";

const encoder = new TextEncoder();

export function newPairingKeys(): PairingKeys {
  const secretKey = x25519.utils.randomSecretKey();
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

function context(code: string, did: string): Uint8Array {
  return encoder.encode(`${PAIRING_CONTEXT}|${code}|${did}`);
}

function boxKey(
  secretKey: Uint8Array,
  peer: Uint8Array,
  sender: Uint8Array,
  receiver: Uint8Array,
  info: Uint8Array,
) {
  const shared = x25519.getSharedSecret(secretKey, peer);
  if (shared.every((b) => b === 0)) throw new Error("the pairing key is not a valid X25519 public key");
  const salt = new Uint8Array(64);
  salt.set(sender);
  salt.set(receiver, 32);
  const key = hkdf(sha256, shared, salt, info, 32);
  shared.fill(0);
  return key;
}

/** Seals the member's 32-byte Ed25519 secret for the new device's public key. */
export function sealKeyForDevice(
  secret: Uint8Array,
  receiverPublicKey: Uint8Array,
  code: string,
  did: string,
): SealedKey {
  if (secret.length !== 32) throw new Error("the secret to send is 32 bytes");
  const sender = newPairingKeys();
  const info = context(code, did);
  const key = boxKey(sender.secretKey, receiverPublicKey, sender.publicKey, receiverPublicKey, info);
  sender.secretKey.fill(0);
  const nonce = crypto.getRandomValues(new Uint8Array(24));
  const ciphertext = xchacha20poly1305(key, nonce, info).encrypt(secret);
  key.fill(0);
  return {
    senderPublicKey: base64urlnopad.encode(sender.publicKey),
    nonce: base64urlnopad.encode(nonce),
    ciphertext: base64urlnopad.encode(ciphertext),
  };
}

/** Opens what `sealKeyForDevice` sealed; throws if anything was changed on the way. */
export function openSealedKey(
  sealed: SealedKey,
  receiver: PairingKeys,
  code: string,
  did: string,
): Uint8Array {
  const senderPublicKey = decodeKey(sealed.senderPublicKey, 32, "senderPublicKey");
  const nonce = decodeKey(sealed.nonce, 24, "nonce");
  const ciphertext = decodeKey(sealed.ciphertext, SEALED_LENGTH, "ciphertext");
  const info = context(code, did);
  const key = boxKey(receiver.secretKey, senderPublicKey, senderPublicKey, receiver.publicKey, info);
  try {
    return xchacha20poly1305(key, nonce, info).decrypt(ciphertext);
  } catch {
    throw new Error("the key could not be opened: it was not sealed for this device, or it was altered");
  } finally {
    key.fill(0);
  }
}
