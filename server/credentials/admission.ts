/**
 * The community's admission policy, kept as quads on the community:
 * `harmony:admission` is `harmony:OpenAdmission`, `harmony:InviteAdmission`
 * or `harmony:CredentialAdmission`; the last one also names the credential
 * type (`harmony:admissionType`, a literal) and its issuer
 * (`harmony:admissionIssuer`, a did:key).
 *
 * It replaces the `harmony:openJoin` boolean of earlier versions:
 * `migrateAdmission` rewrites that quad once at start-up, and until then
 * (or for data imported from an older export) the boolean is still read.
 */
import type { Tx } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { iri, literal, type NamedNode, type Quad, quad } from "../../db/terms.ts";
import { isDidKey } from "../crypto/didkey.ts";
import { invalid } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { AdmissionPolicy } from "../shared/model.ts";
import { H } from "../rdf/vocab.ts";

export type { AdmissionPolicy };

/** The policy described by a community's properties (`get(predicate)` = its first object's value). */
export function admissionFrom(get: (predicate: NamedNode) => string | undefined): AdmissionPolicy {
  const kind = get(H.admission);
  if (kind === H.OpenAdmission.value) return { policy: "open" };
  if (kind === H.CredentialAdmission.value) {
    const credentialType = get(H.admissionType);
    const issuer = get(H.admissionIssuer);
    // A half-written policy admits nobody rather than everybody.
    if (!credentialType || !issuer) return { policy: "invite" };
    return { policy: "credential", credentialType, issuer };
  }
  if (kind === H.InviteAdmission.value) return { policy: "invite" };
  // Not migrated yet: the boolean of earlier versions.
  return get(H.openJoin) === "true" ? { policy: "open" } : { policy: "invite" };
}

/** The quads stating `policy` on the community. */
export function admissionQuads(h: Harmony, policy: AdmissionPolicy): Quad[] {
  const g = h.iris.community;
  const community = iri(h.iris.community);
  if (policy.policy === "open") return [quad(community, H.admission, H.OpenAdmission, g)];
  if (policy.policy === "invite") return [quad(community, H.admission, H.InviteAdmission, g)];
  return [
    quad(community, H.admission, H.CredentialAdmission, g),
    quad(community, H.admissionType, literal(policy.credentialType), g),
    quad(community, H.admissionIssuer, iri(policy.issuer), g),
  ];
}

/** Replaces the community's policy (and any openJoin boolean left over) inside `tx`. */
export async function writeAdmission(tx: Tx, h: Harmony, policy: AdmissionPolicy): Promise<void> {
  const g = h.iris.community;
  const community = iri(h.iris.community);
  for (const predicate of [H.admission, H.admissionType, H.admissionIssuer, H.openJoin]) {
    await quadStore.remove(tx, { graph: g, subject: community, predicate });
  }
  await quadStore.insert(tx, admissionQuads(h, policy));
}

/** The policy as stored now, read inside `tx` (join decides on this, not on a cached snapshot). */
export async function readAdmission(tx: Tx, h: Harmony): Promise<AdmissionPolicy> {
  const props = await quadStore.match(tx, { graph: h.iris.community, subject: iri(h.iris.community) });
  return admissionFrom((p) => props.find((q) => q.predicate.value === p.value)?.object.value);
}

const termPattern = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** Whether `value` names a credential type: a term of its context ("MembershipCredential") or an absolute IRI. */
function isCredentialType(value: string): boolean {
  if (termPattern.test(value)) return value !== "VerifiableCredential";
  if (value.length > 500) return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" || url.protocol === "urn:";
  } catch {
    return false;
  }
}

/**
 * Checks a policy sent by a client: `{policy: "open"}`, `{policy: "invite"}`
 * or `{policy: "credential", credentialType, issuer}`.
 */
export function parseAdmission(input: unknown): AdmissionPolicy {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalid(
      "invalid_admission",
      'admission must be {"policy": "open"}, {"policy": "invite"} or ' +
        '{"policy": "credential", "credentialType": …, "issuer": …}',
    );
  }
  const { policy, credentialType, issuer } = input as Record<string, unknown>;
  if (policy === "open" || policy === "invite") return { policy };
  if (policy !== "credential") {
    throw invalid("invalid_admission", 'admission.policy must be "open", "invite" or "credential"');
  }
  const type = typeof credentialType === "string" ? credentialType.trim() : "";
  if (!isCredentialType(type)) {
    throw invalid(
      "invalid_credential_type",
      'credentialType must name a credential type, such as "MembershipCredential" (not VerifiableCredential), ' +
        "or be its full IRI",
    );
  }
  const did = typeof issuer === "string" ? issuer.trim() : "";
  if (!isDidKey(did)) {
    throw invalid("invalid_issuer", "issuer must be the did:key of the issuing community");
  }
  return { policy: "credential", credentialType: type, issuer: did };
}

/**
 * Rewrites an openJoin boolean left by an earlier version as the policy
 * it meant. Runs at start-up; does nothing once done.
 */
export async function migrateAdmission(h: Harmony): Promise<void> {
  const community = iri(h.iris.community);
  const g = h.iris.community;
  const legacy = await quadStore.count(h.db, { graph: g, subject: community, predicate: H.openJoin });
  if (legacy === 0) return;
  await h.writeCommunity(async (tx) => {
    const props = await quadStore.match(tx, { graph: g, subject: community });
    if (!props.some((q) => q.predicate.value === H.openJoin.value)) return;
    const policy = admissionFrom((p) => props.find((q) => q.predicate.value === p.value)?.object.value);
    await writeAdmission(tx, h, policy);
  });
}

/** A sentence for people: who may join. */
export function describeAdmission(policy: AdmissionPolicy): string {
  if (policy.policy === "open") return "Anyone signed in can join.";
  if (policy.policy === "invite") return "Joining needs an invite.";
  return `Joining needs an invite, or a ${policy.credentialType} issued by ${policy.issuer}.`;
}
