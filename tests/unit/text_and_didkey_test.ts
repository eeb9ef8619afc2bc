import assert from "node:assert/strict";
import { base58 } from "@scure/base";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  didFromPublicKey,
  didOfVerificationMethod,
  InvalidDidError,
  isDidKey,
  publicKeyFromDid,
  publicKeyFromMultibase,
  verificationMethodOf,
  x25519Multibase,
} from "../../server/crypto/didkey.ts";
import { HarmonyError } from "../../server/shared/errors.ts";
import { normalizeChannelName } from "../../server/channels/channels.ts";
import { characterCount, cleanText, hasForbiddenCharacters } from "../../server/shared/text.ts";

function refusedWith(code: string, fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof HarmonyError, `expected a HarmonyError, got ${error}`);
    assert.equal(error.code, code);
    assert.equal(error.status, 422);
    if (message) assert.match(error.message, message);
    return true;
  });
}

Deno.test("text: length counts code points, so an emoji or astral character is one", () => {
  assert.equal(characterCount("abc"), 3);
  assert.equal(characterCount("🎉"), 1);
  assert.equal("🎉".length, 2);
  assert.equal(characterCount("𝄞𠜎é"), 3);
  assert.equal(cleanText("🎉".repeat(64), { field: "display name", max: 64 }), "🎉".repeat(64));
  refusedWith(
    "text_too_long",
    () => cleanText("🎉".repeat(65), { field: "display name", max: 64 }),
    /65 characters.*limit is 64/,
  );
});

Deno.test("text: values are trimmed and NFC-normalised before they are checked", () => {
  assert.equal(cleanText("  cafe\u0301  ", { field: "name", max: 4 }), "café");
  refusedWith("text_too_short", () => cleanText("   ", { field: "name", max: 10 }), /name must not be empty/);
  assert.equal(cleanText("", { field: "topic", max: 10, min: 0 }), "");
});

Deno.test("text: non-text values are refused naming the field", () => {
  for (const value of [undefined, null, 42, {}, ["a"]]) {
    refusedWith("invalid_text", () => cleanText(value, { field: "topic", max: 10 }), /^topic must be text$/);
  }
});

Deno.test("text: one-line fields refuse line breaks, controls and bidi overrides", () => {
  const rules = { field: "display name", max: 64 };
  for (
    const bad of [
      "a\nb",
      "a\rb",
      "a\tb",
      "a\u0000b",
      "a\u0007b",
      "a\u007fb",
      "a\u0085b",
      "evil\u202etxt.exe",
      "a\u2066b\u2069",
    ]
  ) {
    refusedWith(
      "invalid_characters",
      () => cleanText(bad, rules),
      /display name contains control characters/,
    );
  }
  assert.equal(cleanText("Ωmega ✓ 日本", rules), "Ωmega ✓ 日本");
});

Deno.test("text: multi-line text allows line breaks and tabs but no other controls", () => {
  assert.equal(hasForbiddenCharacters("a\nb\r\nc\td", true), false);
  assert.equal(hasForbiddenCharacters("a\nb", false), true);
  for (const bad of ["\u0000", "\u0008", "\u000b", "\u000c", "\u001b[31m", "\u009b", "\u202e", "\u2067"]) {
    assert.equal(hasForbiddenCharacters(`x${bad}y`, true), true, JSON.stringify(bad));
  }
});

Deno.test("channel names: normalised to lower-case slugs; markup and spaces-only names refused", () => {
  assert.equal(normalizeChannelName("  #General Chat "), "general-chat");
  assert.equal(normalizeChannelName("日本語"), "日本語");
  for (const bad of ["<script>", 'a"b', "", "#", "x".repeat(33), "a/b", "a.b", 7]) {
    refusedWith("invalid_channel_name", () => normalizeChannelName(bad));
  }
});

const publicKey = ed25519.getPublicKey(new Uint8Array(32).fill(1));
const did = didFromPublicKey(publicKey);

function invalidDid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidDidError, `expected InvalidDidError, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("did:key: a well-formed Ed25519 did:key decodes to its key", () => {
  assert.equal(isDidKey(did), true);
  assert.deepEqual(publicKeyFromDid(did), publicKey);
  assert.equal(didOfVerificationMethod(verificationMethodOf(did)), did);
});

Deno.test("did:key: other DID methods and multibase encodings are refused", () => {
  invalidDid(() => publicKeyFromDid("did:web:example.com"), /not a did:key/);
  invalidDid(() => publicKeyFromDid(did.replace("did:key:z", "did:key:u")), /not an Ed25519 multibase key/);
  invalidDid(() => publicKeyFromDid(did.replace("did:key:z", "did:key:")), /not an Ed25519 multibase key/);
  // base58btc has no 0, O, I or l.
  invalidDid(() => publicKeyFromMultibase(`z6Mk${"0OIl".repeat(11)}`), /not valid base58btc/);
  assert.equal(isDidKey(did.replace("did:key:", "did:KEY:")), false);
  assert.equal(isDidKey(`${did.slice(0, -1)}0`), false);
});

Deno.test("did:key: keys of another codec are refused", () => {
  // An X25519 key (multicodec 0xec) and a secp256k1 key (0xe7) are not Ed25519 keys.
  invalidDid(
    () => publicKeyFromMultibase(x25519Multibase(new Uint8Array(32).fill(9))),
    /not an Ed25519 multibase key/,
  );
  const secp = new Uint8Array(35);
  secp.set([0xe7, 0x01, 0x02]);
  invalidDid(() => publicKeyFromMultibase(`z${base58.encode(secp)}`), /Ed25519/);
  // Codec bytes chosen so the text still starts "z6Mk": the decoded prefix is checked, not just the text.
  for (const codec of [[0xed, 0x02], [0xed, 0x00], [0xec, 0xff]]) {
    const bytes = new Uint8Array(34);
    bytes.set(codec);
    const encoded = `z${base58.encode(bytes)}`;
    assert.ok(encoded.startsWith("z6Mk"), encoded);
    invalidDid(() => publicKeyFromMultibase(encoded), /not a 32-byte Ed25519 key/);
  }
});

Deno.test("did:key: keys of the wrong length are refused", () => {
  for (const length of [31, 33, 64]) {
    const bytes = new Uint8Array(2 + length).fill(0x42);
    bytes.set([0xed, 0x01]);
    const multibase = `z${base58.encode(bytes)}`;
    invalidDid(() => publicKeyFromMultibase(multibase), /Ed25519/);
    assert.equal(isDidKey(`did:key:${multibase}`), false, `a ${length}-byte key is not a did:key`);
  }
  // A truncated or extended did:key keeps its "z6Mk" text but not 34 bytes.
  for (const multibase of [did.slice(8, -3), `${did.slice(8)}abc`]) {
    invalidDid(() => publicKeyFromMultibase(multibase), /not a 32-byte Ed25519 key/);
    assert.equal(isDidKey(`did:key:${multibase}`), false);
  }
  assert.throws(() => didFromPublicKey(new Uint8Array(31)), /32 bytes/);
});

Deno.test("did:key: a verification method must name the DID's own key fragment", () => {
  const other = didFromPublicKey(ed25519.getPublicKey(new Uint8Array(32).fill(2)));
  assert.equal(didOfVerificationMethod(did), null, "no fragment");
  assert.equal(didOfVerificationMethod(`${did}#${other.slice(8)}`), null, "another key's fragment");
  assert.equal(didOfVerificationMethod(`${did}#key-1`), null);
  assert.equal(didOfVerificationMethod(`did:web:example.com#${did.slice(8)}`), null);
});
