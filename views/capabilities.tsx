import type { ChannelInfo } from "../server/shared/model.ts";

/** A capability as the pages show it (plain data; see server/authority/report.ts). */
export interface CapabilityView {
  id: string;
  holder: string;
  delegatedBy: string;
  role: string | null;
  actions: string[];
  target: string;
  expires: string;
  revoked: boolean;
  chain: Array<{ id: string; delegatedBy: string | null; holder: string | null; actions: string[] }>;
}

function targetName(target: string, channels: ChannelInfo[]): string {
  const id = target.match(/\/channels\/([^/]+)$/)?.[1];
  const channel = id ? channels.find((c) => c.id === id) : null;
  return channel ? `#${channel.name}` : "the whole community";
}

const short = (did: string | null) => did ? `${did.replace(/^did:key:/, "").slice(0, 10)}…` : "the community";

/** A member's capabilities, each with the chain of delegations it rests on. */
export function CapabilityChains(
  props: { held: CapabilityView[]; channels: ChannelInfo[]; rootDid: string },
) {
  if (props.held.length === 0) return <p class="muted">No capability in force.</p>;
  return (
    <ul class="capability-list">
      {props.held.map((c) => (
        <li key={c.id}>
          <p>
            <strong>{c.actions.join(", ")}</strong> on {targetName(c.target, props.channels)}
            {c.role ? <span class="muted">(role {c.role.split("/").pop()})</span> : null}
            <span class="muted">until {c.expires.slice(0, 10)}</span>
          </p>
          <ol class="chain" aria-label="Delegation chain, from the community's root">
            {c.chain.map((link, i) => (
              <li key={link.id}>
                {i === 0 ? <span>the community's root capability</span> : (
                  <span>
                    delegated by{" "}
                    <code>
                      {link.delegatedBy === props.rootDid ? "the community" : short(link.delegatedBy)}
                    </code>{" "}
                    to <code>{short(link.holder)}</code>: {link.actions.join(", ")}
                  </span>
                )}
              </li>
            ))}
          </ol>
        </li>
      ))}
    </ul>
  );
}

/** The profile page's delegation section: give some of my actions to a member or my bot, and revoke. */
export function DelegationsSection(
  props: { delegated: CapabilityView[]; mine: string[]; channels: ChannelInfo[] },
) {
  return (
    <section aria-labelledby="s-delegations">
      <h2 id="s-delegations">Delegations</h2>
      <p class="muted">
        Let another member or your bot act for you: you sign a capability with some of your own actions, on
        one channel or everywhere, until a date. You can revoke it at any time. A DID that is neither cannot
        hold one: register a bot first (<code>harmony bot register</code>); what it does counts as yours.
      </p>
      <form id="delegate-form">
        <label for="delegate-to">To (a did:key)</label>
        <input id="delegate-to" name="to" required pattern="did:key:z6Mk.+" placeholder="did:key:z6Mk…" />
        <fieldset class="actions-grid">
          <legend>Actions</legend>
          {props.mine.map((action) => (
            <label key={action} class="checkbox">
              <input type="checkbox" name="actions" value={action} /> {action}
            </label>
          ))}
        </fieldset>
        <label for="delegate-channel">Where</label>
        <select id="delegate-channel" name="channel">
          <option value="">The whole community</option>
          {props.channels.map((c) => <option key={c.id} value={c.id}>#{c.name}</option>)}
        </select>
        <label for="delegate-until">Until</label>
        <input id="delegate-until" name="until" type="date" required />
        <button type="submit">Delegate</button>
      </form>
      <ul class="settings-list">
        {props.delegated.map((c) => (
          <li key={c.id} class="row">
            <span>
              <code>{short(c.holder)}</code>: {c.actions.join(", ")} on {targetName(c.target, props.channels)}
            </span>
            <span class="muted">{c.revoked ? "revoked" : `until ${c.expires.slice(0, 10)}`}</span>
            {c.revoked
              ? null
              : <button type="button" class="danger" data-revoke-capability={c.id}>Revoke</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}
