import type { Role } from "../server/shared/model.ts";

/** The roles section of the settings page (plain data; see server/authority/). */
export interface RolesData {
  roles: Array<{ slug: string; name: string; actions: string[]; builtIn: boolean }>;
  /** Every action and what it allows. */
  actions: Record<string, string>;
  members: Array<{ did: string; name: string; role: Role; roles: string[] }>;
  me: string;
  canTransfer: boolean;
}

const target = { "hx-target": "#settings", "hx-swap": "outerHTML" };

export function RolesSection(props: RolesData) {
  const assignable = props.roles.filter((r) => r.slug !== "owner" && r.slug !== "member");
  return (
    <section aria-labelledby="s-roles">
      <h2 id="s-roles">Roles</h2>
      <p class="muted">
        A role is a set of actions. Assigning it delegates exactly those actions from your own capability to
        the member, signed by your key on this device; you can only hand out what you hold.
      </p>
      <ul class="settings-list">
        {props.members.filter((m) => m.did !== props.me).map((m) => (
          <li key={m.did} class="row">
            <span>{m.name}</span>
            <span class="muted">{m.roles.length ? m.roles.join(", ") : "member"}</span>
            {m.roles.filter((slug) => slug !== "owner").map((slug) => (
              <button
                key={slug}
                type="button"
                class="link-button"
                hx-post={`/ui/members/${encodeURIComponent(m.did)}/roles/${slug}/remove`}
                hx-confirm={`Remove the ${slug} role from ${m.name}?`}
                {...target}
              >
                Remove {slug}
              </button>
            ))}
            {assignable.length
              ? (
                <form class="inline assign-role" data-member={m.did}>
                  <label class="visually-hidden" for={`assign-${m.did}`}>Role to give {m.name}</label>
                  <select id={`assign-${m.did}`} name="role">
                    {assignable.map((r) => <option key={r.slug} value={r.slug}>{r.name}</option>)}
                  </select>
                  <button type="submit">Assign</button>
                </form>
              )
              : null}
            {props.canTransfer
              ? (
                <button
                  type="button"
                  class="danger"
                  hx-post={`/ui/members/${encodeURIComponent(m.did)}/ownership`}
                  hx-confirm={`Hand the community over to ${m.name}? You will become an admin.`}
                  {...target}
                >
                  Make owner
                </button>
              )
              : null}
          </li>
        ))}
      </ul>
      <h3>Role definitions</h3>
      <ul class="settings-list">
        {props.roles.map((r) => (
          <li key={r.slug} class="row">
            <strong>{r.name}</strong>
            <span class="muted">{r.actions.join(", ")}</span>
            {r.builtIn ? <span class="muted">(built in)</span> : (
              <>
                <details class="edit-role">
                  <summary>Edit</summary>
                  <form hx-post={`/ui/roles/${r.slug}`} {...target}>
                    <label for={`role-name-${r.slug}`}>Name</label>
                    <input id={`role-name-${r.slug}`} name="name" maxlength={40} required value={r.name} />
                    <ActionChoices actions={props.actions} checked={r.actions} />
                    <button type="submit">Save {r.name}</button>
                  </form>
                </details>
                <button type="button" class="danger" hx-post={`/ui/roles/${r.slug}/delete`} {...target}>
                  Delete
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      <form hx-post="/ui/roles" {...target}>
        <label for="role-name">New role</label>
        <input id="role-name" name="name" maxlength={40} required placeholder="Helper" />
        <ActionChoices actions={props.actions} checked={[]} />
        <button type="submit">Create role</button>
      </form>
    </section>
  );
}

function ActionChoices(props: { actions: Record<string, string>; checked: string[] }) {
  return (
    <fieldset class="actions-grid">
      <legend>Actions it allows</legend>
      {Object.entries(props.actions).map(([action, what]) => (
        <label key={action} class="checkbox">
          <input type="checkbox" name="actions" value={action} checked={props.checked.includes(action)} />
          {" "}
          {action} <span class="muted">({what})</span>
        </label>
      ))}
    </fieldset>
  );
}
