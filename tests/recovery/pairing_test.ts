/**
 * Device pairing through the API: the key travels sealed to the new
 * device's one-time X25519 key, the server holds only ciphertext, a pairing
 * works once and expires after five minutes.
 */
import assert from "node:assert/strict";
import { base64, base64urlnopad, hex } from "@scure/base";
import { ApiError, HarmonyClient } from "../../cli/client.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { signerFromSecret } from "../../server/crypto/signer.ts";
import { createPairing, PAIRING_TTL_MS } from "../../server/recovery/pairing.ts";
import {
  normalizePairingCode,
  pairingFingerprint,
  type SealedKey,
} from "../../server/recovery/pairingCrypto.ts";
import { newPairingKeys, openSealedKey, sealKeyForDevice } from "../../server/recovery/pairingBox.ts";
import { startTestInstance } from "../helpers/instance.ts";
import { http } from "../http/support.ts";

const refusedWith = (status: number, code: string) => (error: unknown) => {
  assert.ok(error instanceof ApiError, `expected an ApiError, got ${error}`);
  assert.equal(error.status, status, `${error.code}: ${error.message}`);
  assert.equal(error.code, code);
  return true;
};

/** A signed-in client whose raw secret the test knows (to look for it later). */
async function existingDevice(origin: string) {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const did = identityFromSigningSecret(secret.slice()).did;
  const client = new HarmonyClient(origin, await signerFromSecret(did, secret.slice()));
  await client.signIn();
  return { client, secret, did };
}

interface Pairing {
  code: string;
  token: string;
  expires: string;
  fingerprint: string;
}

type PickUp = { state: "waiting" } | {
  state: "delivered";
  did: string;
  sealed: SealedKey;
  identity: { did: string; name: string | null; avatar: string | null; member: boolean };
};

/** Every encoding of the secret someone might leak it in. */
function encodings(secret: Uint8Array): string[] {
  return [hex.encode(secret), base64.encode(secret), base64urlnopad.encode(secret)];
}

async function databaseText(dir: string): Promise<string> {
  let text = "";
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) text += new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${entry.name}`));
  }
  return text;
}

Deno.test("a pairing hands the key to the new device sealed to its X25519 key, and works once", async () => {
  await using instance = await startTestInstance();
  const anonymous = new HarmonyClient(instance.origin);
  const device = newPairingKeys();
  const pairing = await anonymous.request<Pairing>("POST", "/pairings", {
    publicKey: base64urlnopad.encode(device.publicKey),
  });
  assert.match(pairing.code, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.equal(pairing.fingerprint, pairingFingerprint(device.publicKey));
  assert.ok(Date.parse(pairing.expires) - Date.now() <= PAIRING_TTL_MS);
  const pickUp = () =>
    anonymous.request<PickUp>("POST", `/pairings/${pairing.code}/pickup`, { token: pairing.token });
  assert.equal((await pickUp()).state, "waiting");

  const { client, secret, did } = await existingDevice(instance.origin);
  // Typed loosely on the other device: lower case, no dash.
  const typed = pairing.code.toLowerCase().replace("-", "");
  const info = await client.request<{ publicKey: string; fingerprint: string }>("GET", `/pairings/${typed}`);
  assert.equal(info.fingerprint, pairing.fingerprint, "both screens show the same fingerprint");
  const code = normalizePairingCode(typed)!;
  const sealed = sealKeyForDevice(secret, base64urlnopad.decode(info.publicKey), code, did);
  await client.request("POST", `/pairings/${typed}/key`, sealed);
  await assert.rejects(
    client.request("POST", `/pairings/${typed}/key`, sealKeyForDevice(secret, device.publicKey, code, did)),
    refusedWith(409, "pairing_used"),
  );

  // The new device: a wrong token is refused (as an unknown code); the right one gets the sealed key once.
  await assert.rejects(
    anonymous.request("POST", `/pairings/${pairing.code}/pickup`, { token: "not-the-token" }),
    refusedWith(404, "not_found"),
  );
  const delivered = await pickUp();
  assert.equal(delivered.state, "delivered");
  if (delivered.state !== "delivered") return;
  assert.equal(delivered.did, did);
  // Whose identity arrived, for the new device to show before using it.
  assert.deepEqual(delivered.identity, { did, name: null, avatar: null, member: false });
  assert.deepEqual(openSealedKey(delivered.sealed, device, normalizePairingCode(pairing.code)!, did), secret);
  await assert.rejects(pickUp(), refusedWith(404, "not_found"));
  await assert.rejects(client.request("GET", `/pairings/${typed}`), refusedWith(404, "not_found"));

  // The new device signs in with the key it received.
  const opened = openSealedKey(delivered.sealed, device, code, did);
  const newDevice = new HarmonyClient(instance.origin, await signerFromSecret(did, opened));
  assert.equal((await newDevice.signIn()).did, did);
});

Deno.test("the server never holds the key in the clear: the database and the traffic carry only ciphertext", async () => {
  await using instance = await startTestInstance();
  const device = newPairingKeys();
  const traffic: string[] = [];
  const send = async (method: string, path: string, body: unknown, token?: string) => {
    traffic.push(JSON.stringify(body ?? null));
    const reply = await http(instance.origin, method, `/api${path}`, { body, token });
    traffic.push(reply.text);
    return reply;
  };
  const pairing = (await send("POST", "/pairings", { publicKey: base64urlnopad.encode(device.publicKey) }))
    .json as Pairing;
  const { client, secret, did } = await existingDevice(instance.origin);
  const info = (await send("GET", `/pairings/${pairing.code}`, undefined, client.token!)).json;
  const code = normalizePairingCode(pairing.code)!;
  const sealed = sealKeyForDevice(secret, base64urlnopad.decode(info.publicKey), code, did);
  assert.equal((await send("POST", `/pairings/${pairing.code}/key`, sealed, client.token!)).status, 204);

  // At rest, while the key waits for its pick-up.
  const atRest = await databaseText(instance.dir);
  for (const form of encodings(secret)) {
    assert.ok(!atRest.includes(form), "the database does not hold the secret");
    assert.ok(!traffic.join("\n").includes(form), "no request or response carries the secret");
  }
  assert.ok(atRest.includes(sealed.ciphertext), "the database holds the ciphertext");

  const delivered = (await send("POST", `/pairings/${pairing.code}/pickup`, { token: pairing.token })).json;
  assert.equal(delivered.state, "delivered");
  for (const form of encodings(secret)) assert.ok(!traffic.join("\n").includes(form));
  assert.deepEqual(openSealedKey(delivered.sealed, device, code, did), secret);

  // A ciphertext that was changed on the way does not open.
  const bytes = base64urlnopad.decode(sealed.ciphertext);
  bytes[0] ^= 1;
  assert.throws(
    () => openSealedKey({ ...sealed, ciphertext: base64urlnopad.encode(bytes) }, device, code, did),
    /could not be opened/,
  );
  // Nor does one relabelled for another code or identity.
  assert.throws(() => openSealedKey(sealed, device, "ZZZZZZZZ", did), /could not be opened/);
  assert.throws(
    () => openSealedKey(sealed, device, code, client.did.replace(/.$/, "x")),
    /could not be opened/,
  );
});

Deno.test("a pairing expires after five minutes", async () => {
  await using instance = await startTestInstance();
  const device = newPairingKeys();
  const old = await createPairing(
    instance.harmony,
    "192.0.2.1",
    { publicKey: base64urlnopad.encode(device.publicKey) },
    Date.now() - PAIRING_TTL_MS - 1000,
  );
  const { client, secret, did } = await existingDevice(instance.origin);
  await assert.rejects(client.request("GET", `/pairings/${old.code}`), refusedWith(410, "pairing_expired"));
  const sealed = sealKeyForDevice(secret, device.publicKey, normalizePairingCode(old.code)!, did);
  await assert.rejects(
    client.request("POST", `/pairings/${old.code}/key`, sealed),
    refusedWith(410, "pairing_expired"),
  );
  const anonymous = new HarmonyClient(instance.origin);
  await assert.rejects(
    anonymous.request("POST", `/pairings/${old.code}/pickup`, { token: old.token }),
    refusedWith(410, "pairing_expired"),
  );
  // Gone for good afterwards.
  await assert.rejects(
    anonymous.request("POST", `/pairings/${old.code}/pickup`, { token: old.token }),
    refusedWith(404, "not_found"),
  );
});

Deno.test("only a signed-in device can look up a pairing or deliver a key, and only a sealed 32-byte key", async () => {
  await using instance = await startTestInstance();
  const device = newPairingKeys();
  const anonymous = new HarmonyClient(instance.origin);
  const pairing = await anonymous.request<Pairing>("POST", "/pairings", {
    publicKey: base64urlnopad.encode(device.publicKey),
  });
  await assert.rejects(
    anonymous.request("GET", `/pairings/${pairing.code}`),
    refusedWith(401, "unauthenticated"),
  );
  const { client, secret, did } = await existingDevice(instance.origin);
  const sealed = sealKeyForDevice(secret, device.publicKey, normalizePairingCode(pairing.code)!, did);
  await assert.rejects(
    anonymous.request("POST", `/pairings/${pairing.code}/key`, sealed),
    refusedWith(401, "unauthenticated"),
  );
  await assert.rejects(
    client.request("POST", `/pairings/${pairing.code}/key`, {
      ...sealed,
      ciphertext: base64urlnopad.encode(secret),
    }),
    refusedWith(422, "malformed_pairing"),
  );
  await assert.rejects(
    anonymous.request("POST", "/pairings", { publicKey: "short" }),
    refusedWith(422, "malformed_pairing"),
  );
  await assert.rejects(client.request("GET", "/pairings/NOPE"), refusedWith(404, "not_found"));
});
