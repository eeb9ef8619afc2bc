/**
 * The channel page: signs what the composer sends, edits and deletes,
 * and applies the live stream (HTML fragments rendered by the server).
 */
import { signDelete, signMessage, signUpdate } from "../../server/documents/documents.ts";
import { api, RequestError, toast } from "./http.ts";
import { currentSigner } from "./keystore.ts";
import { initUploads } from "./upload.ts";
import {
  belongsHere,
  clearReply,
  composerRefs,
  handleConversationClick,
  initConversation,
  threadSeen,
} from "./conversation.ts";
import { applyViewer, attachAttention, editableText, initAttention, prepareText } from "./attention.ts";

declare const htmx: { process(element: Element): void } | undefined;

const noKey = "This device does not hold your key. Restore your identity from its recovery phrase to post.";

function formatTimes(root: ParentNode): void {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "short" });
  for (const time of root.querySelectorAll<HTMLTimeElement>("time[datetime]")) {
    const date = new Date(time.dateTime);
    if (!Number.isNaN(date.getTime())) {
      time.textContent = format.format(date);
      time.title = date.toLocaleString();
    }
  }
}

/** Order key of a message element: (Lamport time, author DID, id). */
function orderOf(el: HTMLElement): [number, string, string] {
  return [Number(el.dataset.lamport), el.dataset.author ?? "", el.dataset.id ?? ""];
}

function before(a: [number, string, string], b: [number, string, string]): boolean {
  if (a[0] !== b[0]) return a[0] < b[0];
  if (a[1] !== b[1]) return a[1] < b[1];
  return a[2] < b[2];
}

function fragment(html: string): HTMLElement | null {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content.firstElementChild as HTMLElement | null;
}

function nearBottom(list: HTMLElement): boolean {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function upsert(list: HTMLElement, el: HTMLElement): void {
  const existing = document.getElementById(el.id);
  if (existing) {
    existing.replaceWith(el);
    return;
  }
  const key = orderOf(el);
  const messages = list.querySelectorAll<HTMLElement>("article.message");
  let anchor: HTMLElement | null = null;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (before(orderOf(messages[i]), key)) break;
    anchor = messages[i];
  }
  if (anchor) anchor.before(el);
  else list.append(el);
}

function connectLive(main: HTMLElement, list: HTMLElement): void {
  const source = new EventSource(`/channels/${main.dataset.channelId}/live?since=${main.dataset.revision}`);
  source.addEventListener("change", (event) => {
    const data = JSON.parse((event as MessageEvent).data);
    if (data.kind === "channel") {
      location.reload();
      return;
    }
    const stick = nearBottom(list);
    if (data.kind === "deleted") {
      document.getElementById(data.id)?.remove();
      return;
    }
    // Thread replies show on their thread's page only (their root shows the count).
    if (!belongsHere(main, data)) return;
    const el = fragment(data.html);
    if (!el) return;
    applyViewer(el);
    formatTimes(el);
    upsert(list, el);
    if (typeof htmx !== "undefined") htmx.process(el);
    if (stick) list.scrollTop = list.scrollHeight;
    if (data.thread && data.kind === "created") threadSeen(main);
  });
  attachAttention(source, main.dataset.channelId!);
  source.addEventListener("reset", () => {
    source.close();
    location.reload();
  });
  source.addEventListener("closed", () => {
    source.close();
    toast("You can no longer read this channel.");
  });
}

function setupComposer(form: HTMLFormElement): void {
  const input = form.querySelector("textarea")!;
  const error = form.querySelector<HTMLElement>(".composer-error")!;
  const uploads = initUploads(form, (message) => error.textContent = message);
  let sending = false;
  const send = async () => {
    const content = input.value;
    if ((!content.trim() && uploads.count() === 0) || sending) return;
    sending = true;
    error.textContent = "";
    try {
      const signer = await currentSigner();
      if (!signer) throw new Error(noKey);
      if (signer.did !== document.body.dataset.me) {
        throw new Error(
          "The key on this device belongs to another identity than the one signed in. Sign in again.",
        );
      }
      const attachments = await uploads.ready();
      if (!content.trim() && attachments.length === 0) return;
      const text = await prepareText(content);
      const message = await signMessage(
        signer,
        form.dataset.channelIri!,
        text.content,
        undefined,
        undefined,
        { ...composerRefs(form), attachment: attachments, mentions: text.mentions },
      );
      await api("POST", `/channels/${form.dataset.channelId}/messages`, { message });
      uploads.clear();
      clearReply();
      input.value = "";
      input.style.height = "";
    } catch (e) {
      error.textContent = (e as Error).message;
    } finally {
      sending = false;
      input.focus();
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void send();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    }
  });
}

function editMessage(article: HTMLElement): void {
  if (article.querySelector(".edit-box")) return;
  const content = article.querySelector<HTMLElement>(".content")!;
  const box = document.createElement("form");
  box.className = "edit-box";
  const area = document.createElement("textarea");
  area.value = editableText(article.dataset.source ?? "");
  area.maxLength = 4000;
  area.setAttribute("aria-label", "Edit message");
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link-button";
  cancel.textContent = "Cancel";
  box.append(area, save, cancel);
  content.hidden = true;
  content.after(box);
  area.focus();
  const close = () => {
    box.remove();
    content.hidden = false;
  };
  cancel.addEventListener("click", close);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      box.requestSubmit();
    }
  });
  box.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const signer = await currentSigner();
      if (!signer) throw new Error(noKey);
      const main = document.getElementById("main")!;
      const text = await prepareText(area.value);
      const update = await signUpdate(
        signer,
        main.dataset.channelIri!,
        article.dataset.id!,
        text.content,
        undefined,
        text.mentions,
      );
      await api("PUT", `/messages/${encodeURIComponent(article.dataset.id!)}`, { update });
      close();
    } catch (e) {
      toast((e as Error).message);
    }
  });
}

async function deleteMessage(article: HTMLElement): Promise<void> {
  if (!confirm("Delete this message?")) return;
  try {
    const signer = await currentSigner();
    if (!signer) throw new Error(noKey);
    const main = document.getElementById("main")!;
    const doc = await signDelete(signer, main.dataset.channelIri!, article.dataset.id!);
    await api("DELETE", `/messages/${encodeURIComponent(article.dataset.id!)}`, { delete: doc });
    article.remove();
  } catch (e) {
    toast(e instanceof RequestError || e instanceof Error ? e.message : String(e));
  }
}

export function initChatPage(): void {
  const main = document.getElementById("main")!;
  const list = document.getElementById("messages")!;
  formatTimes(document);
  if (!main.dataset.highlight) list.scrollTop = list.scrollHeight;
  document.body.addEventListener("htmx:afterSwap", () => formatTimes(list));
  initConversation(main, list);
  document.getElementById("main")!.addEventListener("click", (event) => {
    if (handleConversationClick(event)) return;
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
    const article = button?.closest<HTMLElement>("article.message");
    if (!button || !article) return;
    if (button.dataset.action === "edit") editMessage(article);
    if (button.dataset.action === "delete") void deleteMessage(article);
  });
  const composer = document.getElementById("composer") as HTMLFormElement | null;
  if (composer) setupComposer(composer);
  initAttention(main.dataset.channelId!);
  connectLive(main, list);
}
