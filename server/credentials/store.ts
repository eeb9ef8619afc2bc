/**
 * How issued credentials and status lists live in the quads (graph
 * `{origin}/credentials`, docs/vocabulary.md):
 *
 *   <urn:uuid:…> a cred:VerifiableCredential, harmony:MembershipCredential | harmony:RoleCredential ;
 *     cred:credentialSubject <did> ; harmony:roleName "admin" (roles) ;
 *     harmony:statusList <{origin}/credentials/status/N> ; harmony:statusIndex 1234 ;
 *     cred:validFrom "…"^^xsd:dateTime ; harmony:revoked false ; harmony:revokedAt "…" (once revoked) ;
 *     harmony:document "{…the signed credential…}"^^rdf:JSON .
 *
 *   <{origin}/credentials/status/N> a harmony:StatusList ;
 *     harmony:allocated 17 ; harmony:indexMultiplier 90211 ; harmony:indexOffset 5077 ;
 *     harmony:document "{…the signed BitstringStatusListCredential…}"^^rdf:JSON .
 */
import type { Queryable } from "../../db/client.ts";
import { describe, type Description, quadStore } from "../../db/quadstore.ts";
import { iri } from "../../db/terms.ts";
import type { Harmony } from "../harmony.ts";
import { CRED, H, RDF } from "../rdf/vocab.ts";

export type CredentialKind = "membership" | "role";

/** A credential this community issued, as members and the API see it. */
export interface CredentialRecord {
  /** The credential's id (`urn:uuid:…`). */
  id: string;
  kind: CredentialKind;
  /** The role it attests (role credentials), else null. */
  role: string | null;
  /** The member's DID (the credential subject). */
  subject: string;
  issued: string;
  revoked: boolean;
  revokedAt: string | null;
  statusList: string;
  statusIndex: number;
  /** The signed credential (W3C VC 2.0, eddsa-rdfc-2022 Data Integrity proof). */
  credential: Record<string, unknown>;
}

export function credentialsGraph(h: Harmony): string {
  return `${h.config.origin}/credentials`;
}

/** The URL (and IRI) of status list number `n` (1, 2, …). */
export function statusListUrl(h: Harmony, n: number): string {
  return `${h.config.origin}/credentials/status/${n}`;
}

/** The number of one of our status list URLs, or null. */
export function statusListNumber(h: Harmony, url: string): number | null {
  const prefix = `${h.config.origin}/credentials/status/`;
  if (!url.startsWith(prefix)) return null;
  const text = url.slice(prefix.length);
  return /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : null;
}

function recordFrom(d: Description): CredentialRecord | null {
  const document = d.string(H.document);
  const subject = d.string(CRED.credentialSubject);
  const statusList = d.string(H.statusList);
  if (!document || !subject || !statusList) return null;
  const kind: CredentialKind | null = d.has(RDF.type, H.MembershipCredential)
    ? "membership"
    : d.has(RDF.type, H.RoleCredential)
    ? "role"
    : null;
  if (!kind) return null;
  return {
    id: d.subject.value,
    kind,
    role: kind === "role" ? d.string(H.roleName) ?? null : null,
    subject,
    issued: d.string(CRED.validFrom) ?? "",
    revoked: d.string(H.revoked) === "true",
    revokedAt: d.string(H.revokedAt) ?? null,
    statusList,
    statusIndex: d.number(H.statusIndex) ?? -1,
    credential: JSON.parse(document),
  };
}

/** One credential by id, or null. */
export async function findCredential(q: Queryable, h: Harmony, id: string): Promise<CredentialRecord | null> {
  return recordFrom(await describe(q, iri(id), credentialsGraph(h)));
}

/** Every credential issued to `did` (revoked ones too), oldest first. */
export async function credentialsOf(q: Queryable, h: Harmony, did: string): Promise<CredentialRecord[]> {
  const g = credentialsGraph(h);
  const links = await quadStore.match(q, { graph: g, predicate: CRED.credentialSubject, object: iri(did) });
  const records: CredentialRecord[] = [];
  for (const link of links) {
    const record = await findCredential(q, h, link.subject.value);
    if (record) records.push(record);
  }
  return records.sort((a, b) => a.issued.localeCompare(b.issued) || a.id.localeCompare(b.id));
}

/** The signed status list credential at `url` (one of ours), or null. */
export async function storedStatusList(
  q: Queryable,
  h: Harmony,
  url: string,
): Promise<Record<string, unknown> | null> {
  if (statusListNumber(h, url) === null) return null;
  const [row] = await quadStore.match(q, {
    graph: credentialsGraph(h),
    subject: iri(url),
    predicate: H.document,
  });
  return row ? JSON.parse(row.object.value) : null;
}
