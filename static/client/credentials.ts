/**
 * Joining a community that admits by credential: the member picks the
 * credential file they downloaded from the issuing community, this device's
 * key signs a presentation of it over a fresh challenge (domain = this
 * origin), and the server checks it (POST /api/join {presentation}).
 */
import { signCredentialPresentation } from "../../server/credentials/presentation.ts";
import { api } from "./http.ts";
import { currentSigner } from "./keystore.ts";

export function initJoinByCredential(): void {
  const form = document.getElementById("join-credential-form") as HTMLFormElement | null;
  if (!form) return;
  const status = document.getElementById("join-credential-status")!;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    try {
      const signer = await currentSigner();
      if (!signer) throw new Error("This device does not hold your key. Restore your identity first.");
      const file = (form.elements.namedItem("credential") as HTMLInputElement).files?.[0];
      if (!file) throw new Error("Choose your credential file first.");
      if (file.size > 64 * 1024) throw new Error("That file is too large to be a credential.");
      let credential: unknown;
      try {
        credential = JSON.parse(await file.text());
      } catch {
        throw new Error("That file is not a credential (it is not JSON).");
      }
      if (typeof credential !== "object" || credential === null || Array.isArray(credential)) {
        throw new Error("That file is not a credential.");
      }
      const { challenge, domain } = await api<{ challenge: string; domain: string }>(
        "POST",
        "/auth/challenge",
      );
      const presentation = await signCredentialPresentation(
        signer,
        [credential as Record<string, unknown>],
        challenge,
        domain,
      );
      await api("POST", "/join", { presentation });
      location.reload();
    } catch (e) {
      status.textContent = (e as Error).message;
    }
  });
}
