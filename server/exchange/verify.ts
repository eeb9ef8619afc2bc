/**
 * What an import checks in the quads of an export, item by item, before
 * anything is written (the export's own signature is checked first, in
 * exchange.ts). Each check works on the parsed quads alone:
 *
 * - every quad belongs to the community's origin (or to a DM graph);
 * - every capability members hold verifies, chain and signatures, up to
 *   the community's root capability controlled by the community key, and
 *   is recorded as what it says (holder, parent, delegator); the owner the
 *   community names holds an owner capability; every bridge grant verifies
 *   up to the root of its channel's inbox;
 * - every signed operation verifies against its author's did:key, and
 *   every message shows what its signed post (or the author's winning
 *   edit) says, a deleted one only with a signed deletion;
 * - every profile's signature, with the avatar it names;
 * - every recovery document's signature, each request against the setup
 *   it was opened under, and a time lock only once enough of its guardians
 *   signed (how long it lasts is the community's setting, covered by the
 *   export's signature);
 * - the audit log's chain and every entry's signed evidence;
 * - every credential and status list the community issued: its proof,
 *   signed by the community key;
 * - every direct message's envelope signature.
 */
import type { Quad } from "../../db/terms.ts";
import { canonicalize } from "../crypto/jcs.ts";
import { didOfVerificationMethod } from "../crypto/didkey.ts";
import { verifySigned } from "../documents/signed.ts";
import { localProofs } from "../proofs/mod.ts";
import { isRedacted, type OpDocument, opIdOf } from "../messages/oplog.ts";
import { isRemoteOp, type RemoteOpDocument } from "../replication/remoteMessages.ts";
import { entryFromProperties } from "../audit/chain.ts";
import { verifyEntries } from "../audit/verify.ts";
import { checkEnvelope, conversationId } from "../dms/crypto.ts";
import { DM } from "../dms/store.ts";
import { R } from "../recovery/vocab.ts";
import { imageHash } from "../community/images.ts";
import { AS, CRED, H, HARMONY_CONTEXT_URL, RDF } from "../rdf/vocab.ts";
import { A } from "../audit/vocab.ts";

export interface ExportContext {
  /** The origin every IRI of the community is under. */
  origin: string;
  /** The community's did:key: the root of every capability chain, the issuer of every credential. */
  community: string;
}

/** Raised with every failure found (up to a limit), each naming the item and what failed. */
export class ExportRefused extends Error {
  override name = "ExportRefused";
  constructor(readonly failures: string[]) {
    super(
      `the export does not verify (${
        failures.length === MAX_FAILURES ? "the first " : ""
      }${failures.length} ` +
        `problem${failures.length === 1 ? "" : "s"}):\n${failures.map((f) => `  - ${f}`).join("\n")}`,
    );
  }
}

const MAX_FAILURES = 20;

type Props = Map<string, string[]>;

/** Quads grouped by graph, then subject, then predicate (object values, in order). */
class Graphs {
  readonly byGraph = new Map<string, Map<string, Props>>();

  constructor(quads: Iterable<Quad>) {
    for (const q of quads) {
      let subjects = this.byGraph.get(q.graph);
      if (!subjects) this.byGraph.set(q.graph, subjects = new Map());
      let props = subjects.get(q.subject.value);
      if (!props) subjects.set(q.subject.value, props = new Map());
      const values = props.get(q.predicate.value);
      if (values) values.push(q.object.value);
      else props.set(q.predicate.value, [q.object.value]);
    }
  }

  subjects(graph: string): Map<string, Props> {
    return this.byGraph.get(graph) ?? new Map();
  }

  /** Subjects of `type` in `graph`. */
  *ofType(graph: string, type: { value: string }): Generator<[string, Props]> {
    for (const [subject, props] of this.subjects(graph)) {
      if (props.get(RDF.type.value)?.includes(type.value)) yield [subject, props];
    }
  }
}

const one = (props: Props, term: { value: string }) => props.get(term.value)?.[0];
const all = (props: Props, term: { value: string }) => props.get(term.value) ?? [];
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

function json<T>(text: string | undefined): T | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** The moment a capability's delegation was signed: its chain is checked as of then. */
function signedAt(capability: { proof?: { created?: unknown } }): Date {
  const created = Date.parse(String(capability.proof?.created ?? ""));
  return Number.isNaN(created) ? new Date() : new Date(Math.min(created + 1000, Date.now()));
}

export async function verifyExport(quads: Quad[], context: ExportContext): Promise<void> {
  const failures: string[] = [];
  const fail = (message: string) => {
    if (failures.length < MAX_FAILURES) failures.push(message);
  };
  const graphs = new Graphs(quads);
  const checks = [
    checkOrigins,
    checkAuthority,
    checkBridges,
    checkOperations,
    checkProfiles,
    checkRecovery,
    checkAudit,
    checkCredentials,
    checkDms,
  ];
  for (const check of checks) {
    if (failures.length >= MAX_FAILURES) break;
    await check(graphs, context, fail);
  }
  if (failures.length > 0) throw new ExportRefused(failures);
}

type Check = (graphs: Graphs, context: ExportContext, fail: (message: string) => void) => Promise<void>;

const checkOrigins: Check = (graphs, { origin }, fail) => {
  for (const graph of graphs.byGraph.keys()) {
    if (!graph.startsWith(`${origin}/`) && !graph.startsWith("urn:harmony:dm")) {
      fail(`quads in the graph <${graph}>, which is not this community's (${origin})`);
    }
  }
  return Promise.resolve();
};

interface Capability {
  id?: string;
  controller?: string;
  parentCapability?: string;
  invocationTarget?: string;
  proof?: { created?: unknown; verificationMethod?: unknown };
}

const checkAuthority: Check = async (graphs, { origin, community }, fail) => {
  const verified = new Set<string>();
  for (const [subject, props] of graphs.subjects(`${origin}/authority`)) {
    const what = `capability ${subject}`;
    const capability = json<Capability>(one(props, H.capability));
    if (!capability) {
      fail(`${what}: no capability document`);
      continue;
    }
    if (capability.id !== subject) fail(`${what}: its document is capability ${capability.id}`);
    if (capability.controller !== one(props, H.holder)) {
      fail(`${what}: recorded as held by ${one(props, H.holder)}, but delegated to ${capability.controller}`);
      continue;
    }
    if (capability.parentCapability !== one(props, H.parentCapability)) {
      fail(`${what}: its recorded parent is not the one it was delegated from`);
    }
    const signer = typeof capability.proof?.verificationMethod === "string"
      ? didOfVerificationMethod(capability.proof.verificationMethod)
      : null;
    if (signer !== one(props, H.delegatedBy)) {
      fail(`${what}: recorded as delegated by ${one(props, H.delegatedBy)}, but signed by ${signer}`);
    }
    const result = await localProofs.verifyDelegation(capability, {
      rootTarget: `${origin}/community`,
      rootController: community,
      now: signedAt(capability),
    });
    if (!result.verified) {
      fail(
        `${what} (held by ${capability.controller}) does not verify up to the community key: ${result.reason}`,
      );
      continue;
    }
    verified.add(subject);
  }
  // The owner the community names holds a standing owner capability.
  const communityProps = graphs.subjects(`${origin}/community`).get(`${origin}/community`);
  const owner = communityProps && one(communityProps, H.owner);
  if (owner) {
    const ownerRole = `${origin}/roles/owner`;
    const held = [...graphs.subjects(`${origin}/authority`)].some(([subject, props]) =>
      verified.has(subject) && one(props, H.holder) === owner && one(props, H.grantedRole) === ownerRole &&
      one(props, H.revoked) !== "true"
    );
    if (!held) fail(`the owner ${owner} holds no owner capability delegated by the community key`);
  }
  for (const [subject, props] of graphs.ofType(`${origin}/community`, H.Member)) {
    if (one(props, H.role) === H.Owner.value && subject !== owner) {
      fail(`member ${subject} has the owner's role, but the community's owner is ${owner ?? "nobody"}`);
    }
  }
};

const checkBridges: Check = async (graphs, { origin, community }, fail) => {
  for (const [subject, props] of graphs.ofType(`${origin}/bridges`, H.BridgeGrant)) {
    const what = `bridge grant ${subject}`;
    const capability = json<Capability>(one(props, H.capability));
    const channelId = one(props, H.channel)?.slice(`${origin}/channels/`.length);
    const inbox = `${origin}/ap/actors/${channelId}/inbox`;
    if (
      !capability || capability.controller !== one(props, H.grantee) || capability.invocationTarget !== inbox
    ) {
      fail(`${what}: its capability is not the one recorded (grantee, channel)`);
      continue;
    }
    const result = await localProofs.verifyDelegation(capability, {
      rootTarget: inbox,
      rootController: community,
      now: signedAt(capability),
    });
    if (!result.verified) fail(`${what} does not verify up to the community key: ${result.reason}`);
  }
};

const checkOperations: Check = async (graphs, { origin }, fail) => {
  for (const [graph, subjects] of graphs.byGraph) {
    if (!graph.startsWith(`${origin}/channels/`)) continue;
    const signedOps = new Map<string, OpDocument>();
    const posts = new Map<string, OpDocument | "redacted" | "invalid">();
    const deletions = new Set<string>();
    const remote = new Map<string, RemoteOpDocument>();
    for (const [subject, props] of subjects) {
      if (!all(props, RDF.type).includes(H.Operation.value)) continue;
      const doc = json<OpDocument | RemoteOpDocument>(one(props, H.document));
      if (!doc) {
        fail(`operation ${subject}: no document`);
        continue;
      }
      if (isRemoteOp(doc)) {
        if (doc.action === "Create") remote.set(doc.object, doc);
        continue;
      }
      if (isRedacted(doc)) {
        if (doc.type === "Message") posts.set(doc.target, "redacted");
        continue;
      }
      try {
        await verifySigned(doc.type, doc);
      } catch (error) {
        fail(`operation ${subject} (${String(doc.type)}): ${reason(error)}`);
        if (doc.type === "Message" && typeof doc.id === "string") posts.set(doc.id, "invalid");
        continue;
      }
      signedOps.set(await opIdOf(doc), doc);
      if (doc.type === "Message") posts.set(doc.id, doc);
      if (doc.type === "Delete") deletions.add(doc.object);
    }
    for (const [id, props] of subjects) {
      if (!all(props, RDF.type).includes(H.Message.value)) continue;
      checkMessage(id, props, { signedOps, posts, deletions, remote }, fail);
    }
  }
};

function checkMessage(
  id: string,
  props: Props,
  ops: {
    signedOps: Map<string, OpDocument>;
    posts: Map<string, OpDocument | "redacted" | "invalid">;
    deletions: Set<string>;
    remote: Map<string, RemoteOpDocument>;
  },
  fail: (message: string) => void,
): void {
  const what = `message ${id}`;
  const author = one(props, AS.attributedTo);
  const content = one(props, AS.content) ?? "";
  if (/^https?:/.test(id)) {
    const created = ops.remote.get(id);
    if (!created || created.actor !== author) fail(`${what}: no fediverse activity by ${author} created it`);
    return;
  }
  const post = ops.posts.get(id);
  if (!post) {
    fail(`${what}: no post of it is in the log`);
    return;
  }
  if (post === "invalid") return; // its post was reported already
  if (props.has(H.deleted.value)) {
    if (!ops.deletions.has(id)) {
      fail(`${what} is shown as deleted, but no signed deletion of it is in the log`);
    }
    if (content !== "") fail(`${what} is deleted but keeps text`);
    return;
  }
  if (post === "redacted" || post.type !== "Message") {
    fail(`${what} shows text, but its post was redacted`);
    return;
  }
  if (post.attributedTo !== author) {
    fail(`${what}: attributed to ${author}, but signed by ${post.attributedTo}`);
  }
  if (post.published !== one(props, AS.published)) fail(`${what}: its time is not the signed one`);
  if ((post.inReplyTo ?? null) !== (one(props, AS.inReplyTo) ?? null)) {
    fail(`${what}: its reply target is not the signed one`);
  }
  if ((post.thread ?? null) !== (one(props, H.thread) ?? null)) {
    fail(`${what}: its thread is not the signed one`);
  }
  const attachments = one(props, H.attachments);
  if (
    attachments !== undefined && canonicalize(json(attachments)) !== canonicalize(post.attachment ?? null)
  ) {
    fail(`${what}: its attachments are not the signed ones`);
  }
  const editOp = one(props, H.editOp);
  if (editOp === undefined) {
    if (content !== post.content) fail(`${what}: its text is not the text its author signed`);
    return;
  }
  const edit = ops.signedOps.get(editOp);
  if (!edit || edit.type !== "Update" || edit.object !== id || edit.actor !== post.attributedTo) {
    fail(`${what}: shown as edited by ${editOp}, which is no signed edit of it by its author`);
    return;
  }
  if (content !== edit.content) fail(`${what}: its text is not the text of its author's signed edit`);
  if (one(props, AS.updated) !== edit.published) fail(`${what}: its edit time is not the signed one`);
}

const checkProfiles: Check = async (graphs, { origin }, fail) => {
  const avatars = graphs.subjects(`${origin}/avatars`);
  for (const [did, props] of graphs.ofType(`${origin}/profiles`, H.Profile)) {
    const what = `the profile of ${did}`;
    const proof = json<Record<string, unknown>>(one(props, H.profileProof));
    const avatarType = one(props, H.avatarType);
    const avatarHash = one(props, H.avatarHash);
    if (!proof) {
      // A moved identity's profile, carried over unsigned until the new key signs one.
      if (!props.has(R.movedFrom.value)) fail(`${what} carries no signature`);
      continue;
    }
    const doc: Record<string, unknown> = {
      "@context": HARMONY_CONTEXT_URL,
      type: "Profile",
      id: did,
      name: one(props, AS.name),
      updated: one(props, AS.updated),
      proof,
    };
    if (avatarType && avatarHash) Object.assign(doc, { avatarType, avatarHash });
    try {
      await verifySigned("Profile", doc);
    } catch (error) {
      fail(`${what}: ${reason(error)}`);
      continue;
    }
    const avatar = avatars.get(did);
    const bytes = avatar && one(avatar, H.avatar);
    if (
      avatarHash &&
      (!bytes || await imageHash(Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0))) !== avatarHash)
    ) {
      fail(`${what}: the avatar is not the one its owner signed`);
    }
  }
};

interface SetupDoc {
  actor: string;
  guardians: string[];
  threshold: number;
}

const checkRecovery: Check = async (graphs, { origin }, fail) => {
  const graph = `${origin}/recovery`;
  const signed = async <T>(
    what: string,
    kind: Parameters<typeof verifySigned>[0],
    text: string | undefined,
  ) => {
    try {
      return await verifySigned(kind, json(text)) as T;
    } catch (error) {
      fail(`${what}: ${reason(error)}`);
      return null;
    }
  };
  const sameSet = (a: string[], b: string[]) => canonicalize([...a].sort()) === canonicalize([...b].sort());
  for (const [subject, props] of graphs.ofType(graph, R.RecoverySetup)) {
    const what = `the recovery setup ${subject}`;
    const doc = await signed<SetupDoc>(what, "RecoverySetup", one(props, R.signedDocument));
    if (!doc) continue;
    if (doc.actor !== one(props, AS.actor) || !sameSet(doc.guardians, all(props, R.guardian))) {
      fail(`${what}: its member or guardians are not the signed ones`);
    }
    if (all(props, R.threshold).some((t) => Number(t) !== doc.threshold)) {
      fail(`${what}: its threshold is not the signed one`);
    }
  }
  const approvals = new Map<string, Array<{ guardian: string; published: string }>>();
  for (const [subject, props] of graphs.ofType(graph, R.RecoveryApproval)) {
    const what = `the recovery approval ${subject}`;
    const doc = await signed<{ actor: string; request: string; published: string }>(
      what,
      "RecoveryApproval",
      one(props, R.signedDocument),
    );
    if (!doc) continue;
    if (doc.request !== one(props, R.request) || doc.actor !== one(props, AS.actor)) {
      fail(`${what}: its request or guardian is not the signed one`);
      continue;
    }
    approvals.set(doc.request, [...approvals.get(doc.request) ?? [], {
      guardian: doc.actor,
      published: doc.published,
    }]);
  }
  for (const [subject, props] of graphs.ofType(graph, R.RecoveryRequest)) {
    const what = `the recovery request ${subject}`;
    const doc = await signed<{ oldIdentity: string; newIdentity: string }>(
      what,
      "RecoveryRequest",
      one(props, R.signedDocument),
    );
    const setup = await signed<SetupDoc>(`${what}'s setup`, "RecoverySetup", one(props, R.setupDocument));
    if (!doc || !setup) continue;
    if (doc.oldIdentity !== one(props, R.oldIdentity) || doc.newIdentity !== one(props, R.newIdentity)) {
      fail(`${what}: its identities are not the signed ones`);
    }
    if (setup.actor !== doc.oldIdentity) {
      fail(`${what}: opened under the setup of ${setup.actor}, not of ${doc.oldIdentity}`);
    }
    if (
      !sameSet(setup.guardians, all(props, R.guardian)) ||
      all(props, R.threshold).some((t) => Number(t) !== setup.threshold)
    ) {
      fail(`${what}: its guardians or threshold are not those of the setup it was opened under`);
    }
    const cancellation = one(props, R.cancellation);
    if (cancellation !== undefined) await signed(`${what}'s cancellation`, "RecoveryCancel", cancellation);
    const lockedAt = one(props, R.lockedAt);
    const dueAt = one(props, R.dueAt);
    if (lockedAt === undefined && dueAt === undefined) continue;
    const byGuardian = new Map<string, number>();
    for (const approval of approvals.get(subject) ?? []) {
      if (!setup.guardians.includes(approval.guardian)) continue;
      const at = Date.parse(approval.published);
      if (!byGuardian.has(approval.guardian) || at < byGuardian.get(approval.guardian)!) {
        byGuardian.set(approval.guardian, at);
      }
    }
    const times = [...byGuardian.values()].sort((a, b) => a - b);
    if (times.length < setup.threshold) {
      fail(
        `${what} is time-locked with ${times.length} guardian approval(s) of the ${setup.threshold} it needs`,
      );
      continue;
    }
    const locked = Date.parse(lockedAt ?? "");
    const due = Date.parse(dueAt ?? "");
    // The lock starts when the last approval needed arrives (clocks may differ by a few minutes).
    if (Number.isNaN(locked) || locked < times[setup.threshold - 1] - 10 * 60_000) {
      fail(`${what}: its time lock starts before enough guardians approved`);
    }
    if (Number.isNaN(due) || due <= locked) fail(`${what}: its time lock ends before it starts`);
  }
};

const checkAudit: Check = async (graphs, { origin }, fail) => {
  const entries = [];
  for (const [subject, props] of graphs.ofType(`${origin}/audit`, A.AuditEntry)) {
    const values = new Map([...props].map(([predicate, objects]) => [predicate, objects[0]]));
    const entry = entryFromProperties(values);
    if (!entry) {
      fail(`audit entry ${subject} is incomplete`);
      return;
    }
    entries.push(entry);
  }
  entries.sort((a, b) => a.seq - b.seq);
  const result = await verifyEntries(entries, { community: `${origin}/community` });
  if (!result.ok) fail(`the audit log fails at entry ${result.failure!.seq}: ${result.failure!.reason}`);
};

const checkCredentials: Check = async (graphs, { origin, community }, fail) => {
  const graph = `${origin}/credentials`;
  const items = [
    ...[...graphs.ofType(graph, CRED.VerifiableCredential)].map(([s, p]) => ({
      subject: s,
      props: p,
      list: false,
    })),
    ...[...graphs.ofType(graph, H.StatusList)].map(([s, p]) => ({ subject: s, props: p, list: true })),
  ];
  if (items.length === 0) return;
  const { vc, credentialVerifySuites, createDocumentLoader } = await import("../credentials/vcStack.ts");
  const documentLoader = createDocumentLoader();
  for (const { subject, props, list } of items) {
    const what = `${list ? "the status list" : "the credential"} ${subject}`;
    // deno-lint-ignore no-explicit-any
    const credential = json<any>(one(props, H.document));
    if (!credential) {
      fail(`${what}: no signed document`);
      continue;
    }
    const issuer = typeof credential.issuer === "string" ? credential.issuer : credential.issuer?.id;
    if (issuer !== community) {
      fail(`${what} was issued by ${issuer}, not by the community key ${community}`);
      continue;
    }
    if (!list && credential.credentialSubject?.id !== one(props, CRED.credentialSubject)) {
      fail(
        `${what}: recorded for ${
          one(props, CRED.credentialSubject)
        }, but issued to ${credential.credentialSubject?.id}`,
      );
    }
    let result: { verified?: boolean; error?: unknown };
    try {
      result = await vc.verifyCredential({
        credential,
        suite: credentialVerifySuites,
        documentLoader,
        // Revocation is the status list's business, checked here as a signed document of its own.
        checkStatus: () => Promise.resolve({ verified: true }),
        now: new Date(Date.parse(credential.validFrom ?? "") || Date.now()),
      });
    } catch (error) {
      result = { verified: false, error };
    }
    if (!result.verified) fail(`${what}: its proof does not verify: ${reason(result.error)}`);
  }
};

const checkDms: Check = async (graphs, _context, fail) => {
  for (const [graph, subjects] of graphs.byGraph) {
    if (!graph.startsWith("urn:harmony:dm:")) continue;
    for (const [subject, props] of subjects) {
      if (!all(props, RDF.type).includes(DM.EncryptedMessage.value)) continue;
      const what = `direct message ${subject}`;
      try {
        const envelope = await checkEnvelope(json(one(props, DM.dmEnvelope)));
        if (
          envelope.id !== subject || envelope.attributedTo !== one(props, AS.attributedTo) ||
          envelope.recipient !== one(props, DM.recipient) ||
          graph !== `urn:harmony:dm:${conversationId(envelope.attributedTo, envelope.recipient)}`
        ) {
          fail(`${what}: stored under another sender, recipient or conversation than its envelope names`);
        }
      } catch (error) {
        fail(`${what}: ${reason(error)}`);
      }
    }
  }
};
