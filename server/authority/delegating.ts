/**
 * Signing a delegation from one's own capabilities: pure and isomorphic, so
 * the browser, the CLI and bots delegate the same way.
 */
import type { Signer } from "../crypto/dataIntegrity.ts";
import { type DelegatedCapability, signDelegation } from "../documents/documents.ts";

export interface HeldSummary {
  id: string;
  actions: string[];
  target: string;
  expires: string;
  revoked: boolean;
  capability: unknown;
}

/** The narrowest capability in `held` that covers `actions` on `target` (a channel under the community, or it). */
export function pickParent(held: HeldSummary[], actions: string[], target: string): HeldSummary | null {
  const fits = held.filter((c) =>
    !c.revoked && Date.parse(c.expires) > Date.now() &&
    (target === c.target || target.startsWith(`${c.target}/`)) &&
    actions.every((a) => c.actions.includes(a))
  );
  fits.sort((a, b) => a.actions.length - b.actions.length);
  return fits[0] ?? null;
}

/**
 * Delegates `actions` on `target` to `controller` from the narrowest
 * capability the signer holds, lasting until `expires` (capped at the
 * parent's expiry).
 */
export function delegateFrom(
  signer: Signer,
  held: HeldSummary[],
  request: { controller: string; actions: string[]; target: string; expires?: string },
): Promise<DelegatedCapability> {
  const parent = pickParent(held, request.actions, request.target);
  if (!parent) throw new Error(`you hold no capability allowing ${request.actions.join(", ")} there`);
  const expires = request.expires && Date.parse(request.expires) < Date.parse(parent.expires)
    ? request.expires
    : parent.expires;
  return signDelegation(signer, {
    parent: parent.capability as DelegatedCapability,
    controller: request.controller,
    invocationTarget: request.target,
    allowedAction: request.actions,
    expires,
  });
}
