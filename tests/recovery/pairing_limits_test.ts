/**
 * Strangers cannot wear device pairing down (issue 14, section 6): one
 * requester cannot fill the instance's pairings for everyone, codes cannot
 * be looked up without limit, and both limits survive a restart. Requests
 * come from different loopback addresses (127.0.0.2, .3, …) so the server
 * sees different requesters, as it would on the internet.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { base64urlnopad } from "@scure/base";
import { HarmonyClient } from "../../cli/client.ts";
import {
  LOOKUP_WINDOW_MS,
  MAX_LOOKUPS_PER_WINDOW,
  MAX_PAIRINGS_PER_REQUESTER,
  PAIRING_TTL_MS,
  waitingPairings,
} from "../../server/recovery/pairing.ts";
import { newPairingCode, normalizePairingCode } from "../../server/recovery/pairingCrypto.ts";
import { newPairingKeys, sealKeyForDevice } from "../../server/recovery/pairingBox.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { signerFromSecret } from "../../server/crypto/signer.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { freePort } from "../http/support.ts";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** One API request sent from `from` (a loopback address) to the instance. */
function send(
  instance: { origin: string },
  from: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const url = new URL(`/api${path}`, instance.origin);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method, headers, localAddress: from },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => text += chunk);
        response.on(
          "end",
          () =>
            resolve({
              status: response.statusCode!,
              headers: response.headers,
              json: text ? JSON.parse(text) : null,
            }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const publicKey = () => base64urlnopad.encode(newPairingKeys().publicKey);
const openPairing = (instance: { origin: string }, from: string, headers?: Record<string, string>) =>
  send(instance, from, "POST", "/pairings", { body: { publicKey: publicKey() }, headers });

function assertRefused(answer: Answer, status: number, code: string) {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.equal(answer.json.error, code);
}

async function signedIn(instance: { origin: string }) {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const did = identityFromSigningSecret(secret.slice()).did;
  const client = new HarmonyClient(instance.origin, await signerFromSecret(did, secret.slice()));
  await client.signIn();
  return { token: client.token!, did, secret };
}

Deno.test("a thousand pairings from one address leave the others free to pair", async () => {
  await using instance = await startTestInstance();
  let created = 0;
  let refused: Answer | null = null;
  for (let i = 0; i < 1000; i++) {
    const answer = await openPairing(instance, "127.0.0.2");
    if (answer.status === 201) created++;
    else refused ??= answer;
  }
  assert.equal(created, MAX_PAIRINGS_PER_REQUESTER);
  assertRefused(refused!, 429, "too_many_pairings");
  const retryAfter = Number(refused!.headers["retry-after"]);
  assert.ok(retryAfter >= 1 && retryAfter <= PAIRING_TTL_MS / 1000, `Retry-After ${retryAfter}`);
  assert.equal(await waitingPairings(instance.harmony), MAX_PAIRINGS_PER_REQUESTER, "refusals store nothing");

  // Someone else, elsewhere, still gets a code.
  const other = await openPairing(instance, "127.0.0.3");
  assert.equal(other.status, 201, JSON.stringify(other.json));
  assert.match(other.json.code, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
});

Deno.test("pairing codes are looked up at most ten times per window, per address and per DID", async () => {
  await using instance = await startTestInstance();
  const code = (await openPairing(instance, "127.0.0.2")).json.code as string;
  const guesser = await signedIn(instance);
  for (let i = 0; i < MAX_LOOKUPS_PER_WINDOW; i++) {
    const guess = await send(instance, "127.0.0.4", "GET", `/pairings/${newPairingCode()}`, {
      token: guesser.token,
    });
    assertRefused(guess, 404, "not_found");
  }
  // The eleventh is refused even for a code that exists, so it tells nothing.
  const over = await send(instance, "127.0.0.4", "GET", `/pairings/${code}`, { token: guesser.token });
  assertRefused(over, 429, "too_many_pairings");
  assert.ok(Number(over.headers["retry-after"]) <= LOOKUP_WINDOW_MS / 1000);
  // A delivery is a look-up too.
  const sealed = sealKeyForDevice(
    guesser.secret,
    newPairingKeys().publicKey,
    normalizePairingCode(code)!,
    guesser.did,
  );
  assertRefused(
    await send(instance, "127.0.0.4", "POST", `/pairings/${code}/key`, {
      token: guesser.token,
      body: sealed,
    }),
    429,
    "too_many_pairings",
  );
  // The same DID from another address, and another DID from the same address, are refused as well.
  assertRefused(
    await send(instance, "127.0.0.5", "GET", `/pairings/${code}`, { token: guesser.token }),
    429,
    "too_many_pairings",
  );
  const neighbour = await signedIn(instance);
  assertRefused(
    await send(instance, "127.0.0.4", "GET", `/pairings/${code}`, { token: neighbour.token }),
    429,
    "too_many_pairings",
  );
  // Another member elsewhere looks the code up and delivers normally.
  const owner = await signedIn(instance);
  const found = await send(instance, "127.0.0.6", "GET", `/pairings/${code}`, { token: owner.token });
  assert.equal(found.status, 200, JSON.stringify(found.json));
  const delivery = sealKeyForDevice(
    owner.secret,
    base64urlnopad.decode(found.json.publicKey),
    normalizePairingCode(code)!,
    owner.did,
  );
  const delivered = await send(instance, "127.0.0.6", "POST", `/pairings/${code}/key`, {
    token: owner.token,
    body: delivery,
  });
  assert.equal(delivered.status, 204);
});

Deno.test("a wrong pick-up token is answered as an unknown code", async () => {
  await using instance = await startTestInstance();
  const opened = (await openPairing(instance, "127.0.0.2")).json;
  const wrong = await send(instance, "127.0.0.7", "POST", `/pairings/${opened.code}/pickup`, {
    body: { token: "not-the-token" },
  });
  const unknown = await send(instance, "127.0.0.7", "POST", `/pairings/${newPairingCode()}/pickup`, {
    body: { token: "not-the-token" },
  });
  assertRefused(wrong, 404, "not_found");
  assert.deepEqual(wrong.json, unknown.json);
  const right = await send(instance, "127.0.0.2", "POST", `/pairings/${opened.code}/pickup`, {
    body: { token: opened.token },
  });
  assert.equal(right.json.state, "waiting");
});

Deno.test("the pairing limits survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "harmony-pairing-limits-" });
  const port = freePort();
  const env = {
    PORT: String(port),
    HARMONY_ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${dir}/harmony.db`,
  };
  let instance: TestInstance | null = await startTestInstance(env);
  try {
    for (let i = 0; i < MAX_PAIRINGS_PER_REQUESTER; i++) {
      assert.equal((await openPairing(instance, "127.0.0.2")).status, 201);
    }
    const guesser = await signedIn(instance);
    for (let i = 0; i < MAX_LOOKUPS_PER_WINDOW; i++) {
      await send(instance, "127.0.0.4", "GET", `/pairings/${newPairingCode()}`, { token: guesser.token });
    }
    await instance[Symbol.asyncDispose]();
    instance = await startTestInstance(env);
    assertRefused(await openPairing(instance, "127.0.0.2"), 429, "too_many_pairings");
    assertRefused(
      await send(instance, "127.0.0.4", "GET", `/pairings/${newPairingCode()}`, { token: guesser.token }),
      429,
      "too_many_pairings",
    );
  } finally {
    await instance?.[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("behind a trusted proxy each forwarded client has its own limit; others cannot spoof one", async () => {
  await using instance = await startTestInstance({ HARMONY_TRUSTED_PROXIES: "127.0.0.8" });
  const via = (client: string) => ({ "x-forwarded-for": `203.0.113.66, ${client}` });
  for (let i = 0; i < MAX_PAIRINGS_PER_REQUESTER; i++) {
    assert.equal((await openPairing(instance, "127.0.0.8", via("198.51.100.7"))).status, 201);
  }
  assertRefused(await openPairing(instance, "127.0.0.8", via("198.51.100.7")), 429, "too_many_pairings");
  // The first hop is the client's own claim: changing it changes nothing.
  assertRefused(
    await openPairing(instance, "127.0.0.8", { "x-forwarded-for": "192.0.2.1, 198.51.100.7" }),
    429,
    "too_many_pairings",
  );
  assert.equal((await openPairing(instance, "127.0.0.8", via("198.51.100.8"))).status, 201);

  // A client that is not the proxy cannot pick an address by sending the header itself.
  for (let i = 0; i < MAX_PAIRINGS_PER_REQUESTER; i++) {
    assert.equal(
      (await openPairing(instance, "127.0.0.9", { "x-forwarded-for": `192.0.2.${i}` })).status,
      201,
    );
  }
  assertRefused(
    await openPairing(instance, "127.0.0.9", { "x-forwarded-for": "192.0.2.99" }),
    429,
    "too_many_pairings",
  );
});
