/**
 * Direct message pages (docs/dms.md): decrypts the envelopes the server
 * rendered and the ones arriving live, and encrypts and signs what the
 * member writes before it leaves the page. The keys never leave this
 * device: a non-extractable X25519 key and the Ed25519 signing key in
 * IndexedDB (keystore.ts).
 */
import type { EncryptedMessage } from "../../server/dms/crypto.ts";
import { type Agreement, openDm, sealDm, webCryptoAgreement } from "../../server/dms/seal.ts";
import { identityFromSigningSecret } from "../../server/crypto/derive.ts";
import { api, toast } from "./http.ts";
import {
  addAgreementKeyFromMnemonic,
  currentSigner,
  importAgreementKey,
  linkableSecret,
  loadIdentity,
} from "./keystore.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

/** The DM key of this device: stored, or derived from a device that may add others; null if neither. */
async function agreementOf(did: string): Promise<Agreement | null> {
  const stored = await loadIdentity();
  if (!stored || stored.did !== did) return null;
  if (stored.agreementKey) return webCryptoAgreement(did, stored.agreementKey);
  const secret = await linkableSecret().catch(() => null);
  if (!secret) return null;
  const identity = identityFromSigningSecret(secret);
  secret.fill(0);
  const key = await importAgreementKey(identity.agreementSecret, identity.agreementPublic);
  identity.agreementSecret.fill(0);
  return webCryptoAgreement(did, key);
}

interface DmEvent {
  position: number;
  conversation: string;
  envelope: EncryptedMessage;
}

export function initDmListPage(): void {
  const form = $<HTMLFormElement>("dm-remote");
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("dm-remote-error")!;
    error.textContent = "";
    const actor = (form.elements.namedItem("actor") as HTMLInputElement).value.trim();
    try {
      const member = await api<{ did: string; actor: string }>(
        "GET",
        `/dms/resolve?actor=${encodeURIComponent(actor)}`,
      );
      location.assign(`/dms/${encodeURIComponent(member.did)}?actor=${encodeURIComponent(member.actor)}`);
    } catch (e) {
      error.textContent = (e as Error).message;
    }
  });
}

export async function initDmPage(): Promise<void> {
  const main = $("main")!;
  const me = document.body.dataset.me ?? "";
  const peer = main.dataset.peer!;
  const peerActor = main.dataset.peerActor || null;
  const conversation = main.dataset.conversation!;
  const list = $<HTMLOListElement>("dm-messages")!;
  const status = $("dm-status")!;
  let agreement = await agreementOf(me);
  let highest = 0;

  const markRead = async () => {
    if (highest > 0) {
      await api("POST", `/dms/${encodeURIComponent(peer)}/read`, { position: highest }).catch(() => {});
    }
  };

  const fill = async (item: HTMLElement) => {
    const text = item.querySelector<HTMLElement>(".dm-text")!;
    try {
      const opened = await openDm(agreement!, JSON.parse(item.dataset.envelope!));
      text.textContent = opened.content;
      item.dataset.decrypted = "true";
    } catch (error) {
      text.textContent = `(cannot be read: ${(error as Error).message})`;
      item.dataset.decrypted = "false";
    }
  };

  const decryptAll = async () => {
    for (const item of list.querySelectorAll<HTMLElement>("li[data-envelope]")) {
      highest = Math.max(highest, Number(item.dataset.position));
      if (!item.dataset.decrypted) await fill(item);
    }
    status.textContent = "End-to-end encrypted.";
    list.lastElementChild?.scrollIntoView({ block: "end" });
    await markRead();
  };

  const append = async (event: DmEvent) => {
    if (event.conversation !== conversation) return;
    if (document.getElementById(`dm-${event.position}`)) return;
    const item = document.createElement("li");
    const mine = event.envelope.attributedTo === me;
    item.className = mine ? "dm-message mine" : "dm-message";
    item.id = `dm-${event.position}`;
    item.dataset.position = String(event.position);
    item.dataset.envelope = JSON.stringify(event.envelope);
    const author = document.createElement("span");
    author.className = "dm-author";
    author.textContent = mine ? "You" : document.querySelector("h1")?.textContent ?? "";
    const time = document.createElement("time");
    time.dateTime = event.envelope.published;
    time.textContent = event.envelope.published;
    const text = document.createElement("p");
    text.className = "dm-text";
    item.append(author, " ", time, text);
    list.append(item);
    highest = Math.max(highest, event.position);
    if (agreement) await fill(item);
    item.scrollIntoView({ block: "end" });
    if (!mine && document.visibilityState === "visible") await markRead();
  };

  const unlock = $<HTMLFormElement>("dm-unlock")!;
  if (!agreement) {
    status.textContent = "This device cannot read direct messages yet.";
    unlock.hidden = false;
    unlock.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const words = $<HTMLTextAreaElement>("dm-unlock-words")!;
        const key = await addAgreementKeyFromMnemonic(words.value);
        words.value = "";
        agreement = webCryptoAgreement(me, key);
        unlock.hidden = true;
        await decryptAll();
      } catch (error) {
        toast((error as Error).message);
      }
    });
  } else {
    await decryptAll();
  }

  // Live: new messages of this member, both directions, resumed after the last one shown.
  const source = new EventSource(`/api/dms/live?since=${highest}`);
  source.addEventListener("dm", (event) => {
    void append(JSON.parse((event as MessageEvent).data) as DmEvent);
  });

  const composer = $<HTMLFormElement>("dm-composer")!;
  const input = $<HTMLTextAreaElement>("dm-input")!;
  const error = $("dm-error")!;
  const send = async () => {
    error.textContent = "";
    const content = input.value.trim();
    if (!content) return;
    if (!agreement) {
      error.textContent = "Unlock direct messages on this device first.";
      return;
    }
    const signer = await currentSigner();
    if (!signer || signer.did !== me) {
      error.textContent = "This device holds another identity than the one signed in.";
      return;
    }
    try {
      const envelope = await sealDm({ agreement, signer, recipient: peer, content });
      const sent = await api<{ position: number; conversation: string }>("POST", "/dms", {
        envelope,
        ...(peerActor ? { actor: peerActor } : {}),
      });
      input.value = "";
      await append({ position: sent.position, conversation: sent.conversation, envelope });
    } catch (e) {
      error.textContent = (e as Error).message;
    }
  };
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    void send();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void send();
    }
  });
}
