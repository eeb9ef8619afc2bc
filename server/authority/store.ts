/**
 * The capabilities members hold, and the roles they are assigned through,
 * as quads: capabilities in the authority graph (subject = the capability
 * id), roles in the community graph. Read into a per-instance cache that
 * every write here drops.
 */
import type { Tx } from "../../db/client.ts";
import { quadStore } from "../../db/quadstore.ts";
import { boolean, dateTime, iri, literal, quad } from "../../db/terms.ts";
import type { DelegatedCapability } from "../documents/documents.ts";
import type { Harmony } from "../harmony.ts";
import { AS, H, RDF, RDF_JSON } from "../rdf/vocab.ts";
import { type Action, BUILT_IN_ROLES, type BuiltInRole, isAction } from "./actions.ts";

export interface HeldCapability {
  id: string;
  holder: string;
  /** Who signed the delegation: a member's DID, or the community's. */
  delegatedBy: string;
  parent: string;
  /** The role it was assigned as, if any (a role IRI). */
  role: string | null;
  actions: Action[];
  target: string;
  expires: string;
  issued: string;
  revoked: boolean;
  revokedBy: string | null;
  capability: DelegatedCapability;
}

export interface RoleInfo {
  iri: string;
  slug: string;
  name: string;
  actions: Action[];
  builtIn: boolean;
}

export interface AuthorityState {
  byId: Map<string, HeldCapability>;
  byHolder: Map<string, HeldCapability[]>;
  /** Ids of revoked capabilities: a chain containing one is void. */
  revoked: Set<string>;
  roles: RoleInfo[];
}

/**
 * The cache is tagged with the instance's community write generation:
 * every write to the authority graph goes through `h.writeCommunity`,
 * which bumps it after the commit, so a cached state never outlives a
 * committed change.
 */
const cache = new WeakMap<Harmony, { generation: number; state: Promise<AuthorityState> }>();

export function authorityState(h: Harmony): Promise<AuthorityState> {
  const cached = cache.get(h);
  if (cached && cached.generation === h.communityGeneration) return cached.state;
  const entry = { generation: h.communityGeneration, state: load(h) };
  cache.set(h, entry);
  entry.state.catch(() => cache.get(h) === entry && cache.delete(h));
  return entry.state;
}

/** Drops the cache (writes through `h.writeCommunity` do so by themselves). */
export function authorityChanged(h: Harmony): void {
  cache.delete(h);
}

async function load(h: Harmony): Promise<AuthorityState> {
  const [held, community] = await Promise.all([
    quadStore.match(h.db, { graph: h.iris.authority }),
    quadStore.match(h.db, { graph: h.iris.community, predicate: RDF.type, object: H.Role }),
  ]);
  const bySubject = new Map<string, Map<string, string[]>>();
  for (const q of held) {
    let props = bySubject.get(q.subject.value);
    if (!props) bySubject.set(q.subject.value, props = new Map());
    props.set(q.predicate.value, [...(props.get(q.predicate.value) ?? []), q.object.value]);
  }
  const state: AuthorityState = { byId: new Map(), byHolder: new Map(), revoked: new Set(), roles: [] };
  for (const [id, p] of bySubject) {
    const one = (t: { value: string }) => p.get(t.value)?.[0];
    const capability = JSON.parse(one(H.capability) ?? "{}") as DelegatedCapability;
    const held: HeldCapability = {
      id,
      holder: one(H.holder)!,
      delegatedBy: one(H.delegatedBy)!,
      parent: one(H.parentCapability)!,
      role: one(H.grantedRole) ?? null,
      actions: capability.allowedAction.filter(isAction),
      target: capability.invocationTarget,
      expires: capability.expires,
      issued: one(AS.published)!,
      revoked: one(H.revoked) === "true",
      revokedBy: one(H.revokedBy) ?? null,
      capability,
    };
    state.byId.set(id, held);
    state.byHolder.set(held.holder, [...(state.byHolder.get(held.holder) ?? []), held]);
    if (held.revoked) state.revoked.add(id);
  }
  for (const q of community) {
    const props = await quadStore.match(h.db, { graph: h.iris.community, subject: q.subject });
    const name = props.find((x) => x.predicate.value === AS.name.value)?.object.value ?? "";
    const actions = props.filter((x) => x.predicate.value === H.action.value).map((x) => x.object.value)
      .filter(isAction);
    const builtIn = props.some((x) => x.predicate.value === H.builtIn.value && x.object.value === "true");
    state.roles.push({
      iri: q.subject.value,
      slug: q.subject.value.split("/").pop()!,
      name,
      actions,
      builtIn,
    });
  }
  const order = ["owner", "admin", "moderator", "member"];
  state.roles.sort((a, b) =>
    (order.indexOf(a.slug) + 1 || 99) - (order.indexOf(b.slug) + 1 || 99) || a.name.localeCompare(b.name)
  );
  return state;
}

/** Records a capability a member now holds (already verified). */
export async function storeHeld(
  h: Harmony,
  tx: Tx,
  capability: DelegatedCapability,
  options: { delegatedBy: string; role?: string | null; now?: Date },
): Promise<void> {
  const g = h.iris.authority;
  const s = iri(capability.id);
  const quads = [
    quad(s, RDF.type, H.HeldCapability, g),
    quad(s, H.holder, iri(capability.controller), g),
    quad(s, H.delegatedBy, iri(options.delegatedBy), g),
    quad(s, H.parentCapability, iri(capability.parentCapability), g),
    quad(s, H.capability, literal(JSON.stringify(capability), RDF_JSON), g),
    quad(s, AS.published, dateTime(options.now ?? new Date()), g),
    quad(s, H.expires, dateTime(capability.expires), g),
    quad(s, H.revoked, boolean(false), g),
  ];
  if (options.role) quads.push(quad(s, H.grantedRole, iri(options.role), g));
  await quadStore.insert(tx, quads);
  authorityChanged(h);
}

export async function markRevoked(h: Harmony, tx: Tx, id: string, by: string): Promise<void> {
  const g = h.iris.authority;
  await quadStore.set(tx, g, iri(id), H.revoked, boolean(true));
  await quadStore.set(tx, g, iri(id), H.revokedBy, iri(by));
  await quadStore.set(tx, g, iri(id), AS.updated, dateTime(new Date()));
  authorityChanged(h);
}

/** Creates the built-in roles if they are missing (first start). */
export async function ensureBuiltInRoles(h: Harmony, tx: Tx): Promise<void> {
  const g = h.iris.community;
  for (
    const [slug, role] of Object.entries(BUILT_IN_ROLES) as Array<
      [BuiltInRole, (typeof BUILT_IN_ROLES)[BuiltInRole]]
    >
  ) {
    const s = iri(h.iris.role(slug));
    if ((await quadStore.count(tx, { graph: g, subject: s, predicate: RDF.type })) > 0) continue;
    await quadStore.insert(tx, [
      quad(s, RDF.type, H.Role, g),
      quad(s, AS.name, literal(role.name), g),
      quad(s, H.builtIn, boolean(true), g),
      ...role.actions.map((action) => quad(s, H.action, literal(action), g)),
    ]);
  }
  authorityChanged(h);
}

export async function writeRole(
  h: Harmony,
  tx: Tx,
  slug: string,
  name: string,
  actions: Action[],
): Promise<void> {
  const g = h.iris.community;
  const s = iri(h.iris.role(slug));
  await quadStore.remove(tx, { graph: g, subject: s });
  await quadStore.insert(tx, [
    quad(s, RDF.type, H.Role, g),
    quad(s, AS.name, literal(name), g),
    quad(s, H.builtIn, boolean(false), g),
    ...actions.map((action) => quad(s, H.action, literal(action), g)),
  ]);
  authorityChanged(h);
}

export async function deleteRole(h: Harmony, tx: Tx, slug: string): Promise<void> {
  await quadStore.remove(tx, { graph: h.iris.community, subject: iri(h.iris.role(slug)) });
  authorityChanged(h);
}

/** Whether a capability's delegation path runs through one of `ids` (its parents, transitively). */
export function delegatedThrough(state: AuthorityState, held: { parent: string }, ids: Set<string>): boolean {
  for (let parent = held.parent, hops = 0; parent && hops < 10; hops++) {
    if (ids.has(parent)) return true;
    const next = state.byId.get(parent);
    if (!next) return false;
    parent = next.parent;
  }
  return false;
}
