/**
 * Moderation in the browser. Every moderation form (views/moderation.tsx)
 * is signed as an Action by the member's key on this device and sent to
 * /api/moderation/actions; role and ownership changes sent from the
 * settings page get a signed Action too, before htmx sends them, so the
 * moderation log holds the acting member's own signature.
 */
import { signAction } from "../../server/documents/documents.ts";
import { api, toast } from "./http.ts";
import { currentSigner } from "./keystore.ts";

const noKey = "This device does not hold your key. Restore your identity from its recovery phrase first.";

let communityIri: Promise<string> | null = null;

function community(): Promise<string> {
  communityIri ??= api<{ iri: string }>("GET", "/community").then((c) => c.iri);
  return communityIri;
}

async function signed(action: string, target: string, args: Record<string, unknown> = {}) {
  const signer = await currentSigner();
  if (!signer) throw new Error(noKey);
  return await signAction(signer, { action, target, community: await community(), arguments: args });
}

function argumentsOf(form: HTMLFormElement, action: string): Record<string, unknown> {
  const fields = new FormData(form);
  const text = (name: string) => String(fields.get(name) ?? "").trim();
  const number = (name: string) => Number(text(name) || 0);
  if (action === "moderation-settings") {
    return {
      rateLimit: number("rateMessages") > 0
        ? { messages: number("rateMessages"), seconds: number("rateSeconds") }
        : null,
      raidProtection: number("raidJoins") > 0
        ? { joins: number("raidJoins"), seconds: number("raidSeconds") }
        : null,
      minimumDidAge: number("minimumDidAge"),
    };
  }
  const args: Record<string, unknown> = {};
  if (fields.has("seconds")) args.seconds = number("seconds");
  if (text("reason")) args.reason = text("reason");
  if (text("removeReplies")) args.removeReplies = true;
  return args;
}

/**
 * A typed block target as the server compares it: an account's actor URL
 * normalized, a server's origin from its host name (https assumed) or any
 * URL on it.
 */
function blockTarget(action: string, typed: string): string {
  if (action === "block-actor" && URL.canParse(typed)) return new URL(typed).href;
  if (action === "block-server") {
    const url = /^https?:\/\//i.test(typed) ? typed : `https://${typed}`;
    if (URL.canParse(url)) return new URL(url).origin;
  }
  return typed;
}

async function submitAction(form: HTMLFormElement): Promise<void> {
  const action = form.dataset.action!;
  const typed = (form.elements.namedItem("target") as HTMLInputElement | null)?.value.trim();
  const target = typed ? blockTarget(action, typed) : form.dataset.target!;
  const doc = await signed(action, target, argumentsOf(form, action));
  await api("POST", "/moderation/actions", { action: doc });
}

interface RoleRequest {
  action: string;
  target: string;
  arguments?: Record<string, unknown>;
}

/** The settings page's role and ownership requests, as the actions they are. */
function roleRequest(path: string, elt: Element, communityIri: string): RoleRequest | null {
  const origin = communityIri.replace(/\/community$/, "");
  let m = /^\/ui\/members\/([^/]+)\/roles\/([^/]+)\/remove$/.exec(path);
  if (m) {
    return {
      action: "role-remove",
      target: decodeURIComponent(m[1]),
      arguments: { role: decodeURIComponent(m[2]) },
    };
  }
  m = /^\/ui\/members\/([^/]+)\/ownership$/.exec(path);
  if (m) return { action: "transfer-ownership", target: decodeURIComponent(m[1]) };
  m = /^\/ui\/roles\/([^/]+)\/delete$/.exec(path);
  if (m) return { action: "role-delete", target: `${origin}/roles/${m[1]}` };
  m = /^\/ui\/roles\/([^/]+)$/.exec(path);
  if (m && elt instanceof HTMLFormElement) {
    const fields = new FormData(elt);
    return {
      action: "role-update",
      target: `${origin}/roles/${m[1]}`,
      arguments: { name: String(fields.get("name") ?? ""), actions: fields.getAll("actions").map(String) },
    };
  }
  if (path === "/ui/roles" && elt instanceof HTMLFormElement) {
    const fields = new FormData(elt);
    return {
      action: "role-create",
      target: communityIri,
      arguments: { name: String(fields.get("name") ?? ""), actions: fields.getAll("actions").map(String) },
    };
  }
  return null;
}

const looksLikeRoleRequest =
  /^\/ui\/(members\/[^/]+\/(roles\/[^/]+\/remove|ownership)|roles(\/[^/]+(\/delete)?)?)$/;

function signRoleRequests(): void {
  const signedFor = new WeakMap<Element, string>();
  document.addEventListener("htmx:confirm", (event) => {
    const detail = (event as CustomEvent).detail as {
      elt: Element;
      path: string;
      verb: string;
      question: string | null;
      issueRequest(skipConfirmation: boolean): void;
    };
    if (detail.verb !== "post" || !looksLikeRoleRequest.test(detail.path)) return;
    event.preventDefault();
    if (detail.question && !confirm(detail.question)) return;
    (async () => {
      const iri = await community();
      const request = roleRequest(detail.path, detail.elt, iri);
      if (request) {
        signedFor.set(
          detail.elt,
          JSON.stringify(await signed(request.action, request.target, request.arguments)),
        );
      }
      detail.issueRequest(true);
    })().catch((error) => toast((error as Error).message));
  });
  document.addEventListener("htmx:configRequest", (event) => {
    const detail = (event as CustomEvent).detail as { elt: Element; parameters: FormData };
    const doc = signedFor.get(detail.elt);
    if (!doc) return;
    signedFor.delete(detail.elt);
    detail.parameters.set("action", doc);
  });
}

export function initModeration(): void {
  document.addEventListener("submit", (event) => {
    const form = (event.target as HTMLElement).closest<HTMLFormElement>("form.moderation-action");
    if (!form) return;
    event.preventDefault();
    if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (button) button.disabled = true;
    submitAction(form).then(
      () => location.reload(),
      (error) => {
        if (button) button.disabled = false;
        toast((error as Error).message);
      },
    );
  });
  signRoleRequests();
}
