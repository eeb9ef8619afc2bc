/**
 * Key derivation from a BIP-39 mnemonic (documented in docs/identity.md):
 *
 *   seed      = BIP-39 seed of the mnemonic, empty passphrase (64 bytes)
 *   signing   = SLIP-0010 ed25519 key at m/44'/2026'/0'/0' (32-byte seed)
 *   agreement = the X25519 key birationally mapped from `signing`
 *               (as did:key does for its keyAgreement key)
 *   did       = did:key of the Ed25519 public key
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { generateMnemonic as bip39Generate, mnemonicToSeed, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { didFromPublicKey } from "./didkey.ts";

export const HARMONY_PATH = "m/44'/2026'/0'/0'";

const HARDENED = 0x80000000;
const encoder = new TextEncoder();

export interface Slip10Node {
  privateKey: Uint8Array;
  chainCode: Uint8Array;
}

/** SLIP-0010 master node for the ed25519 curve. */
export function slip10Master(seed: Uint8Array): Slip10Node {
  const digest = hmac(sha512, encoder.encode("ed25519 seed"), seed);
  return { privateKey: digest.slice(0, 32), chainCode: digest.slice(32) };
}

/** SLIP-0010 ed25519 derivation; every index must be hardened. */
export function slip10Derive(seed: Uint8Array, path: string): Slip10Node {
  const parts = path.split("/");
  if (parts.shift() !== "m") throw new Error(`bad derivation path: ${path}`);
  let node = slip10Master(seed);
  for (const part of parts) {
    if (!/^\d+'$/.test(part)) throw new Error(`ed25519 derivation needs hardened indices: ${path}`);
    const index = (Number(part.slice(0, -1)) + HARDENED) >>> 0;
    const data = new Uint8Array(37);
    data.set(node.privateKey, 1);
    new DataView(data.buffer).setUint32(33, index);
    const digest = hmac(sha512, node.chainCode, data);
    node = { privateKey: digest.slice(0, 32), chainCode: digest.slice(32) };
  }
  return node;
}

export interface Identity {
  did: string;
  /** 32-byte Ed25519 private key seed. */
  signingSecret: Uint8Array;
  signingPublic: Uint8Array;
  /** 32-byte X25519 private key. */
  agreementSecret: Uint8Array;
  agreementPublic: Uint8Array;
}

export function generateMnemonic(): string {
  return bip39Generate(wordlist, 256);
}

export function isValidMnemonic(mnemonic: string): boolean {
  return validateMnemonic(normalizeMnemonic(mnemonic), wordlist);
}

export function normalizeMnemonic(mnemonic: string): string {
  return mnemonic.trim().toLowerCase().split(/\s+/).join(" ");
}

export function identityFromSigningSecret(signingSecret: Uint8Array): Identity {
  const signingPublic = ed25519.getPublicKey(signingSecret);
  return {
    did: didFromPublicKey(signingPublic),
    signingSecret,
    signingPublic,
    agreementSecret: ed25519.utils.toMontgomerySecret(signingSecret),
    agreementPublic: ed25519.utils.toMontgomery(signingPublic),
  };
}

export async function identityFromMnemonic(mnemonic: string): Promise<Identity> {
  const normalized = normalizeMnemonic(mnemonic);
  if (!validateMnemonic(normalized, wordlist)) {
    throw new Error("not a valid BIP-39 mnemonic (check the words and their order)");
  }
  const seed = await mnemonicToSeed(normalized);
  return identityFromSigningSecret(slip10Derive(seed, HARMONY_PATH).privateKey);
}
