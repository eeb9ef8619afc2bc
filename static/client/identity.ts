/** The identity page: create (with a backup check), restore, sign in, forget. */
import { generateMnemonic, isValidMnemonic, normalizeMnemonic } from "../../server/crypto/derive.ts";
import { signPresentation } from "../../server/documents/documents.ts";
import { api } from "./http.ts";
import {
  currentSigner,
  forgetIdentity,
  loadIdentity,
  saveIdentityFromMnemonic,
  type StoredIdentity,
} from "./keystore.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function show(...ids: string[]): void {
  for (const id of ["stored-identity", "choose", "backup", "backup-check"]) $(id).hidden = !ids.includes(id);
}

function setError(message: string): void {
  $("identity-error").textContent = message;
}

function setStatus(message: string): void {
  $("identity-status").textContent = message;
}

/** Whether the member allowed this device to add their other devices (docs/identity.md). */
export function keepLinkable(): boolean {
  return (document.getElementById("keep-linkable") as HTMLInputElement | null)?.checked === true;
}

export async function signIn(returnTo: string): Promise<void> {
  const signer = await currentSigner();
  if (!signer) throw new Error("this device holds no identity");
  setStatus("Signing in…");
  const challenge = await api<{ challenge: string; domain: string }>("POST", "/auth/challenge");
  const presentation = await signPresentation(signer, challenge.challenge, challenge.domain);
  await api("POST", "/auth/session", { presentation });
  location.assign(returnTo);
}

/** Three distinct word positions (1-based) to check the backup. */
function pickPositions(count = 3): number[] {
  const positions = new Set<number>();
  const random = new Uint32Array(16);
  crypto.getRandomValues(random);
  for (const r of random) {
    positions.add((r % 24) + 1);
    if (positions.size === count) break;
  }
  return [...positions].sort((a, b) => a - b);
}

export async function initIdentityPage(): Promise<void> {
  const main = $("main");
  const returnTo = main.dataset.return || "/";
  let pending: string | null = null;
  let positions: number[] = [];

  const guard = (fn: () => void | Promise<void>) => async () => {
    setError("");
    try {
      await fn();
    } catch (error) {
      setStatus("");
      setError((error as Error).message);
    }
  };

  // The forms work from the moment the page has loaded: handlers are attached before
  // anything is awaited (else a quick Restore would submit the bare form and reload the page),
  // and those that need the stored identity wait for it themselves.
  const stored: Promise<StoredIdentity | null> = loadIdentity();
  let creating = false;

  $("sign-in").addEventListener("click", guard(() => signIn(returnTo)));

  $("forget").addEventListener(
    "click",
    guard(async () => {
      if (
        !confirm("Forget this identity on this device? Without your recovery phrase it is gone for good.")
      ) return;
      await forgetIdentity();
      show("choose");
      setStatus("The identity was removed from this device.");
    }),
  );

  $("create").addEventListener(
    "click",
    guard(async () => {
      if ((await stored) && !confirm("This device already holds an identity. Replace it with a new one?")) {
        return;
      }
      creating = true;
      pending = generateMnemonic();
      const list = $("mnemonic-words");
      list.replaceChildren(
        ...pending.split(" ").map((word) => {
          const li = document.createElement("li");
          li.textContent = word;
          return li;
        }),
      );
      show("backup");
      list.focus();
    }),
  );

  const showCheck = () => {
    positions = pickPositions();
    const fields = $("backup-check-fields");
    fields.replaceChildren(...positions.map((n) => {
      const label = document.createElement("label");
      label.textContent = `Word ${n}`;
      const input = document.createElement("input");
      input.name = `word-${n}`;
      input.autocomplete = "off";
      input.autocapitalize = "none";
      input.spellcheck = false;
      input.required = true;
      label.append(input);
      return label;
    }));
    show("backup-check");
    fields.querySelector("input")?.focus();
  };
  $("backup-done").addEventListener("click", showCheck);
  $("backup-show-again").addEventListener("click", () => show("backup"));

  $("backup-check-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void guard(async () => {
      if (!pending) throw new Error("create an identity first");
      const words = pending.split(" ");
      const form = event.target as HTMLFormElement;
      const wrong = positions.filter((n) => {
        const input = form.elements.namedItem(`word-${n}`) as HTMLInputElement;
        return input.value.trim().toLowerCase() !== words[n - 1];
      });
      if (wrong.length) {
        throw new Error(`Word ${wrong.join(", ")} does not match. Check your copy and try again.`);
      }
      setStatus("Creating your keys…");
      await saveIdentityFromMnemonic(pending, { linkable: keepLinkable() });
      pending = null;
      $("mnemonic-words").replaceChildren();
      await signIn(returnTo);
    })();
  });

  $("restore-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void guard(async () => {
      const words = normalizeMnemonic(($("restore-words") as HTMLTextAreaElement).value);
      if (words.split(" ").length !== 24 && words.split(" ").length !== 12) {
        throw new Error("A recovery phrase has 24 words (12 for older phrases).");
      }
      if (!isValidMnemonic(words)) {
        throw new Error("This is not a valid recovery phrase: check the spelling and order of the words.");
      }
      setStatus("Restoring your keys…");
      await saveIdentityFromMnemonic(words, { linkable: keepLinkable() });
      ($("restore-words") as HTMLTextAreaElement).value = "";
      await signIn(returnTo);
    })();
  });

  const identity = await stored;
  // A member who started creating an identity meanwhile keeps their backup step on screen.
  if (creating) return;
  if (identity) {
    $("stored-did").textContent = identity.did;
    show("stored-identity", "choose");
    if (document.body.dataset.me === identity.did) setStatus("You are signed in with this identity.");
  } else {
    show("choose");
  }
}
