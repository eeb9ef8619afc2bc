/**
 * Verifiable Credentials (issue 4, section 1): what the rest of the server
 * uses. See issue.ts (issuing and revoking inside a transaction), status.ts
 * (status lists), admit.ts (admission by presentation), admission.ts (the
 * policy) and docs/api.md.
 */
import { notFound, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { ensureCredentials } from "./issue.ts";
import {
  type CredentialRecord,
  credentialsOf,
  findCredential,
  statusListNumber,
  statusListUrl,
} from "./store.ts";
import { storedStatusList } from "./store.ts";

export {
  ensureCredentials,
  issueMembershipCredential,
  issueRoleCredential,
  moveCredentials,
  type RevocationKind,
  revokeMemberCredentials,
  syncRoleCredentials,
} from "./issue.ts";
export type { CredentialRecord } from "./store.ts";
export { communityKey } from "../capabilities/communityKey.ts";

/** The signed-in member's credentials (revoked ones too), issuing any they lack first. */
export async function listCredentials(h: Harmony, actor: Actor): Promise<CredentialRecord[]> {
  if (!actor.did) throw unauthorized("sign in to see your credentials");
  await ensureCredentials(h, actor.did);
  return await credentialsOf(h.db, h, actor.did);
}

/** Accepts a credential id as `urn:uuid:…` or the bare UUID. */
export function credentialIdFrom(text: string): string {
  return text.startsWith("urn:uuid:") ? text : `urn:uuid:${text}`;
}

/** One of the signed-in member's credentials; 404 for anyone else's. */
export async function getCredential(h: Harmony, actor: Actor, id: string): Promise<CredentialRecord> {
  if (!actor.did) throw unauthorized("sign in to see your credentials");
  const record = await findCredential(h.db, h, credentialIdFrom(id));
  if (!record || record.subject !== actor.did) throw notFound("you hold no credential with this id");
  return record;
}

/** The signed status list credential number `n`, as published at /credentials/status/{n}. */
export async function publishedStatusList(h: Harmony, n: string): Promise<Record<string, unknown>> {
  const url = /^[1-9][0-9]{0,8}$/.test(n) ? statusListUrl(h, Number(n)) : "";
  const list = url && statusListNumber(h, url) !== null ? await storedStatusList(h.db, h, url) : null;
  if (!list) throw notFound("there is no such status list");
  return list;
}

/** The JSON the API gives for a credential record. */
export function credentialJson(record: CredentialRecord) {
  return {
    id: record.id,
    kind: record.kind,
    role: record.role,
    issued: record.issued,
    revoked: record.revoked,
    revokedAt: record.revokedAt,
    status: { statusListCredential: record.statusList, statusListIndex: record.statusIndex },
    credential: record.credential,
  };
}
