/**
 * Ids of recovery setups and requests are minted by the server, not chosen
 * by the client (issue 14): setups, requests and approvals share one graph,
 * and an id chosen to equal another entity's would merge two subjects (a
 * request reading a setup's threshold, a setup write erasing a request).
 *
 * A minted id is a UUID (version 8, RFC 9562) carrying 60 random bits and
 * 62 bits of HMAC-SHA256 over those bits, the kind of document and the DID
 * it is minted for, under a key that never leaves the instance. Checking one
 * needs no stored state, so minting costs nothing to refuse or to flood;
 * that an id is used once is checked against the graph itself (a minted id
 * that already names something there is refused).
 */
import { eq } from "drizzle-orm";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad, hex } from "@scure/base";
import { instanceState } from "../../db/schema.ts";
import type { Queryable } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { iri } from "../../db/terms.ts";
import { conflict, invalid, unauthorized } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { R, recoveryGraph } from "./vocab.ts";

export type RecoveryDocumentKind = "RecoverySetup" | "RecoveryRequest";
export const RECOVERY_DOCUMENT_KINDS: readonly RecoveryDocumentKind[] = ["RecoverySetup", "RecoveryRequest"];

const KEY_NAME = "recovery:id-key";
const keys = new WeakMap<Harmony, Promise<Uint8Array>>();

/** The instance's id-minting key: made once, kept in instance_state (never exported). */
function mintingKey(h: Harmony): Promise<Uint8Array> {
  let key = keys.get(h);
  if (!key) {
    key = (async () => {
      const fresh = base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(32)));
      await h.database.write((tx) =>
        tx.insert(instanceState).values({ key: KEY_NAME, value: fresh }).onConflictDoNothing()
      );
      const [row] = await h.db.select().from(instanceState).where(eq(instanceState.key, KEY_NAME));
      return base64urlnopad.decode(row.value);
    })();
    key.catch(() => keys.delete(h));
    keys.set(h, key);
  }
  return key;
}

const encoder = new TextEncoder();

function tag(key: Uint8Array, kind: RecoveryDocumentKind, did: string, nonce: Uint8Array): Uint8Array {
  const label = encoder.encode(`harmony/recovery-id/v1|${kind}|${did}|`);
  const input = new Uint8Array(label.length + nonce.length);
  input.set(label);
  input.set(nonce, label.length);
  return hmac(sha256, key, input).subarray(0, 8);
}

function format(bytes: Uint8Array): string {
  const h = hex.encode(bytes);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A new id for a document of `kind` that `did` is about to sign. */
export async function mintRecoveryId(h: Harmony, kind: RecoveryDocumentKind, did: string): Promise<string> {
  const key = await mintingKey(h);
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = 0x80 | (bytes[6] & 0x0f); // version 8
  const mac = tag(key, kind, did, bytes.subarray(0, 8));
  bytes.set(mac, 8);
  bytes[8] = 0x80 | (mac[0] & 0x3f); // the RFC 9562 variant takes two bits of the tag
  return format(bytes);
}

/** `POST /api/recovery/ids`: an id for the signed-in member's next setup or request. */
export async function issueRecoveryId(
  h: Harmony,
  actor: Actor,
  kind: unknown,
): Promise<{ id: string; kind: RecoveryDocumentKind }> {
  if (!actor.did) throw unauthorized("sign in (with the key that will sign the document) to get an id");
  if (!RECOVERY_DOCUMENT_KINDS.includes(kind as RecoveryDocumentKind)) {
    throw invalid("invalid_kind", `"kind" must be one of ${RECOVERY_DOCUMENT_KINDS.join(", ")}`);
  }
  const id = await mintRecoveryId(h, kind as RecoveryDocumentKind, actor.did);
  return { id, kind: kind as RecoveryDocumentKind };
}

/** Whether `id` was minted here for a document of `kind` signed by `did`. */
export async function wasMinted(
  h: Harmony,
  kind: RecoveryDocumentKind,
  did: string,
  id: string,
): Promise<boolean> {
  const match = /^urn:uuid:([0-9a-f]{8})-([0-9a-f]{4})-(8[0-9a-f]{3})-([89ab][0-9a-f]{3})-([0-9a-f]{12})$/
    .exec(id);
  if (!match) return false;
  const bytes = hex.decode(match.slice(1).join(""));
  const mac = tag(await mintingKey(h), kind, did, bytes.subarray(0, 8));
  let difference = (bytes[8] ^ mac[0]) & 0x3f;
  for (let i = 1; i < 8; i++) difference |= bytes[8 + i] ^ mac[i];
  return difference === 0;
}

/**
 * Refuses an id the server did not mint for this signer and kind, or one
 * that already names anything in the recovery graph (as a subject, or as
 * the request an approval belongs to).
 */
export async function requireFreshId(
  q: Queryable,
  h: Harmony,
  kind: RecoveryDocumentKind,
  did: string,
  id: string,
): Promise<void> {
  if (!await wasMinted(h, kind, did, id)) {
    throw invalid(
      "unminted_id",
      `this ${kind}'s id was not minted by this server for you; ask POST /api/recovery/ids for one`,
    );
  }
  const graph = recoveryGraph(h.config.origin);
  const named = await quadStore.count(q, { graph, subject: iri(id) }) +
    await quadStore.count(q, { graph, predicate: R.request, object: iri(id) });
  if (named > 0) throw conflict("id_in_use", "this id is already used; ask for a new one");
}
