/**
 * Adding a device (docs/identity.md): the new device shows a code and the
 * fingerprint of a one-time X25519 key; the signed-in device seals the
 * member's key to it. The server only relays public keys and ciphertext.
 */
import { base64urlnopad } from "@scure/base";
import {
  identityFromMnemonic,
  identityFromSigningSecret,
  isValidMnemonic,
} from "../../server/crypto/derive.ts";
import { decodeKey, normalizePairingCode, type SealedKey } from "../../server/recovery/pairingCrypto.ts";
import { newPairingKeys, openSealedKey, sealKeyForDevice } from "../../server/recovery/pairingBox.ts";
import { api, RequestError } from "./http.ts";
import { keepLinkable, signIn } from "./identity.ts";
import { currentSigner, linkableSecret, loadIdentity, saveIdentityFromSecret } from "./keystore.ts";

const POLL_MS = 1000;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whose key arrived, as the server's community knows them (server/recovery/pairing.ts). */
interface ArrivedIdentity {
  did: string;
  name: string | null;
  avatar: string | null;
  member: boolean;
}

/**
 * Shows whose identity arrived and waits for the member's answer. Anyone
 * signed in who saw the code could have delivered their own key first;
 * using it would make this device act as them.
 */
function askWhoArrived(identity: ArrivedIdentity): Promise<boolean> {
  const waiting = document.getElementById("link-waiting")!;
  const box = document.getElementById("link-arrived")!;
  const avatar = document.getElementById("link-avatar")!;
  document.getElementById("link-name")!.textContent = identity.name ?? "No name in this community";
  document.getElementById("link-membership")!.textContent = identity.member
    ? "A member of this community"
    : "Not a member of this community";
  document.getElementById("link-did")!.textContent = identity.did;
  // Only a path on this origin (the server's answer), never an arbitrary URL.
  const picture = identity.avatar?.startsWith("/avatars/") ? identity.avatar : null;
  avatar.replaceChildren();
  if (picture) {
    const img = document.createElement("img");
    Object.assign(img, { src: picture, alt: "", width: 80, height: 80, className: "avatar large" });
    avatar.append(img);
  }
  avatar.hidden = picture === null;
  waiting.hidden = true;
  box.hidden = false;
  document.getElementById("link-arrived-title")!.focus();
  const accept = document.getElementById("link-accept") as HTMLButtonElement;
  const reject = document.getElementById("link-reject") as HTMLButtonElement;
  return new Promise((resolve) => {
    const answer = (yes: boolean) => () => {
      accept.onclick = reject.onclick = null;
      box.hidden = true;
      avatar.replaceChildren();
      resolve(yes);
    };
    accept.onclick = answer(true);
    reject.onclick = answer(false);
  });
}

/** The identity page: "Link this device". */
export function initLinkThisDevice(): void {
  const button = document.getElementById("link-device") as HTMLButtonElement | null;
  if (!button) return;
  const panel = document.getElementById("link-panel")!;
  const status = document.getElementById("link-status")!;
  const returnTo = document.getElementById("main")?.dataset.return || "/";

  button.addEventListener("click", async () => {
    status.textContent = "";
    try {
      if (
        await loadIdentity() &&
        !confirm("This device already holds an identity. Replace it with the one you link?")
      ) return;
      button.disabled = true;
      // The one-time key pair lives in this page's memory only.
      const keys = newPairingKeys();
      const pairing = await api<{ code: string; token: string; expires: string; fingerprint: string }>(
        "POST",
        "/pairings",
        { publicKey: base64urlnopad.encode(keys.publicKey) },
      );
      document.getElementById("link-code")!.textContent = pairing.code;
      document.getElementById("link-fingerprint")!.textContent = pairing.fingerprint;
      document.getElementById("link-waiting")!.hidden = false;
      panel.hidden = false;
      status.textContent = "Waiting for your other device…";
      const path = `/pairings/${encodeURIComponent(pairing.code)}/pickup`;
      while (true) {
        const answer = await api<
          { state: "waiting" } | {
            state: "delivered";
            did: string;
            sealed: SealedKey;
            identity?: ArrivedIdentity;
          }
        >("POST", path, { token: pairing.token });
        if (answer.state === "delivered") {
          const code = normalizePairingCode(pairing.code)!;
          const secret = openSealedKey(answer.sealed, keys, code, answer.did);
          keys.secretKey.fill(0);
          if (identityFromSigningSecret(secret).did !== answer.did) {
            secret.fill(0);
            throw new Error("The key received does not belong to the identity that sent it.");
          }
          status.textContent = "";
          const identity = answer.identity?.did === answer.did
            ? answer.identity
            : { did: answer.did, name: null, avatar: null, member: false };
          if (!await askWhoArrived(identity)) {
            secret.fill(0);
            button.disabled = false;
            status.textContent = "Discarded: this device kept nothing. If someone else's identity arrived, " +
              "they saw your code; press Link this device for a new one, where nobody can see it.";
            return;
          }
          status.textContent = `Signing in as ${answer.did}…`;
          await saveIdentityFromSecret(secret, { linkable: keepLinkable() });
          await signIn(returnTo);
          return;
        }
        await wait(POLL_MS);
      }
    } catch (error) {
      button.disabled = false;
      const expired = error instanceof RequestError && (error.status === 410 || error.status === 404);
      status.textContent = expired
        ? "The code expired before the key arrived. Press the button again for a new one."
        : (error as Error).message;
    }
  });
}

/** The profile page: "Add a device". */
export function initAddDevice(): void {
  const form = document.getElementById("pairing-lookup-form") as HTMLFormElement | null;
  if (!form) return;
  const confirmBox = document.getElementById("pairing-confirm")!;
  const phraseBox = document.getElementById("pairing-phrase")!;
  const send = document.getElementById("pairing-send") as HTMLButtonElement;
  const status = document.getElementById("pairing-status")!;
  let target: { code: string; publicKey: Uint8Array } | null = null;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    confirmBox.hidden = true;
    target = null;
    try {
      const typed = (form.elements.namedItem("code") as HTMLInputElement).value;
      const code = normalizePairingCode(typed);
      if (!code) throw new Error("A pairing code has 8 letters and digits, like ABCD-EFGH.");
      const info = await api<{ code: string; publicKey: string; fingerprint: string }>(
        "GET",
        `/pairings/${encodeURIComponent(code)}`,
      );
      target = { code, publicKey: decodeKey(info.publicKey, 32, "the device's key") };
      document.getElementById("pairing-fingerprint")!.textContent = info.fingerprint;
      const secret = await linkableSecret().catch(() => null);
      phraseBox.hidden = secret !== null;
      secret?.fill(0);
      confirmBox.hidden = false;
      send.disabled = false;
      send.focus();
    } catch (error) {
      status.textContent = (error as Error).message;
    }
  });

  send.addEventListener("click", async () => {
    if (!target) return;
    status.textContent = "";
    send.disabled = true;
    let secret: Uint8Array | null = null;
    try {
      const signer = await currentSigner();
      if (!signer) throw new Error("This device does not hold your key.");
      secret = await linkableSecret().catch(() => null);
      if (!secret) {
        const words = document.getElementById("pairing-words") as HTMLTextAreaElement;
        if (!isValidMnemonic(words.value)) {
          throw new Error("Type your recovery phrase: this device keeps no copy of your key to send.");
        }
        const identity = await identityFromMnemonic(words.value);
        words.value = "";
        identity.agreementSecret.fill(0);
        if (identity.did !== signer.did) {
          identity.signingSecret.fill(0);
          throw new Error("That recovery phrase is for another identity than the one signed in here.");
        }
        secret = identity.signingSecret;
      }
      const sealed = sealKeyForDevice(secret, target.publicKey, target.code, signer.did);
      await api("POST", `/pairings/${encodeURIComponent(target.code)}/key`, sealed);
      confirmBox.hidden = true;
      status.textContent = "Sent. The new device now shows whose identity it received: " +
        "check it is yours and confirm there.";
      target = null;
    } catch (error) {
      send.disabled = false;
      status.textContent = (error as Error).message;
    } finally {
      secret?.fill(0);
    }
  });
}
