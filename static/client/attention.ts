/**
 * Attention on the channel page (server/attention): mentions in the
 * composer, highlights, the bell and unread badges kept live from the
 * stream, typing signals and indicators, presence dots and idle reports,
 * and the read marker. Live message HTML is the same for every reader:
 * `applyViewer` keeps the controls this viewer may use.
 */
import {
  type MentionDirectory,
  resolveMentions,
  roleSlugOf,
  tokensToNames,
} from "../../server/attention/mentionText.ts";
import { api } from "./http.ts";

const me = () => document.body.dataset.me ?? "";

function myRoles(): string[] {
  try {
    return JSON.parse(document.getElementById("bell")?.dataset.roles ?? "[]");
  } catch {
    return [];
  }
}

// ---- mentions in what the member writes

let directory: MentionDirectory | null = null;
let directoryAt = 0;

async function loadDirectory(): Promise<MentionDirectory> {
  if (!directory || Date.now() - directoryAt > 60_000) {
    directory = await api<MentionDirectory>("GET", "/attention/directory");
    directoryAt = Date.now();
  }
  return directory;
}

/** Resolves `@name` to mention tokens and lists the targets to sign. */
export async function prepareText(text: string): Promise<{ content: string; mentions: string[] }> {
  if (!text.includes("@")) return { content: text, mentions: [] };
  return resolveMentions(text, await loadDirectory());
}

/** A message's source as the member edits it: tokens shown as `@Name`. */
export function editableText(source: string): string {
  return directory ? tokensToNames(source, directory) : source;
}

// ---- what the viewer sees of shared HTML

/** Marks mentions of the viewer, and keeps only the controls they may use on a shared rendering. */
export function applyViewer(root: ParentNode): void {
  const did = me();
  const roles = new Set(myRoles().map(roleSlugOf));
  for (const span of root.querySelectorAll<HTMLElement>(".mention")) {
    const mine = (span.dataset.mention && span.dataset.mention === did) ||
      (span.dataset.mentionRole !== undefined && roles.has(span.dataset.mentionRole));
    if (mine) {
      span.classList.add("mention-me");
      span.closest("article.message")?.classList.add("mentions-me");
    }
  }
  const articles = root instanceof HTMLElement && root.matches("article.message[data-shared]")
    ? [root]
    : [...root.querySelectorAll<HTMLElement>("article.message[data-shared]")];
  const role = document.getElementById("main")?.dataset.viewerRole ?? "";
  for (const article of articles) {
    const mine = did !== "" && article.dataset.author === did && role !== "";
    const moderator = role === "admin" || role === "owner";
    if (!mine) {
      article.querySelector("button[data-action=edit]")?.remove();
      delete article.dataset.source;
    }
    if (!mine && !moderator) article.querySelector("button[data-action=delete]")?.remove();
    applyViewerToConversation(article, did, role);
    const actions = article.querySelector(".message-actions");
    if (actions && !actions.querySelector("button")) actions.remove();
    delete article.dataset.shared;
  }
}

/**
 * The conversation controls of a shared rendering: a member keeps reply,
 * thread and reactions (their own marked, from every reactor's operations),
 * moderators keep pin; a visitor keeps the counts and "copy link".
 */
function applyViewerToConversation(article: HTMLElement, did: string, role: string): void {
  const member = role !== "";
  const pins = role === "owner" || role === "admin" || role === "moderator";
  for (const button of article.querySelectorAll<HTMLButtonElement>(".reaction[data-by]")) {
    const by = JSON.parse(button.dataset.by ?? "{}") as Record<string, string[]>;
    const own = (did && by[did]) || [];
    button.dataset.ops = own.join(" ");
    button.classList.toggle("mine", own.length > 0);
    button.setAttribute("aria-pressed", own.length > 0 ? "true" : "false");
    button.disabled = !member;
    delete button.dataset.by;
  }
  if (!member) {
    article.querySelector(".reaction.add")?.remove();
    article.querySelector("button[data-action=reply]")?.remove();
    article.querySelector("[data-action-link=thread]")?.remove();
  }
  if (!pins) article.querySelector("button[data-action=pin], button[data-action=unpin]")?.remove();
}

// ---- the bell and unread badges

function setCount(el: HTMLElement | null, n: number, prefix = ""): void {
  if (!el) return;
  el.dataset.count = String(n);
  el.textContent = `${prefix}${n >= 100 ? "99+" : n}`;
  el.hidden = n === 0;
}

const countOf = (el: HTMLElement | null) => Number(el?.dataset.count ?? 0);

let refreshTimer: ReturnType<typeof setTimeout> | null = null;

/** Re-reads the counts from the server (after an edit or deletion elsewhere), spread over a few seconds. */
function refreshSoon(): void {
  if (refreshTimer !== null || !document.getElementById("bell")) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    try {
      const summary = await api<
        { channels: Record<string, { messages: number; mentions: number }>; mentions: number }
      >(
        "GET",
        "/attention",
      );
      for (const [id, unread] of Object.entries(summary.channels)) {
        setCount(document.querySelector(`[data-unread-channel="${id}"]`), unread.messages);
        setCount(document.querySelector(`[data-mention-channel="${id}"]`), unread.mentions, "@");
      }
      setCount(document.getElementById("bell-count"), summary.mentions);
    } catch { /* the next event tries again */ }
  }, 500 + Math.random() * 2000);
}

interface Activity {
  kind: "created" | "updated" | "deleted";
  channel: string;
  id: string;
  author: string;
  mentions: string[];
}

function onActivity(activity: Activity): void {
  if (!document.getElementById("bell")) return;
  if (activity.kind !== "created") return refreshSoon();
  if (activity.author === me()) return;
  const unread = document.querySelector<HTMLElement>(`[data-unread-channel="${activity.channel}"]`);
  setCount(unread, Math.min(countOf(unread) + 1, 100));
  const targets = new Set([me(), ...myRoles()]);
  if (activity.mentions.some((t) => targets.has(t))) {
    const badge = document.querySelector<HTMLElement>(`[data-mention-channel="${activity.channel}"]`);
    setCount(badge, countOf(badge) + 1, "@");
    const bell = document.getElementById("bell-count");
    setCount(bell, countOf(bell) + 1);
  }
}

// ---- typing and presence

let typingClear: ReturnType<typeof setTimeout> | null = null;

function showTyping(list: Array<{ did: string; name: string }>): void {
  const el = document.getElementById("typing");
  if (!el) return;
  const others = list.filter((t) => t.did !== me()).map((t) => t.name);
  el.textContent = others.length === 0
    ? ""
    : others.length === 1
    ? `${others[0]} is typing…`
    : others.length <= 3
    ? `${others.slice(0, -1).join(", ")} and ${others.at(-1)} are typing…`
    : "Several people are typing…";
  if (typingClear !== null) clearTimeout(typingClear);
  // The server re-sends the list as entries expire; this covers a lost connection.
  typingClear = setTimeout(() => (el.textContent = ""), 7000);
}

function applyPresence(data: { all?: boolean; presence: Record<string, string> }): void {
  const dots = document.querySelectorAll<HTMLElement>("[data-presence]");
  for (const dot of dots) {
    const status = data.presence[dot.dataset.presence!] ?? (data.all ? "offline" : undefined);
    if (status) {
      dot.dataset.status = status;
      dot.title = status;
    }
  }
}

/** Listens to the attention events of the page's live stream. */
export function attachAttention(source: EventSource, channelId: string): void {
  source.addEventListener("activity", (e) => onActivity(JSON.parse((e as MessageEvent).data)));
  source.addEventListener("typing", (e) => {
    const data = JSON.parse((e as MessageEvent).data);
    if (data.channel === channelId) showTyping(data.typing);
  });
  source.addEventListener("presence", (e) => applyPresence(JSON.parse((e as MessageEvent).data)));
  source.addEventListener("change", () => markReadSoon(channelId));
}

// ---- the read marker

let markTimer: ReturnType<typeof setTimeout> | null = null;

function newestLamport(): number | null {
  const articles = document.querySelectorAll<HTMLElement>("#messages article.message");
  let max: number | null = null;
  for (const a of articles) max = Math.max(max ?? 0, Number(a.dataset.lamport));
  return max;
}

function markReadNow(channelId: string): void {
  if (markTimer !== null) clearTimeout(markTimer);
  markTimer = null;
  const lamport = newestLamport();
  if (lamport === null || !document.getElementById("bell")) return;
  const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
  // keepalive: it is still delivered when the page is closing.
  void fetch(`/api/channels/${channelId}/read`, {
    method: "POST",
    keepalive: true,
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify({ lamport }),
  }).catch(() => {});
}

/** New messages while the page is open: the marker follows, at most every 20 s (1,000 pages stay cheap). */
function markReadSoon(channelId: string): void {
  if (markTimer === null && document.getElementById("bell")) {
    markTimer = setTimeout(() => markReadNow(channelId), 20_000);
  }
}

// ---- page setup

function setupTyping(channelId: string): void {
  const input = document.querySelector<HTMLTextAreaElement>("#composer textarea");
  if (!input) return;
  let last = 0;
  input.addEventListener("input", () => {
    const now = Date.now();
    if (now - last < 4000 || input.value.trim() === "") return;
    last = now;
    api("POST", `/channels/${channelId}/typing`).catch(() => {});
  });
}

function setupIdle(): void {
  if (!document.getElementById("bell")) return;
  let reported: "online" | "idle" = "online";
  let timer: ReturnType<typeof setTimeout> | null = null;
  const report = (status: "online" | "idle") => {
    if (status === reported) return;
    reported = status;
    api("POST", "/presence", { status }).catch(() => {});
  };
  const active = () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => report("idle"), 5 * 60_000);
    if (document.visibilityState === "visible") report("online");
  };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") report("idle");
    else active();
  });
  for (const name of ["keydown", "pointerdown", "pointermove", "focus"]) {
    addEventListener(name, active, { passive: true });
  }
  active();
}

export function initAttention(channelId: string): void {
  applyViewer(document);
  setupTyping(channelId);
  setupIdle();
  if (document.getElementById("composer")) void loadDirectory().catch(() => {});
  initMentionLinks();
  addEventListener("pagehide", () => markReadNow(channelId));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && markTimer !== null) markReadNow(channelId);
  });
}

/** Opening a mention from the bell or the mentions page marks it read, even as the page navigates away. */
export function initMentionLinks(): void {
  document.addEventListener("click", (event) => {
    const link = (event.target as HTMLElement).closest<HTMLAnchorElement>("a[data-mention-message]");
    if (!link) return;
    const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
    void fetch("/api/notifications/read", {
      method: "POST",
      keepalive: true,
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ message: link.dataset.mentionMessage }),
    }).catch(() => {});
  });
}
