/**
 * The proof service in a worker (server/proofs/mod.ts): it signs and
 * verifies as the calling thread does, signs only through the signer it
 * was handed (which stays on the calling thread), reports refusals as
 * errors with their reason, and stops when idle.
 */
import assert from "node:assert/strict";
import { localProofs, ProofWorker } from "../../server/proofs/mod.ts";
import { rootCapabilityId } from "../../server/capabilities/root.ts";
import type { SuiteSigner } from "../../server/capabilities/signer.ts";
import { verifyDelegation } from "../../server/capabilities/delegation.ts";
import { at, newDidKey, T } from "./fixtures.ts";

function counting(signer: SuiteSigner): SuiteSigner & { calls: number } {
  const counted = {
    id: signer.id,
    algorithm: signer.algorithm,
    calls: 0,
    sign(options: { data: Uint8Array }) {
      counted.calls++;
      return signer.sign(options);
    },
  };
  return counted;
}

async function withWorker(fn: (proofs: ProofWorker) => Promise<void>, idleMs = 60_000): Promise<void> {
  const proofs = new ProofWorker(idleMs);
  try {
    await fn(proofs);
  } finally {
    await proofs.close();
  }
}

const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

Deno.test("a capability delegated in the worker is signed on the calling thread and verifies anywhere", async () => {
  await withWorker(async (proofs) => {
    const community = await newDidKey();
    const signer = counting(community.signer);
    const zcap = await proofs.delegate({
      parent: rootCapabilityId(T),
      controller: "https://a.example/channels/lobby",
      invocationTarget: T,
      allowedAction: ["post", "react"],
      expires: at(60),
      signer,
      now: at(0),
    });
    assert.equal(signer.calls, 1);
    assert.equal(zcap.proof.cryptosuite, "eddsa-rdfc-2022");
    const options = { rootTarget: T, rootController: community.did, now: at(1) };
    const verified = { verified: true, chainIds: [rootCapabilityId(T), zcap.id] };
    assert.deepEqual(await proofs.verifyDelegation(zcap, options), verified);
    assert.deepEqual(await verifyDelegation(zcap, options), verified);
    assert.equal(proofs.starts, 1);
  });
});

Deno.test("a tampered or foreign capability does not verify in the worker", async () => {
  await withWorker(async (proofs) => {
    const community = await newDidKey();
    const other = await newDidKey();
    const zcap = await proofs.delegate({
      parent: rootCapabilityId(T),
      controller: other.did,
      invocationTarget: T,
      allowedAction: ["post"],
      expires: at(60),
      signer: community.signer,
      now: at(0),
    });
    const tampered = { ...zcap, allowedAction: ["post", "delete"] };
    const refused = await proofs.verifyDelegation(tampered, {
      rootTarget: T,
      rootController: community.did,
      now: at(1),
    });
    assert.equal(refused.verified, false);
    const foreignRoot = await proofs.verifyDelegation(zcap, {
      rootTarget: T,
      rootController: other.did,
      now: at(1),
    });
    assert.equal(foreignRoot.verified, false);
  });
});

Deno.test("a delegation the library refuses comes back as an error with its name and reason", async () => {
  await withWorker(async (proofs) => {
    const community = await newDidKey();
    await assert.rejects(
      proofs.delegate({
        parent: rootCapabilityId(T),
        controller: community.did,
        invocationTarget: T,
        allowedAction: ["post"],
        expires: at(1),
        signer: community.signer,
        now: at(2),
      }),
      { name: "CapabilityError", message: "expires must be in the future" },
    );
    const failing: SuiteSigner = {
      id: community.signer.id,
      algorithm: "Ed25519",
      sign: () => Promise.reject(new Error("the key is locked")),
    };
    await assert.rejects(
      proofs.delegate({
        parent: rootCapabilityId(T),
        controller: community.did,
        invocationTarget: T,
        allowedAction: ["post"],
        expires: at(60),
        signer: failing,
        now: at(0),
      }),
      /the key is locked/,
    );
    // The worker survives both.
    const ok = await proofs.encodeStatusList({ length: 16_384 });
    assert.equal(typeof ok, "string");
    assert.equal(proofs.starts, 1);
  });
});

Deno.test("status lists and credentials come out of the worker as they do on the calling thread", async () => {
  await withWorker(async (proofs) => {
    const change = { length: 131_072, set: [5, 77, 131_071] };
    const encoded = await proofs.encodeStatusList(change);
    assert.equal(encoded, await localProofs.encodeStatusList(change));
    const more = await proofs.encodeStatusList({ encodedList: encoded, set: [6] });
    assert.equal(more, await localProofs.encodeStatusList({ length: 131_072, set: [5, 6, 77, 131_071] }));

    const issuer = await newDidKey();
    const credential = {
      "@context": ["https://www.w3.org/ns/credentials/v2"],
      id: "urn:uuid:6a1c7c38-64a8-4a55-9d5b-0d3b9c1a0f00",
      type: ["VerifiableCredential"],
      issuer: issuer.did,
      validFrom: "2030-01-01T00:00:00Z",
      credentialSubject: { id: "did:example:subject" },
    };
    const signed = await proofs.issueCredential(credential, issuer.signer, at(0));
    const proof = signed.proof as Record<string, unknown>;
    assert.equal(proof.cryptosuite, "eddsa-rdfc-2022");
    assert.equal(proof.proofPurpose, "assertionMethod");
    assert.equal(proof.created, "2030-01-01T00:00:00Z");
    // RDFC and Ed25519 are deterministic: the worker signs the very bytes the calling thread would.
    assert.deepEqual(signed, await localProofs.issueCredential(credential, issuer.signer, at(0)));
  });
});

Deno.test("the proof worker stops after a quiet spell and starts again on the next call", async () => {
  await withWorker(async (proofs) => {
    await proofs.encodeStatusList({ length: 16_384 });
    assert.equal(proofs.running, true);
    await until(() => !proofs.running);
    await proofs.encodeStatusList({ length: 16_384 });
    assert.equal(proofs.starts, 2);
  }, 150);
});

Deno.test("a closed proof service refuses calls", async () => {
  const proofs = new ProofWorker();
  await proofs.encodeStatusList({ length: 16_384 });
  await proofs.close();
  assert.equal(proofs.running, false);
  await assert.rejects(proofs.encodeStatusList({ length: 16_384 }), /the proof service is closed/);
});

function lobbyDelegation(signer: SuiteSigner) {
  return {
    parent: rootCapabilityId(T),
    controller: "https://a.example/channels/lobby",
    invocationTarget: T,
    allowedAction: ["post"],
    expires: at(60),
    signer,
    now: at(0),
  };
}

Deno.test("stopping the worker while it starts or while a call waits ends those calls, and idling still stops the next one", async () => {
  await withWorker(async (proofs) => {
    const warming = proofs.warm();
    const starting = proofs.encodeStatusList({ length: 16_384 });
    proofs.stop();
    await assert.rejects(warming, /the proof worker was stopped/);
    await assert.rejects(starting, /the proof worker was stopped/);

    // A call inside the worker, waiting on its signer on this thread.
    const community = await newDidKey();
    let signing!: () => void;
    const asked = new Promise<void>((resolve) => signing = resolve);
    const blocked: SuiteSigner = {
      id: community.signer.id,
      algorithm: "Ed25519",
      sign: () => {
        signing();
        return new Promise<Uint8Array>(() => {});
      },
    };
    const waiting = proofs.delegate(lobbyDelegation(blocked));
    await asked;
    proofs.stop();
    await assert.rejects(waiting, /the proof worker was stopped/);

    await proofs.encodeStatusList({ length: 16_384 });
    await until(() => !proofs.running);
    assert.equal(proofs.starts, 3);
  }, 150);
});

Deno.test("closing the service while a call starts ends the call with an error", async () => {
  const proofs = new ProofWorker();
  const call = proofs.encodeStatusList({ length: 16_384 });
  await proofs.close();
  await assert.rejects(call, /the proof worker was stopped/);
});

Deno.test("arguments or signer answers that cannot cross fail that call only", async () => {
  await withWorker(async (proofs) => {
    class WithMethod {
      method = () => 1;
    }
    const issuer = await newDidKey();
    await assert.rejects(
      proofs.issueCredential({ odd: new WithMethod() }, issuer.signer, at(0)),
      { name: "DataCloneError" },
    );
    const odd: SuiteSigner = {
      id: issuer.signer.id,
      algorithm: "Ed25519",
      sign: () => Promise.resolve({ method() {} } as unknown as Uint8Array),
    };
    await assert.rejects(proofs.delegate(lobbyDelegation(odd)), /could not be cloned|DataCloneError/);
    // Neither left a call behind: the worker goes on, then idles out.
    assert.equal(typeof await proofs.encodeStatusList({ length: 16_384 }), "string");
    assert.equal(proofs.starts, 1);
    await until(() => !proofs.running);
  }, 150);
});

Deno.test("a crashed worker fails its calls, and the next call starts a new one", async () => {
  const failing = new URL("./failing_proof_worker.ts", import.meta.url);
  const proofs = new ProofWorker(60_000, failing);
  try {
    const community = await newDidKey();
    await assert.rejects(
      proofs.delegate(lobbyDelegation(community.signer)),
      /the proof worker failed: .*crashed on purpose/,
    );
    assert.equal(proofs.running, false);
    assert.equal(await proofs.encodeStatusList({ length: 16_384 }), "ok");
    assert.equal(proofs.starts, 2);
  } finally {
    await proofs.close();
  }
});

Deno.test("an error from the worker keeps the stack where it was thrown", async () => {
  await withWorker(async (proofs) => {
    const community = await newDidKey();
    const error = await proofs.delegate({ ...lobbyDelegation(community.signer), expires: at(-1) })
      .then(() => null, (e: Error) => e);
    assert.ok(error);
    assert.equal(error.name, "CapabilityError");
    assert.match(error.stack ?? "", /capabilities\/.*\.ts/);
    assert.match(error.stack ?? "", /crossed from the other thread/);
  });
});
