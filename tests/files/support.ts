/** Shared set-up for the files tests: an instance, its owner, a member, and where the files live. */
import { eq } from "drizzle-orm";
import { base64 } from "@scure/base";
import type { HarmonyClient } from "../../cli/client.ts";
import { files } from "../../db/schema.ts";
import { parseKeyText } from "../../server/files/cipher.ts";
import { claimedInstance, memberOf } from "../helpers/instance.ts";

/** A 3×2 PNG (header and IHDR are what the server reads; the rest is a valid tiny image). */
export const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAEElEQVR4nGP4z8AAQQxwFgBB0gX7h/C5SAAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

export async function filesInstance(env: Record<string, string> = {}) {
  const { instance, owner } = await claimedInstance(env);
  const member = await memberOf(instance, owner);
  const general = (await owner.channels())[0];
  return { instance, owner, member, general };
}

export async function fileRow(instance: { harmony: { db: unknown } }, descriptorId: string) {
  const h = instance as unknown as { harmony: import("../../server/harmony.ts").Harmony };
  const [row] = await h.harmony.db.select().from(files).where(
    eq(files.id, descriptorId.replace("urn:uuid:", "")),
  );
  return row ?? null;
}

export async function allFileRows(instance: { harmony: import("../../server/harmony.ts").Harmony }) {
  return await instance.harmony.db.select().from(files);
}

/** Every blob file under the instance's files directory. */
export async function blobsOn(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string) => {
    try {
      for await (const entry of Deno.readDir(path)) {
        const full = `${path}/${entry.name}`;
        if (entry.isDirectory) await walk(full);
        else out.push(full);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  };
  await walk(dir);
  return out;
}

export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The file's own key, unwrapped the way the server does it (for checking it is nowhere in the clear). */
export async function rawFileKey(
  keyFile: string,
  row: { id: string; wrappedKey: string },
): Promise<Uint8Array> {
  const kek = parseKeyText(await Deno.readTextFile(keyFile));
  const key = await crypto.subtle.importKey("raw", kek.slice(), "AES-GCM", false, ["decrypt"]);
  const wrapped = base64.decode(row.wrappedKey);
  return new Uint8Array(
    await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: wrapped.slice(0, 12),
        additionalData: new TextEncoder().encode(`harmony-file-key:urn:uuid:${row.id}`),
      },
      key,
      wrapped.slice(12),
    ),
  );
}

/** A raw upload request (to control headers and bodies exactly). */
export function rawUpload(
  client: HarmonyClient,
  channelId: string,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${client.server}/api/files?channel=${encodeURIComponent(channelId)}`, {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${client.token}`, ...headers },
  });
}
