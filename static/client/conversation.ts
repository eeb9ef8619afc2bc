/**
 * Conversation features on the channel and thread pages: reactions (the
 * emoji picker, toggling one's own), replies (the composer's "replying
 * to"), pins, copying a message's link, the highlighted permalink target,
 * and which live messages belong on this page. Every change is signed here
 * with the member's key, as posting is.
 */
import { signPin, signReact, signUnreact } from "../../server/documents/documents.ts";
import { api, toast } from "./http.ts";
import { currentSigner } from "./keystore.ts";

const noKey = "This device does not hold your key. Restore your identity from its recovery phrase to react.";

async function signer() {
  const s = await currentSigner();
  if (!s) throw new Error(noKey);
  if (s.did !== document.body.dataset.me) {
    throw new Error(
      "The key on this device belongs to another identity than the one signed in. Sign in again.",
    );
  }
  return s;
}

function channelIri(): string {
  return document.getElementById("main")!.dataset.channelIri!;
}

/** The reply the composer is writing, if any. */
let replyingTo: string | null = null;

export function composerRefs(form: HTMLFormElement): { inReplyTo?: string; thread?: string } {
  return { inReplyTo: replyingTo ?? undefined, thread: form.dataset.thread || undefined };
}

export function clearReply(): void {
  replyingTo = null;
  const bar = document.getElementById("replying-to");
  if (bar) bar.hidden = true;
}

function startReply(article: HTMLElement): void {
  const bar = document.getElementById("replying-to");
  const input = document.getElementById("composer-input") as HTMLTextAreaElement | null;
  if (!bar || !input) return;
  replyingTo = article.dataset.id!;
  bar.querySelector(".replying-author")!.textContent = article.querySelector(".author")?.textContent ?? "";
  const text = article.querySelector(".content")?.textContent?.trim().split("\n")[0] ?? "";
  bar.querySelector(".replying-excerpt")!.textContent = text.length > 80 ? `${text.slice(0, 79)}…` : text;
  bar.hidden = false;
  input.focus();
}

async function react(article: HTMLElement, emoji: string): Promise<void> {
  const doc = await signReact(await signer(), channelIri(), article.dataset.id!, emoji);
  await api("POST", `/messages/${encodeURIComponent(article.dataset.id!)}/reactions`, { react: doc });
}

async function toggleReaction(article: HTMLElement, button: HTMLElement): Promise<void> {
  const emoji = button.dataset.emoji!;
  const mine = (button.dataset.ops ?? "").split(" ").filter(Boolean);
  if (mine.length === 0) return await react(article, emoji);
  // Removes the reactions this page has seen (observed-remove): one made elsewhere meanwhile stays.
  const doc = await signUnreact(await signer(), channelIri(), article.dataset.id!, emoji, mine);
  await api("POST", `/messages/${encodeURIComponent(article.dataset.id!)}/reactions`, { unreact: doc });
}

async function pin(article: HTMLElement, pinned: boolean): Promise<void> {
  const doc = await signPin(await signer(), channelIri(), article.dataset.id!, pinned);
  await api("POST", `/messages/${encodeURIComponent(article.dataset.id!)}/pin`, { pin: doc });
}

function openPicker(article: HTMLElement, anchor: HTMLElement): void {
  const picker = document.getElementById("emoji-picker");
  if (!picker) return;
  picker.dataset.for = article.dataset.id!;
  anchor.after(picker);
  picker.hidden = false;
  picker.querySelector<HTMLButtonElement>("button")?.focus();
}

function closePicker(): void {
  const picker = document.getElementById("emoji-picker");
  if (picker) picker.hidden = true;
}

async function copyLink(button: HTMLElement): Promise<void> {
  const url = new URL(button.dataset.link!, location.origin).href;
  try {
    await navigator.clipboard.writeText(url);
    toast("Link copied.");
  } catch {
    // No clipboard access (an insecure origin): show the link to copy by hand.
    prompt("Copy this link", url);
  }
}

/** Handles a conversation action; false when the click was not one. */
export function handleConversationClick(event: Event): boolean {
  const target = event.target as HTMLElement;
  const pick = target.closest<HTMLButtonElement>("button[data-pick]");
  if (pick) {
    const picker = pick.closest<HTMLElement>("#emoji-picker")!;
    const article = document.querySelector<HTMLElement>(`article.message[data-id="${picker.dataset.for}"]`);
    closePicker();
    if (article) react(article, pick.dataset.pick!).catch((e) => toast((e as Error).message));
    return true;
  }
  const button = target.closest<HTMLElement>("button[data-action]");
  const article = button?.closest<HTMLElement>("article.message");
  if (!button) return false;
  const action = button.dataset.action;
  if (action === "cancel-reply") {
    clearReply();
    return true;
  }
  if (!article) return false;
  const run = (work: Promise<void>) => work.catch((e) => toast((e as Error).message));
  switch (action) {
    case "reply":
      startReply(article);
      return true;
    case "react":
      openPicker(article, button);
      return true;
    case "toggle-reaction":
      void run(toggleReaction(article, button));
      return true;
    case "pin":
    case "unpin":
      void run(pin(article, action === "pin"));
      return true;
    case "copy-link":
      void run(copyLink(button));
      return true;
  }
  return false;
}

/**
 * Whether a live message belongs on this page: the channel page shows the
 * timeline (no thread replies), a thread page its root and its replies.
 */
export function belongsHere(main: HTMLElement, data: { id: string; thread?: string | null }): boolean {
  const root = main.dataset.threadRoot;
  if (!root) return !data.thread;
  return data.thread === root || data.id === `m-${root.replace(/^urn:uuid:/, "")}`;
}

/** On a thread page, a new reply has been seen: move the read marker. */
export function threadSeen(main: HTMLElement): void {
  const root = main.dataset.threadRoot;
  if (!root || !document.body.dataset.me) return;
  const uuid = root.replace(/^urn:uuid:/, "");
  api("POST", `/channels/${main.dataset.channelId}/threads/${uuid}/read`).catch(() => {});
}

export function initConversation(main: HTMLElement, list: HTMLElement): void {
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      closePicker();
      clearReply();
    }
  });
  document.addEventListener("click", (event) => {
    const picker = document.getElementById("emoji-picker");
    if (
      picker && !picker.hidden && !(event.target as HTMLElement).closest("#emoji-picker, [data-action=react]")
    ) {
      closePicker();
    }
  });
  // A permalink: bring the message into view.
  const highlight = main.dataset.highlight;
  if (highlight) {
    const el = document.getElementById(`m-${highlight.replace(/^urn:uuid:/, "")}`);
    if (el) {
      el.scrollIntoView({ block: "center" });
      el.setAttribute("tabindex", "-1");
      el.focus({ preventScroll: true });
    }
  } else if (main.dataset.threadRoot) {
    list.scrollTop = list.scrollHeight;
  }
}
