import type { ChannelInfo } from "../server/shared/model.ts";

/** What the bridges section shows (plain data; see server/replication/bridges.ts). */
export interface BridgesData {
  channels: ChannelInfo[];
  grants: Array<
    { id: string; channel: string; grantee: string; actions: string[]; expires: string; revoked: boolean }
  >;
  links: Array<{ id: string; channel: string; peerInbox: string; actions: string[]; expires: string }>;
  /** The capability just offered, to copy to the peer's admin. */
  offered?: { id: string; json: string } | null;
  /** The most recent operations peers sent that were refused (server/replication/refusals.ts). */
  refusals?: Array<
    {
      peer: string;
      channel: string;
      via: string;
      kind: string;
      code: string;
      reason: string;
      last: string;
      count: number;
    }
  >;
}

const target = { "hx-target": "#settings", "hx-swap": "outerHTML" };

function channelName(channels: ChannelInfo[], iri: string): string {
  const channel = channels.find((c) => c.iri === iri);
  return channel ? `#${channel.name}` : iri;
}

function state(expires: string, revoked = false): string {
  if (revoked) return "revoked";
  return Date.parse(expires) <= Date.now() ? "expired" : `until ${expires.slice(0, 10)}`;
}

export function BridgesSection(props: BridgesData) {
  return (
    <section aria-labelledby="s-bridges">
      <h2 id="s-bridges">Bridges</h2>
      <p class="muted">
        A bridge shares a channel with a channel on another Harmony instance. Each side grants the other a
        capability for exactly one channel; paste the capability the other admin sends you under “Install”.
      </p>
      <form hx-post="/ui/bridges/offer" {...target} class="row">
        <label for="offer-channel">Offer</label>
        <select id="offer-channel" name="channel">
          {props.channels.map((c) => <option key={c.id} value={c.id}>#{c.name}</option>)}
        </select>
        <label for="offer-to" class="visually-hidden">The peer's channel actor URL</label>
        <input id="offer-to" name="to" type="url" required placeholder="https://peer.example/ap/actors/…" />
        <label for="offer-expiry" class="visually-hidden">Expires after</label>
        <select id="offer-expiry" name="expiresIn">
          <option value="604800">7 days</option>
          <option value="2592000">30 days</option>
          <option value="7776000" selected>90 days</option>
          <option value="31536000">1 year</option>
        </select>
        <button type="submit">Create capability</button>
      </form>
      {props.offered
        ? (
          <div>
            <label for="offered-json">Send this capability to the peer's admin</label>
            <textarea id="offered-json" readonly rows={8} class="capability-json">
              {props.offered.json}
            </textarea>
          </div>
        )
        : null}
      <form hx-post="/ui/bridges/install" {...target}>
        <label for="install-json">Install a capability a peer granted us</label>
        <textarea
          id="install-json"
          name="capability"
          rows={4}
          required
          placeholder='{"@context": "https://w3id.org/zcap/v1", …}'
        >
        </textarea>
        <button type="submit">Install</button>
      </form>
      <ul class="settings-list">
        {props.grants.map((g) => (
          <li key={g.id} class="row">
            <span>
              Granted {channelName(props.channels, g.channel)} to <code>{g.grantee}</code>
            </span>
            <span class="muted">{g.actions.join(", ")} · {state(g.expires, g.revoked)}</span>
            {g.revoked ? null : (
              <button
                type="button"
                class="danger"
                hx-post={`/ui/bridges/revoke?id=${encodeURIComponent(g.id)}`}
                {...target}
              >
                Revoke
              </button>
            )}
          </li>
        ))}
        {props.links.map((l) => (
          <li key={l.id} class="row">
            <span>
              {channelName(props.channels, l.channel)} delivers to <code>{l.peerInbox}</code>
            </span>
            <span class="muted">{l.actions.join(", ")} · {state(l.expires)}</span>
            <button
              type="button"
              class="danger"
              hx-post={`/ui/bridges/revoke?id=${encodeURIComponent(l.id)}`}
              {...target}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      {props.refusals?.length
        ? (
          <div>
            <h3 id="s-bridge-refusals">Refused operations</h3>
            <p class="muted">
              What peers sent that this instance refused, most recent first (all of them:{" "}
              <code>harmony bridge refusals</code>).
            </p>
            <ul class="settings-list" aria-labelledby="s-bridge-refusals">
              {props.refusals.map((r) => (
                <li key={`${r.peer} ${r.last} ${r.code}`} class="row">
                  <span>
                    {r.kind} from <code>{r.peer}</code> in {channelName(props.channels, r.channel)}:{" "}
                    {r.reason}
                  </span>
                  <span class="muted">
                    {r.code} · {r.via === "sync" ? "in a Sync answer" : "delivered"} · {r.last.slice(0, 16)}
                    {r.count > 1 ? ` · ${r.count} times` : ""}
                  </span>
                </li>
              ))}
            </ul>
          </div>
        )
        : null}
    </section>
  );
}
