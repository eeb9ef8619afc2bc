/** The profile page: the member's key signs name and avatar hash. */
import { signProfile } from "../../server/documents/documents.ts";
import { imageHash, sniffImageType } from "../../server/community/images.ts";
import { base64 } from "@scure/base";
import { api } from "./http.ts";
import { currentSigner } from "./keystore.ts";

const MAX_AVATAR_BYTES = 256 * 1024;

async function readAvatar(form: HTMLFormElement, did: string): Promise<Uint8Array | null> {
  const file = (form.elements.namedItem("avatar") as HTMLInputElement).files?.[0];
  if (file) {
    if (file.size > MAX_AVATAR_BYTES) {
      throw new Error("The avatar is larger than 256 KB; choose a smaller image.");
    }
    return new Uint8Array(await file.arrayBuffer());
  }
  const keep = document.getElementById("keep-avatar") as HTMLInputElement | null;
  if (keep?.checked) {
    const response = await fetch(`/avatars/${encodeURIComponent(did)}`);
    if (response.ok) return new Uint8Array(await response.arrayBuffer());
  }
  return null;
}

export function initProfilePage(): void {
  const form = document.getElementById("profile-form") as HTMLFormElement;
  const status = document.getElementById("profile-status")!;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    try {
      const signer = await currentSigner();
      if (!signer) throw new Error("This device does not hold your key. Restore your identity first.");
      const name = (form.elements.namedItem("name") as HTMLInputElement).value.trim();
      const bytes = await readAvatar(form, signer.did);
      let avatar: { type: string; hash: string } | null = null;
      if (bytes) {
        const type = sniffImageType(bytes);
        if (!type) throw new Error("The avatar must be a PNG, JPEG, GIF or WebP image.");
        avatar = { type, hash: await imageHash(bytes) };
      }
      const profile = await signProfile(signer, name, avatar);
      await api("PUT", "/profile", { profile, avatar: bytes ? base64.encode(bytes) : undefined });
      status.textContent = "Saved.";
      location.assign("/");
    } catch (e) {
      status.textContent = (e as Error).message;
    }
  });
}
