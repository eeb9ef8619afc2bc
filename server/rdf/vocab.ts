/**
 * The Harmony vocabulary (documented in docs/vocabulary.md and served as a
 * JSON-LD context at /ns/v1). Terms ActivityStreams already defines are
 * reused from it; the rest live in the Harmony namespace.
 */
import { iri, type NamedNode } from "../../db/terms.ts";

export const HARMONY_NS = "https://w3id.org/harmony/ns#";
export const AS_NS = "https://www.w3.org/ns/activitystreams#";
export const RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
export const RDF_JSON = `${RDF_NS}JSON`;
export const LDP_NS = "http://www.w3.org/ns/ldp#";
/** The context document URL messages and profiles name in `@context`. */
export const HARMONY_CONTEXT_URL = "https://w3id.org/harmony/v1";

const h = (term: string): NamedNode => iri(HARMONY_NS + term);
const as = (term: string): NamedNode => iri(AS_NS + term);

export const RDF = { type: iri(`${RDF_NS}type`) };

export const AS = {
  name: as("name"),
  summary: as("summary"),
  content: as("content"),
  published: as("published"),
  updated: as("updated"),
  attributedTo: as("attributedTo"),
  icon: as("icon"),
  Tombstone: as("Tombstone"),
  actor: as("actor"),
  preferredUsername: as("preferredUsername"),
  url: as("url"),
  sharedInbox: as("sharedInbox"),
  inReplyTo: as("inReplyTo"),
};

export const LDP = { inbox: iri(`${LDP_NS}inbox`) };

export const H = {
  // classes
  Community: h("Community"),
  Channel: h("Channel"),
  Member: h("Member"),
  Message: h("Message"),
  Invite: h("Invite"),
  Profile: h("Profile"),
  // community
  openJoin: h("openJoin"),
  owner: h("owner"),
  // channels
  community: h("community"),
  position: h("position"),
  visibility: h("visibility"),
  Public: h("Public"),
  MembersOnly: h("MembersOnly"),
  Open: h("Open"),
  approveFollowers: h("approveFollowers"),
  fediverseReplies: h("fediverseReplies"),
  // membership
  memberOf: h("memberOf"),
  role: h("role"),
  joined: h("joined"),
  Owner: h("Owner"),
  Admin: h("Admin"),
  MemberRole: h("MemberRole"),
  // bots members registered (on the bot's DID, in the community graph)
  Bot: h("Bot"),
  botOf: h("botOf"),
  botConsent: h("botConsent"),
  // messages
  channel: h("channel"),
  lamport: h("lamport"),
  editLamport: h("editLamport"),
  editOp: h("editOp"),
  deleted: h("deleted"),
  deletedBy: h("deletedBy"),
  /** A fediverse reply a moderator removed (the moderator's DID): its text is kept, to restore it. */
  removedBy: h("removedBy"),
  /** A message's signed attachment descriptors, as JSON (server/files). */
  attachments: h("attachments"),
  /** A member (DID) or role (IRI) a message mentions (server/attention). */
  mentions: h("mentions"),
  // authority: roles and the capabilities members hold
  Role: h("Role"),
  action: h("action"),
  builtIn: h("builtIn"),
  HeldCapability: h("HeldCapability"),
  holder: h("holder"),
  delegatedBy: h("delegatedBy"),
  parentCapability: h("parentCapability"),
  grantedRole: h("grantedRole"),
  revokedBy: h("revokedBy"),
  Moderator: h("Moderator"),
  // bridges
  BridgeGrant: h("BridgeGrant"),
  BridgeLink: h("BridgeLink"),
  capability: h("capability"),
  grantee: h("grantee"),
  peerActor: h("peerActor"),
  peerInbox: h("peerInbox"),
  // the operation log
  Operation: h("Operation"),
  origin: h("origin"),
  seq: h("seq"),
  document: h("document"),
  // profiles
  avatar: h("avatar"),
  avatarType: h("avatarType"),
  avatarHash: h("avatarHash"),
  profileProof: h("profileProof"),
  // fediverse followers of a channel (graph {origin}/followers)
  Follower: h("Follower"),
  followActivity: h("followActivity"),
  followState: h("followState"),
  Pending: h("Pending"),
  Accepted: h("Accepted"),
  Rejected: h("Rejected"),
  answer: h("answer"),
  answerDue: h("answerDue"),
  software: h("software"),
  // authors of fediverse replies (graph {origin}/remote-actors)
  RemoteActor: h("RemoteActor"),
  // invites
  code: h("code"),
  expires: h("expires"),
  maxUses: h("maxUses"),
  uses: h("uses"),
  revoked: h("revoked"),
  // admission policy (on the community)
  admission: h("admission"),
  OpenAdmission: h("OpenAdmission"),
  InviteAdmission: h("InviteAdmission"),
  CredentialAdmission: h("CredentialAdmission"),
  admissionType: h("admissionType"),
  admissionIssuer: h("admissionIssuer"),
  // credentials the community issued, and their status lists (graph {origin}/credentials)
  MembershipCredential: h("MembershipCredential"),
  RoleCredential: h("RoleCredential"),
  StatusList: h("StatusList"),
  roleName: h("roleName"),
  statusList: h("statusList"),
  statusIndex: h("statusIndex"),
  allocated: h("allocated"),
  indexMultiplier: h("indexMultiplier"),
  indexOffset: h("indexOffset"),
  revokedAt: h("revokedAt"),
  // conversation (issue 5): threads, reactions, pins (server/conversation/)
  thread: h("thread"),
};

/** Terms of the W3C Verifiable Credentials vocabulary the quads use. */
export const CRED_NS = "https://www.w3.org/2018/credentials#";
export const CRED = {
  VerifiableCredential: iri(`${CRED_NS}VerifiableCredential`),
  credentialSubject: iri(`${CRED_NS}credentialSubject`),
  validFrom: iri(`${CRED_NS}validFrom`),
};

/**
 * The context our credentials name after the VC 2.0 context. It is not
 * /ns/v1: that context's `name` (as:name) and `holder` clash with the
 * protected terms of https://www.w3.org/ns/credentials/v2, so a document
 * naming both cannot be processed. This one holds only the credential
 * terms, defined exactly as in /ns/v1. Served at /ns/credentials/v1.
 */
export const HARMONY_CREDENTIALS_CONTEXT_URL = "https://w3id.org/harmony/credentials/v1";

const credentialTerms = {
  MembershipCredential: "harmony:MembershipCredential",
  RoleCredential: "harmony:RoleCredential",
  memberOf: { "@id": "harmony:memberOf", "@type": "@id" },
  roleName: "harmony:roleName",
};

/** The JSON-LD context served at /ns/credentials/v1 (protected; no term of credentials v2 redefined). */
export function harmonyCredentialsContext(): Record<string, unknown> {
  return {
    "@context": { "@version": 1.1, "@protected": true, harmony: HARMONY_NS, ...credentialTerms },
  };
}

/** The JSON-LD context served at /ns/v1 (protected, so nothing redefines it). */
export function harmonyContext(): Record<string, unknown> {
  const terms: Record<string, unknown> = {
    "@version": 1.1,
    "@protected": true,
    id: "@id",
    type: "@type",
    harmony: HARMONY_NS,
    as: AS_NS,
    xsd: "http://www.w3.org/2001/XMLSchema#",
    Community: "harmony:Community",
    Channel: "harmony:Channel",
    Member: "harmony:Member",
    Message: "harmony:Message",
    Invite: "harmony:Invite",
    Profile: "harmony:Profile",
    Update: "as:Update",
    Delete: "as:Delete",
    Public: "harmony:Public",
    MembersOnly: "harmony:MembersOnly",
    Open: "harmony:Open",
    Owner: "harmony:Owner",
    Admin: "harmony:Admin",
    MemberRole: "harmony:MemberRole",
    Bot: "harmony:Bot",
    botOf: { "@id": "harmony:botOf", "@type": "@id" },
    botConsent: { "@id": "harmony:botConsent", "@type": "@json" },
    name: "as:name",
    summary: "as:summary",
    content: "as:content",
    published: { "@id": "as:published", "@type": "xsd:dateTime" },
    updated: { "@id": "as:updated", "@type": "xsd:dateTime" },
    attributedTo: { "@id": "as:attributedTo", "@type": "@id" },
    actor: { "@id": "as:actor", "@type": "@id" },
    object: { "@id": "as:object", "@type": "@id" },
    channel: { "@id": "harmony:channel", "@type": "@id" },
    community: { "@id": "harmony:community", "@type": "@id" },
    memberOf: { "@id": "harmony:memberOf", "@type": "@id" },
    role: { "@id": "harmony:role", "@type": "@vocab" },
    visibility: { "@id": "harmony:visibility", "@type": "@vocab" },
    position: { "@id": "harmony:position", "@type": "xsd:integer" },
    lamport: { "@id": "harmony:lamport", "@type": "xsd:integer" },
    openJoin: { "@id": "harmony:openJoin", "@type": "xsd:boolean" },
    owner: { "@id": "harmony:owner", "@type": "@id" },
    joined: { "@id": "harmony:joined", "@type": "xsd:dateTime" },
    deleted: { "@id": "harmony:deleted", "@type": "xsd:dateTime" },
    deletedBy: { "@id": "harmony:deletedBy", "@type": "@id" },
    removedBy: { "@id": "harmony:removedBy", "@type": "@id" },
    avatar: "harmony:avatar",
    avatarType: "harmony:avatarType",
    avatarHash: "harmony:avatarHash",
    code: "harmony:code",
    // Not "expires": the zcap context defines that term, and protected terms must not clash.
    inviteExpires: { "@id": "harmony:expires", "@type": "xsd:dateTime" },
    maxUses: { "@id": "harmony:maxUses", "@type": "xsd:integer" },
    uses: { "@id": "harmony:uses", "@type": "xsd:integer" },
    revoked: { "@id": "harmony:revoked", "@type": "xsd:boolean" },
    MembershipCredential: credentialTerms.MembershipCredential,
    RoleCredential: credentialTerms.RoleCredential,
    roleName: credentialTerms.roleName,
    admission: { "@id": "harmony:admission", "@type": "@vocab" },
    OpenAdmission: "harmony:OpenAdmission",
    InviteAdmission: "harmony:InviteAdmission",
    CredentialAdmission: "harmony:CredentialAdmission",
    admissionType: "harmony:admissionType",
    admissionIssuer: { "@id": "harmony:admissionIssuer", "@type": "@id" },
    StatusList: "harmony:StatusList",
    statusList: { "@id": "harmony:statusList", "@type": "@id" },
    statusIndex: { "@id": "harmony:statusIndex", "@type": "xsd:integer" },
    revokedAt: { "@id": "harmony:revokedAt", "@type": "xsd:dateTime" },
    // Exactly as the Data Integrity and zcap contexts define it, so the three can be used together.
    proof: { "@id": "https://w3id.org/security#proof", "@type": "@id", "@container": "@graph" },
    Operation: "harmony:Operation",
    Role: "harmony:Role",
    HeldCapability: "harmony:HeldCapability",
    Moderator: "harmony:Moderator",
    action: "harmony:action",
    builtIn: { "@id": "harmony:builtIn", "@type": "xsd:boolean" },
    holder: { "@id": "harmony:holder", "@type": "@id" },
    delegatedBy: { "@id": "harmony:delegatedBy", "@type": "@id" },
    grantedRole: { "@id": "harmony:grantedRole", "@type": "@id" },
    revokedBy: { "@id": "harmony:revokedBy", "@type": "@id" },
    BridgeGrant: "harmony:BridgeGrant",
    BridgeLink: "harmony:BridgeLink",
    bridgeCapability: { "@id": "harmony:capability", "@type": "@json" },
    grantee: { "@id": "harmony:grantee", "@type": "@id" },
    peerActor: { "@id": "harmony:peerActor", "@type": "@id" },
    peerInbox: { "@id": "harmony:peerInbox", "@type": "@id" },
    envelope: { "@id": "harmony:envelope", "@type": "@json" },
    origin: { "@id": "harmony:origin", "@type": "@id" },
    seq: { "@id": "harmony:seq", "@type": "xsd:integer" },
    document: { "@id": "harmony:document", "@type": "@json" },
    editLamport: { "@id": "harmony:editLamport", "@type": "xsd:integer" },
    editOp: { "@id": "harmony:editOp", "@type": "@id" },
    profileProof: { "@id": "harmony:profileProof", "@type": "@json" },
    approveFollowers: { "@id": "harmony:approveFollowers", "@type": "xsd:boolean" },
    fediverseReplies: { "@id": "harmony:fediverseReplies", "@type": "@vocab" },
    Follower: "harmony:Follower",
    Pending: "harmony:Pending",
    Accepted: "harmony:Accepted",
    Rejected: "harmony:Rejected",
    RemoteActor: "harmony:RemoteActor",
    followActivity: { "@id": "harmony:followActivity", "@type": "@id" },
    followState: { "@id": "harmony:followState", "@type": "@vocab" },
    answer: { "@id": "harmony:answer", "@type": "@id" },
    answerDue: { "@id": "harmony:answerDue", "@type": "xsd:boolean" },
    software: "harmony:software",
    preferredUsername: "as:preferredUsername",
    url: { "@id": "as:url", "@type": "@id" },
    icon: { "@id": "as:icon", "@type": "@id" },
    inbox: { "@id": "http://www.w3.org/ns/ldp#inbox", "@type": "@id" },
    sharedInbox: { "@id": "as:sharedInbox", "@type": "@id" },
    // social recovery (server/recovery/vocab.ts, docs/vocabulary.md)
    RecoverySetup: "harmony:RecoverySetup",
    RecoveryRequest: "harmony:RecoveryRequest",
    RecoveryApproval: "harmony:RecoveryApproval",
    RecoveryCancel: "harmony:RecoveryCancel",
    guardians: { "@id": "harmony:guardian", "@type": "@id", "@container": "@set" },
    threshold: { "@id": "harmony:threshold", "@type": "xsd:integer" },
    oldIdentity: { "@id": "harmony:oldIdentity", "@type": "@id" },
    newIdentity: { "@id": "harmony:newIdentity", "@type": "@id" },
    request: { "@id": "harmony:request", "@type": "@id" },
    // end-to-end encrypted direct messages (server/dms, docs/dms.md)
    EncryptedMessage: "harmony:EncryptedMessage",
    recipient: { "@id": "harmony:recipient", "@type": "@id" },
    encryption: "harmony:encryption",
    nonce: "harmony:nonce",
    ciphertext: "harmony:ciphertext",
    dmEnvelope: { "@id": "harmony:dmEnvelope", "@type": "@json" },
    // files (server/files, docs/api.md)
    attachment: { "@id": "as:attachment", "@type": "@id" },
    attachments: { "@id": "harmony:attachments", "@type": "@json" },
    mediaType: "as:mediaType",
    size: { "@id": "harmony:size", "@type": "xsd:integer" },
    digest: "harmony:digest",
    width: { "@id": "as:width", "@type": "xsd:nonNegativeInteger" },
    height: { "@id": "as:height", "@type": "xsd:nonNegativeInteger" },
    // conversation (server/conversation/, docs/vocabulary.md)
    React: "harmony:React",
    Unreact: "harmony:Unreact",
    Pin: "harmony:Pin",
    Unpin: "harmony:Unpin",
    inReplyTo: { "@id": "as:inReplyTo", "@type": "@id" },
    thread: { "@id": "harmony:thread", "@type": "@id" },
    removes: { "@id": "harmony:removes", "@type": "@id", "@container": "@set" },
    // mentions (server/attention, docs/vocabulary.md)
    mentions: { "@id": "harmony:mentions", "@type": "@id", "@container": "@set" },
  };
  return { "@context": terms };
}
