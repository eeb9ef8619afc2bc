/**
 * The community issues W3C VC 2.0 credentials to its members, signed by its
 * own did:key (server/capabilities/communityKey.ts) with an eddsa-rdfc-2022
 * Data Integrity proof: a MembershipCredential when a member joins and a
 * RoleCredential for each role held. Each one carries a
 * BitstringStatusListEntry; revoking sets its bit and re-signs the list
 * (served at /credentials/status/N).
 *
 * Everything here runs inside the caller's write transaction (`tx` from
 * h.database.write or h.writeCommunity), so a credential is issued or
 * revoked in the same commit as the membership change that caused it.
 *
 * Status list indexes are allocated from a persistent counter per list and
 * spread over the list by a fixed bijection (index = a·n + b mod 2^17, a
 * odd), so they are never reused and do not reveal the order of issue.
 */
import { and, eq } from "drizzle-orm";
import type { Tx } from "../../db/client.ts";
import { describe, quadStore } from "../../db/quadstore.ts";
import { actorKeys } from "../../db/schema.ts";
import { boolean, dateTime, integer, iri, literal, quad } from "../../db/terms.ts";
import {
  COMMUNITY_ACTOR,
  type CommunityKey,
  communityKeyFromJwk,
  ED25519,
} from "../capabilities/communityKey.ts";
import type { Harmony } from "../harmony.ts";
import { registerIdentityMover } from "../identity/move.ts";
import { newUrnUuid } from "../shared/ids.ts";
import { AS, CRED, H, HARMONY_CREDENTIALS_CONTEXT_URL, RDF, RDF_JSON } from "../rdf/vocab.ts";
import {
  type CredentialKind,
  type CredentialRecord,
  credentialsGraph,
  credentialsOf,
  statusListNumber,
  statusListUrl,
} from "./store.ts";

export const CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2";
/** Entries per status list: 2^17 bits (16 KiB), the minimum the Bitstring Status List spec asks for. */
export const STATUS_LIST_LENGTH = 131_072;
/** How long verifiers may cache a status list (its `ttl`, in milliseconds). */
export const STATUS_LIST_TTL_MS = 60_000;

/** Which credentials of a member to revoke: membership (and with it every role), or one role. */
export type RevocationKind = "membership" | { role: string };

// ---- the issuer key, usable inside a write transaction

const issuerKeys = new WeakMap<Harmony, CommunityKey>();

/**
 * The community key, read (or created) through `tx`: the shared loader
 * (communityKey) writes through the writer queue, which would wait for the
 * very transaction we are in. A key created here is remembered only once
 * it is known to be stored, i.e. from the next read on.
 */
async function issuerKey(tx: Tx, h: Harmony): Promise<CommunityKey> {
  const known = issuerKeys.get(h);
  if (known) return known;
  const where = and(eq(actorKeys.actor, COMMUNITY_ACTOR), eq(actorKeys.algorithm, ED25519));
  let [row] = await tx.select().from(actorKeys).where(where);
  const existed = Boolean(row);
  if (!row) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    await tx.insert(actorKeys).values({
      actor: COMMUNITY_ACTOR,
      algorithm: ED25519,
      privateJwk: JSON.stringify(await crypto.subtle.exportKey("jwk", pair.privateKey)),
      publicJwk: JSON.stringify(await crypto.subtle.exportKey("jwk", pair.publicKey)),
      created: Date.now(),
    }).onConflictDoNothing();
    [row] = await tx.select().from(actorKeys).where(where);
  }
  const key = await communityKeyFromJwk(JSON.parse(row.privateJwk));
  if (existed) issuerKeys.set(h, key);
  return key;
}

/** An XML Schema dateTime to the second (what credentials usually carry). */
function instant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ---- status lists

interface ListState {
  url: string;
  number: number;
  allocated: number;
  multiplier: number;
  offset: number;
}

async function listState(tx: Tx, h: Harmony, url: string): Promise<ListState> {
  const d = await describe(tx, iri(url), credentialsGraph(h));
  return {
    url,
    number: statusListNumber(h, url)!,
    allocated: d.number(H.allocated) ?? 0,
    multiplier: d.number(H.indexMultiplier) ?? 1,
    offset: d.number(H.indexOffset) ?? 0,
  };
}

async function signStatusList(
  h: Harmony,
  key: CommunityKey,
  url: string,
  encodedList: string,
  now: Date,
): Promise<Record<string, unknown>> {
  const credential = {
    "@context": [CREDENTIALS_V2],
    id: url,
    type: ["VerifiableCredential", "BitstringStatusListCredential"],
    issuer: key.did,
    validFrom: instant(now),
    credentialSubject: {
      id: `${url}#list`,
      type: "BitstringStatusList",
      statusPurpose: "revocation",
      encodedList,
      ttl: STATUS_LIST_TTL_MS,
    },
  };
  return await h.proofs.issueCredential(credential, key.signer, now);
}

async function storeStatusList(tx: Tx, h: Harmony, url: string, signed: Record<string, unknown>) {
  await quadStore.set(
    tx,
    credentialsGraph(h),
    iri(url),
    H.document,
    literal(JSON.stringify(signed), RDF_JSON),
  );
}

function randomBelow(limit: number): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] % limit;
}

/** The list new credentials go to: the newest one with room left, or a new one. */
async function openList(tx: Tx, h: Harmony, key: CommunityKey, now: Date): Promise<ListState> {
  const g = credentialsGraph(h);
  const lists = await quadStore.match(tx, { graph: g, predicate: RDF.type, object: H.StatusList });
  const numbers = lists.map((q) => statusListNumber(h, q.subject.value)).filter((n): n is number =>
    n !== null
  );
  const newest = numbers.length ? Math.max(...numbers) : 0;
  if (newest > 0) {
    const state = await listState(tx, h, statusListUrl(h, newest));
    if (state.allocated < STATUS_LIST_LENGTH) return state;
  }
  const url = statusListUrl(h, newest + 1);
  const multiplier = randomBelow(STATUS_LIST_LENGTH / 2) * 2 + 1;
  const offset = randomBelow(STATUS_LIST_LENGTH);
  await quadStore.insert(tx, [
    quad(iri(url), RDF.type, H.StatusList, g),
    quad(iri(url), H.allocated, integer(0), g),
    quad(iri(url), H.indexMultiplier, integer(multiplier), g),
    quad(iri(url), H.indexOffset, integer(offset), g),
  ]);
  await storeStatusList(
    tx,
    h,
    url,
    await signStatusList(h, key, url, await h.proofs.encodeStatusList({ length: STATUS_LIST_LENGTH }), now),
  );
  return { url, number: newest + 1, allocated: 0, multiplier, offset };
}

/** Takes the next unused entry of the open list (persistently: an index is never handed out twice). */
async function allocateEntry(tx: Tx, h: Harmony, key: CommunityKey, now: Date) {
  const list = await openList(tx, h, key, now);
  const index = (list.multiplier * list.allocated + list.offset) % STATUS_LIST_LENGTH;
  await quadStore.set(tx, credentialsGraph(h), iri(list.url), H.allocated, integer(list.allocated + 1));
  return { list: list.url, index };
}

/** Sets the revocation bits of `indexes` in the list at `url` and re-signs it. */
async function setRevoked(tx: Tx, h: Harmony, key: CommunityKey, url: string, indexes: number[], now: Date) {
  const [row] = await quadStore.match(tx, {
    graph: credentialsGraph(h),
    subject: iri(url),
    predicate: H.document,
  });
  if (!row) throw new Error(`status list ${url} is missing`);
  const signed = JSON.parse(row.object.value);
  const encodedList = await h.proofs.encodeStatusList({
    encodedList: signed.credentialSubject.encodedList,
    set: indexes,
  });
  await storeStatusList(tx, h, url, await signStatusList(h, key, url, encodedList, now));
}

// ---- issuing

async function communityName(tx: Tx, h: Harmony): Promise<string> {
  const [row] = await quadStore.match(tx, {
    graph: h.iris.community,
    subject: iri(h.iris.community),
    predicate: AS.name,
  });
  return row?.object.value ?? "Harmony";
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isActive(record: CredentialRecord, kind: CredentialKind, role: string | null): boolean {
  return !record.revoked && record.kind === kind && (kind === "membership" || record.role === role);
}

async function issue(
  tx: Tx,
  h: Harmony,
  did: string,
  kind: CredentialKind,
  role: string | null,
): Promise<CredentialRecord> {
  // One live credential per member and kind: issuing again returns it.
  const existing = (await credentialsOf(tx, h, did)).find((r) => isActive(r, kind, role));
  if (existing) return existing;
  const now = new Date();
  const key = await issuerKey(tx, h);
  const { list, index } = await allocateEntry(tx, h, key, now);
  const id = newUrnUuid();
  const name = await communityName(tx, h);
  const validFrom = instant(now);
  const subject: Record<string, unknown> = { id: did, memberOf: h.iris.community };
  if (role !== null) subject.roleName = role;
  const credential = {
    "@context": [CREDENTIALS_V2, HARMONY_CREDENTIALS_CONTEXT_URL],
    id,
    type: ["VerifiableCredential", kind === "membership" ? "MembershipCredential" : "RoleCredential"],
    issuer: key.did,
    name: kind === "membership" ? `Member of ${name}` : `${capitalized(role ?? "")} of ${name}`,
    validFrom,
    credentialSubject: subject,
    credentialStatus: {
      id: `${list}#${index}`,
      type: "BitstringStatusListEntry",
      statusPurpose: "revocation",
      statusListIndex: String(index),
      statusListCredential: list,
    },
  };
  const signed = await h.proofs.issueCredential(credential, key.signer, now);
  const g = credentialsGraph(h);
  const s = iri(id);
  const quads = [
    quad(s, RDF.type, CRED.VerifiableCredential, g),
    quad(s, RDF.type, kind === "membership" ? H.MembershipCredential : H.RoleCredential, g),
    quad(s, CRED.credentialSubject, iri(did), g),
    quad(s, CRED.validFrom, dateTime(validFrom), g),
    quad(s, H.statusList, iri(list), g),
    quad(s, H.statusIndex, integer(index), g),
    quad(s, H.revoked, boolean(false), g),
    quad(s, H.document, literal(JSON.stringify(signed), RDF_JSON), g),
  ];
  if (role !== null) quads.push(quad(s, H.roleName, literal(role), g));
  await quadStore.insert(tx, quads);
  return {
    id,
    kind,
    role,
    subject: did,
    issued: validFrom,
    revoked: false,
    revokedAt: null,
    statusList: list,
    statusIndex: index,
    credential: signed,
  };
}

/** Issues `did` its MembershipCredential inside `tx` (or returns the live one it already holds). */
export function issueMembershipCredential(tx: Tx, h: Harmony, did: string): Promise<CredentialRecord> {
  return issue(tx, h, did, "membership", null);
}

/** Issues `did` a RoleCredential for `role` inside `tx` (or returns the live one it already holds). */
export function issueRoleCredential(
  tx: Tx,
  h: Harmony,
  did: string,
  role: string,
): Promise<CredentialRecord> {
  if (typeof role !== "string" || role.trim() === "" || role.length > 100) {
    throw new Error("a role credential needs a role name");
  }
  return issue(tx, h, did, "role", role);
}

/**
 * Revokes `did`'s live credentials inside `tx`: with "membership", the
 * membership credential and every role credential (a role does not outlive
 * the membership); with `{ role }`, the credentials for that role. Sets
 * their status bits and re-signs the lists. Returns the revoked records.
 */
export async function revokeMemberCredentials(
  tx: Tx,
  h: Harmony,
  did: string,
  kind: RevocationKind,
): Promise<CredentialRecord[]> {
  const targets = (await credentialsOf(tx, h, did)).filter((r) =>
    !r.revoked && (kind === "membership" || (r.kind === "role" && r.role === kind.role))
  );
  if (targets.length === 0) return [];
  const now = new Date();
  const key = await issuerKey(tx, h);
  const byList = new Map<string, number[]>();
  for (const r of targets) byList.set(r.statusList, [...byList.get(r.statusList) ?? [], r.statusIndex]);
  for (const [url, indexes] of byList) await setRevoked(tx, h, key, url, indexes, now);
  const g = credentialsGraph(h);
  for (const r of targets) {
    await quadStore.set(tx, g, iri(r.id), H.revoked, boolean(true));
    await quadStore.set(tx, g, iri(r.id), H.revokedAt, dateTime(now));
  }
  return targets.map((r) => ({ ...r, revoked: true, revokedAt: now.toISOString() }));
}

/**
 * Makes `did`'s live role credentials match `roles` (role names, e.g. the
 * slugs of the roles they hold now) inside `tx`: issues the missing ones,
 * revokes the others. For the code that changes roles in one place
 * (assigning, removing, revoking a capability). Plain membership ("member")
 * has no role credential and is ignored.
 */
export async function syncRoleCredentials(
  tx: Tx,
  h: Harmony,
  did: string,
  roles: readonly string[],
): Promise<void> {
  const wanted = new Set(roles.filter((r) => r !== "member"));
  const live = (await credentialsOf(tx, h, did)).filter((r) => r.kind === "role" && !r.revoked);
  for (const r of live) {
    if (r.role !== null && !wanted.has(r.role)) await revokeMemberCredentials(tx, h, did, { role: r.role });
  }
  for (const role of wanted) {
    if (!live.some((r) => r.role === role)) await issueRoleCredential(tx, h, did, role);
  }
}

/**
 * Moves credentials from one DID to another (identity recovery): revokes
 * every live credential of `from` and issues the same kinds to `to`.
 */
export async function moveCredentials(tx: Tx, h: Harmony, from: string, to: string): Promise<void> {
  const revoked = await revokeMemberCredentials(tx, h, from, "membership");
  for (const r of revoked) {
    if (r.kind === "membership") await issueMembershipCredential(tx, h, to);
    else if (r.role) await issueRoleCredential(tx, h, to, r.role);
  }
}

/** The role name a role IRI of the community graph stands for (null for plain membership). */
export function roleNameOf(h: Harmony, roleIri: string): string | null {
  if (roleIri === H.MemberRole.value) return null;
  if (roleIri === H.Owner.value) return "owner";
  if (roleIri === H.Admin.value) return "admin";
  const harmony = H.Owner.value.slice(0, -"Owner".length);
  if (roleIri.startsWith(harmony)) return roleIri.slice(harmony.length).toLowerCase();
  const roles = `${h.config.origin}/roles/`;
  if (roleIri.startsWith(roles)) return decodeURIComponent(roleIri.slice(roles.length));
  return null;
}

/**
 * Makes sure a current member holds their credentials: a membership
 * credential, and a role credential for the role the community graph gives
 * them. For members who joined before credentials existed; a no-op
 * (one read) otherwise. Returns whether anything was issued.
 */
export async function ensureCredentials(h: Harmony, did: string): Promise<boolean> {
  const wanted = async (q: Tx) => {
    const props = await quadStore.match(q, { graph: h.iris.community, subject: iri(did) });
    if (!props.some((p) => p.predicate.value === RDF.type.value && p.object.value === H.Member.value)) {
      return null;
    }
    const roles = props.filter((p) => p.predicate.value === H.role.value)
      .map((p) => roleNameOf(h, p.object.value)).filter((r): r is string => r !== null);
    const held = (await credentialsOf(q, h, did)).filter((r) => !r.revoked);
    return {
      membership: !held.some((r) => r.kind === "membership"),
      roles: roles.filter((role) => !held.some((r) => r.kind === "role" && r.role === role)),
    };
  };
  const missing = await wanted(h.db);
  if (!missing || (!missing.membership && missing.roles.length === 0)) return false;
  await h.proofs.warm();
  return await h.database.write(async (tx) => {
    const now = await wanted(tx);
    if (!now) return false;
    if (now.membership) await issueMembershipCredential(tx, h, did);
    for (const role of now.roles) await issueRoleCredential(tx, h, did, role);
    return now.membership || now.roles.length > 0;
  });
}

// Identity recovery moves a member's credentials with the rest (server/identity/move.ts).
registerIdentityMover("credentials", moveCredentials);
