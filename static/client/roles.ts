/**
 * Roles and delegations: the member's key signs the delegation of a
 * role's actions (or of some of their own) before it is sent.
 */
import { delegateFrom, type HeldSummary } from "../../server/authority/delegating.ts";
import { signAction } from "../../server/documents/documents.ts";
import { api, toast } from "./http.ts";
import { currentSigner } from "./keystore.ts";

const noKey = "This device does not hold your key. Restore your identity from its recovery phrase first.";

async function signedDelegation(
  request: { controller: string; actions: string[]; target: string; expires?: string },
) {
  const signer = await currentSigner();
  if (!signer) throw new Error(noKey);
  const { held } = await api<{ held: HeldSummary[] }>("GET", "/capabilities");
  return await delegateFrom(signer, held, request);
}

async function assignRole(form: HTMLFormElement): Promise<void> {
  const did = form.dataset.member!;
  const slug = (form.elements.namedItem("role") as HTMLSelectElement).value;
  const [roles, community] = await Promise.all([
    api<Array<{ slug: string; actions: string[] }>>("GET", "/roles"),
    api<{ iri: string }>("GET", "/community"),
  ]);
  const role = roles.find((r) => r.slug === slug);
  if (!role) throw new Error(`there is no role "${slug}"`);
  const delegation = await signedDelegation({
    controller: did,
    actions: role.actions,
    target: community.iri,
  });
  await api("POST", `/members/${encodeURIComponent(did)}/roles`, { role: slug, delegation });
}

/** The delegation form on the profile page: some of my actions to a bot or a member. */
async function delegate(form: HTMLFormElement): Promise<void> {
  const fields = new FormData(form);
  const to = String(fields.get("to") ?? "").trim();
  const actions = fields.getAll("actions").map(String);
  const channel = String(fields.get("channel") ?? "");
  const until = String(fields.get("until") ?? "");
  if (!actions.length) throw new Error("choose at least one action to delegate");
  const community = await api<{ iri: string }>("GET", "/community");
  const delegation = await signedDelegation({
    controller: to,
    actions,
    target: channel ? `${community.iri}/channels/${channel}` : community.iri,
    expires: until ? new Date(`${until}T23:59:59`).toISOString() : undefined,
  });
  await api("POST", "/capabilities", { delegation });
}

/** Revoking is audited, so it carries the member's signed action. */
async function revoke(id: string): Promise<void> {
  const signer = await currentSigner();
  if (!signer) throw new Error(noKey);
  const community = await api<{ iri: string }>("GET", "/community");
  const action = await signAction(signer, {
    action: "capability-revoke",
    target: id,
    community: community.iri,
  });
  await api("DELETE", `/capabilities/${encodeURIComponent(id)}`, { action });
}

export function initRoleForms(): void {
  document.addEventListener("submit", (event) => {
    const form = event.target as HTMLFormElement;
    const run = form.classList.contains("assign-role")
      ? assignRole
      : form.id === "delegate-form"
      ? delegate
      : null;
    if (!run) return;
    event.preventDefault();
    run(form).then(() => location.reload(), (error) => toast((error as Error).message));
  });
  document.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-revoke-capability]");
    if (!button) return;
    revoke(button.dataset.revokeCapability!)
      .then(() => location.reload(), (error) => toast((error as Error).message));
  });
}
