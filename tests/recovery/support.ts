/** Shared pieces of the recovery tests: a community with a member, guardians and signed documents. */
import type { HarmonyClient } from "../../cli/client.ts";
import {
  signRecoveryApproval,
  signRecoveryCancel,
  signRecoveryRequest,
  signRecoverySetup,
} from "../../server/documents/documents.ts";
import type { RecoveryRequestView } from "../../server/recovery/recovery.ts";
import { claimedInstance, memberOf } from "../helpers/instance.ts";
import { quickClient } from "../http/support.ts";

export type Request = RecoveryRequestView & { counted?: boolean };

/** A time lock short enough for tests, long enough to look at it while it runs. */
export const DELAY_SECONDS = 2;

export async function recoveryCommunity(env: Record<string, string> = {}) {
  const { instance, owner } = await claimedInstance({
    HARMONY_RECOVERY_DELAY_SECONDS: String(DELAY_SECONDS),
    ...env,
  });
  const member = await memberOf(instance, owner);
  // Guardians only need to sign in; they need not be members.
  const guardians = await Promise.all([0, 1, 2].map(() => quickClient(instance.origin)));
  const community = (await owner.community()).iri;
  return { instance, owner, member, guardians, community };
}

export async function setUp(
  client: HarmonyClient,
  community: string,
  guardians: HarmonyClient[],
  threshold: number,
) {
  const id = await freshId(client, "RecoverySetup");
  const setup = await signRecoverySetup(
    client.signer!,
    community,
    guardians.map((g) => g.did),
    threshold,
    id,
  );
  return await client.request("PUT", "/recovery/setup", { setup });
}

export async function requestRecovery(
  newKey: HarmonyClient,
  community: string,
  oldDid: string,
): Promise<Request> {
  const id = await freshId(newKey, "RecoveryRequest");
  const request = await signRecoveryRequest(newKey.signer!, community, oldDid, id);
  return await newKey.request<Request>("POST", "/recovery/requests", { request });
}

export async function approve(guardian: HarmonyClient, request: Request): Promise<Request> {
  const approval = await signRecoveryApproval(guardian.signer!, request);
  return await guardian.request<Request>("POST", `${pathOf(request)}/approve`, { approval });
}

export async function cancel(oldKey: HarmonyClient, request: Request): Promise<Request> {
  const signed = await signRecoveryCancel(oldKey.signer!, request);
  return await oldKey.request<Request>("POST", `${pathOf(request)}/cancel`, { cancel: signed });
}

export function status(client: HarmonyClient, request: { id: string }): Promise<Request> {
  return client.request<Request>("GET", pathOf(request));
}

/** An id the server mints for the client's next setup or request. */
export async function freshId(
  client: HarmonyClient,
  kind: "RecoverySetup" | "RecoveryRequest",
): Promise<string> {
  return (await client.request<{ id: string }>("POST", "/recovery/ids", { kind })).id;
}

export const pathOf = (request: { id: string }) => `/recovery/requests/${encodeURIComponent(request.id)}`;

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
