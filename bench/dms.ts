/**
 * Direct messages: how many envelopes per second a client seals (encrypt +
 * sign) and opens (verify + decrypt), how many the server checks (shape,
 * size, signature: what it does per DM without the plaintext), and the
 * sends per second through the API on one instance (check + store + live
 * fan-out), sequential.
 */
import { identityFromSigningSecret } from "../server/crypto/derive.ts";
import { signerFromSecret } from "../server/crypto/signer.ts";
import { checkEnvelope } from "../server/dms/crypto.ts";
import { openDm, sealDm, secretAgreement } from "../server/dms/seal.ts";
import { claimedInstance } from "../tests/helpers/instance.ts";
import { joinedMember } from "../tests/dms/support.ts";

export interface DmBenchRow {
  name: string;
  perSecond: number;
  microsecondsEach: number;
}

async function rate(seconds: number, work: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await work(); // warm-up
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await work();
    n++;
  }
  return n / seconds;
}

function row(name: string, perSecond: number): DmBenchRow {
  return { name, perSecond: Math.round(perSecond), microsecondsEach: Math.round(1e6 / perSecond) };
}

export async function benchDms(seconds = 2): Promise<DmBenchRow[]> {
  const party = async () => {
    const identity = identityFromSigningSecret(crypto.getRandomValues(new Uint8Array(32)));
    return {
      did: identity.did,
      agreement: secretAgreement(identity.did, identity.agreementSecret),
      signer: await signerFromSecret(identity.did, identity.signingSecret),
    };
  };
  const [a, b] = [await party(), await party()];
  const text =
    "a direct message of ordinary length, about a hundred characters long, give or take a few words.";
  const envelope = await sealDm({
    agreement: a.agreement,
    signer: a.signer,
    recipient: b.did,
    content: text,
  });
  const rows = [
    row(
      "seal (X25519 + HKDF + XChaCha20-Poly1305 + sign)",
      await rate(
        seconds,
        () => sealDm({ agreement: a.agreement, signer: a.signer, recipient: b.did, content: text }),
      ),
    ),
    row("open (verify + X25519 + HKDF + decrypt)", await rate(seconds, () => openDm(b.agreement, envelope))),
    row("server check (shape + signature)", await rate(seconds, () => checkEnvelope(envelope))),
  ];
  const { instance, owner } = await claimedInstance();
  try {
    const alice = await joinedMember(instance.origin, owner);
    const bob = await joinedMember(instance.origin, owner);
    rows.push(row(
      "POST /api/dms, sequential (check + store + live)",
      await rate(seconds, async () => {
        const sealed = await alice.seal(bob.did, text);
        await alice.client.request("POST", "/dms", { envelope: sealed });
      }),
    ));
  } finally {
    await instance[Symbol.asyncDispose]();
  }
  return rows;
}

if (import.meta.main) {
  for (const r of await benchDms()) console.log(`${r.name}: ${r.perSecond}/s (${r.microsecondsEach} µs)`);
}
