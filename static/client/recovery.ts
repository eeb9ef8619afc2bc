/**
 * Social recovery in the browser: this device's key signs the setup
 * (guardians, threshold), a guardian's approval, the old key's cancel and,
 * on the identity page, the new key's request. Nothing is signed on the
 * server.
 */
import { isDidKey } from "../../server/crypto/didkey.ts";
import {
  signRecoveryApproval,
  signRecoveryCancel,
  signRecoveryRequest,
  signRecoverySetup,
} from "../../server/documents/documents.ts";
import { api } from "./http.ts";
import { currentSigner, loadIdentity } from "./keystore.ts";

async function signer() {
  const found = await currentSigner();
  if (!found) throw new Error("This device does not hold your key. Restore your identity first.");
  if (document.body.dataset.me && document.body.dataset.me !== found.did) {
    throw new Error("This device holds another identity than the one signed in. Sign in again.");
  }
  return found;
}

/** The server mints the ids of setups and requests (docs/identity.md); ask for one before signing. */
async function mintedId(kind: "RecoverySetup" | "RecoveryRequest"): Promise<string> {
  return (await api<{ id: string }>("POST", "/recovery/ids", { kind })).id;
}

/** Splits pasted DIDs (lines, spaces or commas) and checks them. */
export function parseGuardians(text: string): string[] {
  const dids = text.split(/[\s,]+/).map((d) => d.trim()).filter(Boolean);
  const bad = dids.find((d) => !isDidKey(d));
  if (bad) throw new Error(`"${bad}" is not an Ed25519 did:key`);
  return [...new Set(dids)];
}

/** The profile page's Recovery section. */
export function initRecoverySection(): void {
  const section = document.getElementById("recovery");
  if (!section) return;
  const community = section.dataset.community!;
  const form = document.getElementById("recovery-setup-form") as HTMLFormElement;
  const setupStatus = document.getElementById("recovery-setup-status")!;
  const status = document.getElementById("recovery-status")!;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setupStatus.textContent = "";
    try {
      const guardians = parseGuardians((form.elements.namedItem("guardians") as HTMLTextAreaElement).value);
      const threshold = Number((form.elements.namedItem("threshold") as HTMLInputElement).value);
      if (guardians.length === 0) throw new Error("Name at least one guardian.");
      if (!Number.isInteger(threshold) || threshold < 1 || threshold > guardians.length) {
        throw new Error(`The approvals needed must be from 1 to ${guardians.length}.`);
      }
      const key = await signer();
      const id = await mintedId("RecoverySetup");
      const setup = await signRecoverySetup(key, community, guardians, threshold, id);
      await api("PUT", "/recovery/setup", { setup });
      setupStatus.textContent = "Saved.";
      location.reload();
    } catch (error) {
      setupStatus.textContent = (error as Error).message;
    }
  });

  section.addEventListener("click", async (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-recovery-action]");
    if (!button) return;
    const item = button.closest<HTMLElement>("[data-id]")!;
    const request = {
      id: item.dataset.id!,
      community: item.dataset.community!,
      oldIdentity: item.dataset.old!,
      newIdentity: item.dataset.new!,
    };
    const path = `/recovery/requests/${encodeURIComponent(request.id)}`;
    status.textContent = "";
    button.disabled = true;
    try {
      if (button.dataset.recoveryAction === "approve") {
        const approval = await signRecoveryApproval(await signer(), request);
        await api("POST", `${path}/approve`, { approval });
      } else {
        const cancel = await signRecoveryCancel(await signer(), request);
        await api("POST", `${path}/cancel`, { cancel });
      }
      location.reload();
    } catch (error) {
      button.disabled = false;
      status.textContent = (error as Error).message;
    }
  });
}

/** The identity page's "Recover an identity": the new key asks to take the old DID's place. */
export async function initRecoverIdentity(): Promise<void> {
  const section = document.getElementById("recover-identity");
  const form = document.getElementById("recover-form") as HTMLFormElement | null;
  if (!section || !form) return;
  const stored = await loadIdentity();
  section.hidden = !stored;
  const status = document.getElementById("recover-status")!;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    try {
      const key = await currentSigner();
      if (!key) throw new Error("Create a new identity first: it will take the lost one's place.");
      if (document.body.dataset.me !== key.did) {
        throw new Error("Sign in with this device's identity first (the Sign in button above).");
      }
      const old = (form.elements.namedItem("old") as HTMLInputElement).value.trim();
      if (!isDidKey(old)) throw new Error("That is not a did:key (it starts with did:key:z6Mk).");
      if (old === key.did) throw new Error("That is this device's identity; name the one you lost.");
      const { iri } = await api<{ iri: string }>("GET", "/community");
      const request = await signRecoveryRequest(key, iri, old, await mintedId("RecoveryRequest"));
      await api("POST", "/recovery/requests", { request });
      location.assign("/profile#recovery");
    } catch (error) {
      status.textContent = (error as Error).message;
    }
  });
}
