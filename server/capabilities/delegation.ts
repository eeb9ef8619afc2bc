/**
 * Verifying a delegated capability on its own (not an invocation): its
 * delegation proof and every link of its chain up to a root capability we
 * trust, with @digitalbazaar/zcap 9. Used for the capabilities members hold
 * in their community (roles, and what they delegate to bots and others),
 * whose links are signed by members' did:keys (eddsa-jcs-2022) or by the
 * community key (eddsa-rdfc-2022).
 */
// deno-lint-ignore-file no-explicit-any
import jsigs from "jsonld-signatures";
import { CapabilityDelegation } from "@digitalbazaar/zcap";
import { createDocumentLoader, rootCapabilityId } from "./loader.ts";
import { verifySuites } from "./suites.ts";

export interface VerifyDelegationOptions {
  /** The root target the chain must start from. */
  rootTarget: string;
  /** The DID controlling that root. */
  rootController: string;
  now?: Date;
  maxChainLength?: number;
  useDelegationCache?: boolean;
}

export type DelegationResult =
  | { verified: true; chainIds: string[] }
  | { verified: false; reason: string };

function messages(error: any): string[] {
  if (!error) return [];
  const nested = Array.isArray(error.errors) ? error.errors.flatMap(messages) : [];
  return [String(error.message ?? error), ...nested];
}

/**
 * Verifies a delegated capability: signatures, controllers, attenuation
 * (actions, expiry, target: a channel under the community is allowed),
 * expiry at `now`. Revocation is the caller's (it must be checked on every
 * use, so it is not part of this cached verification).
 */
export async function verifyDelegation(
  capability: unknown,
  options: VerifyDelegationOptions,
): Promise<DelegationResult> {
  const now = options.now ?? new Date();
  const suite = verifySuites(options.useDelegationCache ?? true);
  const documentLoader = createDocumentLoader({
    rootControllerOf: (target) => (target === options.rootTarget ? options.rootController : null),
  });
  let chainIds: string[] = [];
  let result: any;
  try {
    result = await jsigs.verify(capability, {
      suite,
      purpose: new CapabilityDelegation({
        expectedRootCapability: rootCapabilityId(options.rootTarget),
        allowTargetAttenuation: true,
        suite,
        date: now,
        maxChainLength: options.maxChainLength ?? 6,
        maxClockSkew: 60,
        inspectCapabilityChain: ({ capabilityChain }: { capabilityChain: { id: string }[] }) => {
          chainIds = capabilityChain.map((z) => z.id);
          return Promise.resolve({ valid: true });
        },
      }),
      documentLoader,
    });
  } catch (error) {
    return { verified: false, reason: [...new Set(messages(error))].join(" | ") };
  }
  if (!result?.verified) {
    const reasons = [
      ...messages(result?.error),
      ...(result?.results ?? []).flatMap((
        r: any,
      ) => [...messages(r.error), ...messages(r.purposeResult?.error)]),
    ];
    const distinct = [...new Set(reasons.filter((r) => r && r !== "Verification error(s)."))];
    return { verified: false, reason: distinct.join(" | ") || "the capability does not verify" };
  }
  const id = (capability as { id: string }).id;
  if (!chainIds.includes(id)) chainIds = [...chainIds, id];
  return { verified: true, chainIds };
}
