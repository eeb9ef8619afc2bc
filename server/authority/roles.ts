/** Roles: named sets of actions, assigned by delegating exactly those actions. */
import { conflict, invalid, notFound } from "../shared/errors.ts";
import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import { cleanText } from "../shared/text.ts";
import { type Action, isAction } from "./actions.ts";
import { authorize } from "./authorize.ts";
import { writeAuthority } from "./grants.ts";
import { authorityState, deleteRole as removeRoleQuads, type RoleInfo, writeRole } from "./store.ts";
import { auditFor, recordAudit } from "../audit/log.ts";

function parseActions(value: unknown): Action[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every(isAction)) {
    throw invalid("invalid_actions", "a role lists at least one Harmony action");
  }
  return [...new Set(value)];
}

function slugOf(name: string): string {
  const slug = name.normalize("NFKD").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(
    0,
    32,
  );
  if (!slug) throw invalid("invalid_role_name", "a role name needs letters or digits");
  return slug;
}

/** Defines a role; you cannot define one allowing actions you do not have yourself. */
export async function createRole(
  h: Harmony,
  actor: Actor,
  input: { name: unknown; actions: unknown },
  signed?: unknown,
): Promise<RoleInfo> {
  const { did, capabilityId } = await authorize(h, actor, "manage-roles");
  const name = cleanText(input.name, { field: "role name", max: 40 });
  const actions = parseActions(input.actions);
  const slug = slugOf(name);
  const state = await authorityState(h);
  if (state.roles.some((r) => r.slug === slug)) {
    throw conflict("role_exists", `there is already a role "${name}"`);
  }
  for (const action of actions) await authorize(h, { did, via: actor.via }, action);
  const audit = await auditFor(h, actor, signed, {
    action: "role-create",
    target: h.iris.community,
    capability: capabilityId,
    arguments: { name: input.name, actions: input.actions },
  });
  await writeAuthority(h, async (tx) => {
    await writeRole(h, tx, slug, name, actions);
    await recordAudit(tx, h, audit);
  }, { signs: false });
  return (await authorityState(h)).roles.find((r) => r.slug === slug)!;
}

/**
 * Changes a role's name or actions. Members who hold it keep the
 * capability they were given until they are assigned the role again
 * (capabilities are signed; a change of definition cannot alter them).
 */
export async function updateRole(
  h: Harmony,
  actor: Actor,
  slug: string,
  input: { name?: unknown; actions?: unknown },
  signed?: unknown,
): Promise<RoleInfo> {
  const { did, capabilityId } = await authorize(h, actor, "manage-roles");
  const role = (await authorityState(h)).roles.find((r) => r.slug === slug);
  if (!role) throw notFound(`there is no role "${slug}"`);
  if (role.builtIn) throw invalid("built_in_role", "the built-in roles cannot be changed; define a new one");
  const name = input.name === undefined ? role.name : cleanText(input.name, { field: "role name", max: 40 });
  const actions = input.actions === undefined ? role.actions : parseActions(input.actions);
  for (const action of actions) await authorize(h, { did, via: actor.via }, action);
  const changes = { name: input.name, actions: input.actions };
  const audit = await auditFor(h, actor, signed, {
    action: "role-update",
    target: role.iri,
    capability: capabilityId,
    arguments: JSON.parse(JSON.stringify(changes)),
  });
  await writeAuthority(h, async (tx) => {
    await writeRole(h, tx, slug, name, actions);
    await recordAudit(tx, h, audit);
  }, { signs: false });
  return (await authorityState(h)).roles.find((r) => r.slug === slug)!;
}

export async function deleteRole(h: Harmony, actor: Actor, slug: string, signed?: unknown): Promise<void> {
  const { capabilityId } = await authorize(h, actor, "manage-roles");
  const state = await authorityState(h);
  const role = state.roles.find((r) => r.slug === slug);
  if (!role) throw notFound(`there is no role "${slug}"`);
  if (role.builtIn) throw invalid("built_in_role", "the built-in roles cannot be deleted");
  const holders = [...state.byId.values()].filter((c) => c.role === role.iri && !c.revoked);
  if (holders.length) {
    throw conflict("role_in_use", `${holders.length} member(s) hold this role; remove it from them first`);
  }
  const audit = await auditFor(h, actor, signed, {
    action: "role-delete",
    target: role.iri,
    capability: capabilityId,
  });
  await writeAuthority(h, async (tx) => {
    await removeRoleQuads(h, tx, slug);
    await recordAudit(tx, h, audit);
  }, { signs: false });
}
