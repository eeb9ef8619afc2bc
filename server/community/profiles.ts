import { base64 } from "@scure/base";
import { quadStore } from "../../db/quadstore.ts";
import { dateTime, iri, literal, quad } from "../../db/terms.ts";
import { HarmonyError, invalid } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor, ProfileInfo } from "../shared/model.ts";
import { requireRole } from "./permissions.ts";
import { checkClock, type SignedProfile, verifySigned } from "../documents/signed.ts";
import { cleanText } from "../shared/text.ts";
import { imageHash, sniffImageType } from "./images.ts";
import { AS, H, HARMONY_CONTEXT_URL, RDF, RDF_JSON } from "../rdf/vocab.ts";

export const MAX_AVATAR_BYTES = 256 * 1024;
const XSD_BASE64 = "http://www.w3.org/2001/XMLSchema#base64Binary";

/**
 * Stores a profile the member signed. An avatar travels beside the signed
 * document; the document names its type and SHA-256, so the signature
 * covers the image too.
 */
export async function setProfile(
  h: Harmony,
  actor: Actor,
  input: { profile: unknown; avatar?: unknown },
): Promise<ProfileInfo> {
  const doc = await verifySigned("Profile", input.profile);
  if (doc.id !== actor.did) throw new HarmonyError(403, "forbidden", "you can only set your own profile");
  await requireRole(h, actor, "member", "set a profile");
  const name = cleanText(doc.name, { field: "display name", max: 64 });
  if (name !== doc.name) throw invalid("invalid_name", "sign the display name without surrounding spaces");
  checkClock(doc.updated);
  let avatar: Uint8Array | null = null;
  if (doc.avatarHash !== undefined || doc.avatarType !== undefined) {
    if (typeof input.avatar !== "string") {
      throw invalid("missing_avatar", 'the profile names an avatar; send its bytes as base64 in "avatar"');
    }
    try {
      avatar = base64.decode(input.avatar);
    } catch {
      throw invalid("invalid_avatar", "the avatar is not valid base64");
    }
    if (avatar.length > MAX_AVATAR_BYTES) {
      throw new HarmonyError(
        413,
        "avatar_too_large",
        `the avatar is ${avatar.length} bytes; the limit is ${MAX_AVATAR_BYTES}`,
      );
    }
    const type = sniffImageType(avatar);
    if (!type) {
      throw new HarmonyError(415, "unsupported_image", "the avatar must be a PNG, JPEG, GIF or WebP image");
    }
    if (type !== doc.avatarType) {
      throw invalid("avatar_type_mismatch", `the avatar is ${type}, but the profile says ${doc.avatarType}`);
    }
    if ((await imageHash(avatar)) !== doc.avatarHash) {
      throw invalid("avatar_hash_mismatch", "the avatar does not match the hash in the signed profile");
    }
  } else if (input.avatar !== undefined) {
    throw invalid(
      "unsigned_avatar",
      "an avatar must be named (avatarType, avatarHash) in the signed profile",
    );
  }
  await h.writeCommunity(async (tx) => {
    const g = h.iris.profiles;
    const subject = iri(doc.id);
    const existing = await quadStore.match(tx, { graph: g, subject, predicate: AS.updated });
    if (existing[0] && Date.parse(existing[0].object.value) >= Date.parse(doc.updated)) {
      throw new HarmonyError(409, "stale_profile", "a newer profile is already stored");
    }
    await quadStore.remove(tx, { graph: g, subject });
    await quadStore.remove(tx, { graph: h.iris.avatars, subject });
    const quads = [
      quad(subject, RDF.type, H.Profile, g),
      quad(subject, AS.name, literal(doc.name), g),
      quad(subject, AS.updated, dateTime(doc.updated), g),
      quad(subject, H.profileProof, literal(JSON.stringify(doc.proof), RDF_JSON), g),
    ];
    if (avatar) {
      quads.push(
        quad(subject, H.avatarType, literal(doc.avatarType!), g),
        quad(subject, H.avatarHash, literal(doc.avatarHash!), g),
        quad(subject, H.avatar, literal(base64.encode(avatar), XSD_BASE64), h.iris.avatars),
      );
    }
    await quadStore.insert(tx, quads);
  });
  return (await h.snapshot()).profiles.get(doc.id)!;
}

export async function getAvatar(
  h: Harmony,
  did: string,
): Promise<{ type: string; bytes: Uint8Array; hash: string } | null> {
  const profile = (await h.snapshot()).profiles.get(did);
  if (!profile?.avatarType || !profile.avatarHash) return null;
  // profile.did differs from did for an identity that moved (the new DID's avatar).
  const [q] = await quadStore.match(h.db, {
    graph: h.iris.avatars,
    subject: iri(profile.did),
    predicate: H.avatar,
  });
  if (!q) return null;
  return { type: profile.avatarType, bytes: base64.decode(q.object.value), hash: profile.avatarHash };
}

/** The signed profile document, rebuilt from its quads. */
export async function signedProfile(h: Harmony, did: string): Promise<SignedProfile | null> {
  const profile = (await h.snapshot()).profiles.get(did);
  if (!profile) return null;
  const [proof] = await quadStore.match(h.db, {
    graph: h.iris.profiles,
    subject: iri(did),
    predicate: H.profileProof,
  });
  if (!proof) return null;
  const doc: SignedProfile = {
    "@context": HARMONY_CONTEXT_URL,
    type: "Profile",
    id: did,
    name: profile.name,
    updated: profile.updated,
    proof: JSON.parse(proof.object.value),
  };
  if (profile.avatarType && profile.avatarHash) {
    doc.avatarType = profile.avatarType;
    doc.avatarHash = profile.avatarHash;
  }
  return doc;
}
