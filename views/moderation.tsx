/**
 * Moderation: the section of the settings page (loaded on demand, so the
 * settings page does not change), the moderators' page and the moderation
 * log every member can read. Every action form is signed in the browser
 * (static/client/moderation.ts) before it is sent.
 */
import type { Role } from "../server/shared/model.ts";
import { Page } from "./layout.tsx";

export interface ModerationSettingsView {
  rateLimit: { messages: number; seconds: number } | null;
  raidProtection: { joins: number; seconds: number } | null;
  minimumDidAge: number;
}

export interface AlertView {
  id: string;
  iri: string;
  kind: string;
  summary: string;
  at: string;
  resolved: boolean;
  resolvedBy: string | null;
}

export interface ModerationPanelData {
  community: string;
  settings: ModerationSettingsView;
  joinsLocked: { at: string; by: string } | null;
  slowMode: Array<{ id: string; name: string; seconds: number }>;
  alerts: AlertView[];
  may: {
    kick: boolean;
    ban: boolean;
    timeout: boolean;
    slowMode: boolean;
    manage: boolean;
    removeReplies: boolean;
    blockActors: boolean;
    blockServers: boolean;
  };
}

/** A blocked fediverse account (target: its actor IRI) or server (target: its origin). */
export interface RemoteBlockView {
  kind: "actor" | "server";
  target: string;
  by: string;
  at: string;
  reason: string | null;
}

/** A reply from the fediverse, as moderators see it (content is empty once removed). */
export interface FediverseReplyView {
  id: string;
  channel: { id: string; name: string };
  author: string;
  authorName: string | null;
  handle: string | null;
  content: string;
  published: string;
  removedBy: string | null;
  removedAt: string | null;
}

export interface ModerationPageProps extends ModerationPanelData {
  communityName: string;
  csrfToken: string | null;
  me: string;
  bans: Array<{ did: string; by: string; at: string; reason: string | null }> | null;
  timeouts: Array<{ did: string; until: string; by: string }> | null;
  members: Array<{ did: string; name: string; role: Role; timedOutUntil: string | null }>;
  channels: Array<{ id: string; iri: string; name: string; slowMode: number; maySlowMode: boolean }>;
  names: Record<string, string>;
  blockedActors: RemoteBlockView[] | null;
  blockedServers: RemoteBlockView[] | null;
  /** For those who may remove replies from the fediverse. */
  fediverse: { replies: FediverseReplyView[]; removed: FediverseReplyView[] } | null;
}

export interface AuditEntryView {
  seq: number;
  action: string;
  target: string;
  actor: string;
  capability: string | null;
  at: string;
  arguments: Record<string, unknown> | null;
  hash: string;
}

export interface AuditLogProps {
  communityName: string;
  csrfToken: string | null;
  me: string | null;
  entries: AuditEntryView[];
  next: number | null;
  after: number;
  head: { seq: number; hash: string } | null;
  names: Record<string, string>;
}

export interface VerificationView {
  ok: boolean;
  checked: number;
  head: { seq: number; hash: string } | null;
  failure: { seq: number; reason: string } | null;
}

/** "90" → "1 min 30 s": short durations for settings and lists. */
export function shortDuration(seconds: number): string {
  if (seconds <= 0) return "off";
  const units: Array<[string, number]> = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  const parts: string[] = [];
  let rest = seconds;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n} ${name}`);
      rest -= n * size;
    }
  }
  return parts.slice(0, 2).join(" ");
}

const when = (iso: string) => `${iso.slice(0, 16).replace("T", " ")} UTC`;

const TIMEOUTS: Array<[number, string]> = [
  [60, "1 minute"],
  [300, "5 minutes"],
  [600, "10 minutes"],
  [3600, "1 hour"],
  [86400, "1 day"],
  [604800, "1 week"],
];
const SLOW_MODES: Array<[number, string]> = [
  [0, "Off"],
  [5, "5 seconds"],
  [10, "10 seconds"],
  [30, "30 seconds"],
  [60, "1 minute"],
  [300, "5 minutes"],
  [900, "15 minutes"],
  [3600, "1 hour"],
  [21600, "6 hours"],
];
const AGES: Array<[number, string]> = [
  [0, "Off"],
  [300, "5 minutes"],
  [3600, "1 hour"],
  [86400, "1 day"],
  [604800, "1 week"],
];

/** A form the browser signs as an Action (static/client/moderation.ts) and sends to /api/moderation/actions. */
function ActionForm(
  props: {
    action: string;
    target: string;
    community: string;
    confirm?: string;
    class?: string;
    label?: string;
    children?: unknown;
  },
) {
  return (
    <form
      class={`moderation-action ${props.class ?? "inline"}`}
      data-action={props.action}
      data-target={props.target}
      data-community={props.community}
      data-confirm={props.confirm}
      aria-label={props.label}
    >
      {props.children}
    </form>
  );
}

function SettingsForm(props: { community: string; settings: ModerationSettingsView }) {
  const s = props.settings;
  return (
    <ActionForm action="moderation-settings" target={props.community} community={props.community} class="">
      <div class="row">
        <label for="mod-rate-messages">Rate limit: at most</label>
        <input
          id="mod-rate-messages"
          name="rateMessages"
          type="number"
          min={0}
          max={10000}
          value={String(s.rateLimit?.messages ?? 0)}
        />
        <label for="mod-rate-seconds">messages per member every</label>
        <input
          id="mod-rate-seconds"
          name="rateSeconds"
          type="number"
          min={1}
          max={86400}
          value={String(s.rateLimit?.seconds ?? 10)}
        />
        <span class="muted">seconds (0 messages: no limit)</span>
      </div>
      <div class="row">
        <label for="mod-raid-joins">Raid protection: lock joining after more than</label>
        <input
          id="mod-raid-joins"
          name="raidJoins"
          type="number"
          min={0}
          max={100000}
          value={String(s.raidProtection?.joins ?? 0)}
        />
        <label for="mod-raid-seconds">joins within</label>
        <input
          id="mod-raid-seconds"
          name="raidSeconds"
          type="number"
          min={10}
          max={86400}
          value={String(s.raidProtection?.seconds ?? 60)}
        />
        <span class="muted">seconds (0 joins: off)</span>
      </div>
      <div class="row">
        <label for="mod-min-age">New identities wait before joining or posting</label>
        <select id="mod-min-age" name="minimumDidAge">
          {AGES.some(([v]) =>
              v === s.minimumDidAge
            )
            ? null
            : <option value={String(s.minimumDidAge)} selected>{shortDuration(s.minimumDidAge)}</option>}
          {AGES.map(([v, label]) => (
            <option value={String(v)} selected={v === s.minimumDidAge}>{label}</option>
          ))}
        </select>
      </div>
      <button type="submit">Save moderation settings</button>
    </ActionForm>
  );
}

function Alerts(props: { alerts: AlertView[]; community: string; manage: boolean }) {
  const open = props.alerts.filter((a) => !a.resolved);
  if (open.length === 0) return <p class="muted">No open alerts.</p>;
  return (
    <ul class="settings-list" aria-label="Alerts for moderators">
      {open.map((a) => (
        <li class="row alert" role="alert">
          <strong>{a.kind === "raid" ? "Raid detected" : a.kind}</strong>
          <span>{a.summary}</span>
          <span class="muted">{when(a.at)}</span>
          {props.manage
            ? (
              <ActionForm action="dismiss-alert" target={a.iri} community={props.community}>
                <button type="submit" class="link-button">Dismiss</button>
              </ActionForm>
            )
            : null}
        </li>
      ))}
    </ul>
  );
}

function JoinLock(
  props: { joinsLocked: ModerationPanelData["joinsLocked"]; community: string; manage: boolean },
) {
  if (props.joinsLocked) {
    return (
      <div class="row">
        <strong role="status">Joining is locked</strong>
        <span class="muted">since {when(props.joinsLocked.at)}</span>
        {props.manage
          ? (
            <ActionForm action="unlock-joins" target={props.community} community={props.community}>
              <button type="submit">Unlock joining</button>
            </ActionForm>
          )
          : null}
      </div>
    );
  }
  return props.manage
    ? (
      <div class="row">
        <span>Joining is open.</span>
        <ActionForm
          action="lock-joins"
          target={props.community}
          community={props.community}
          confirm="Lock joining? Nobody can join until it is unlocked."
        >
          <button type="submit" class="danger">Lock joining now</button>
        </ActionForm>
      </div>
    )
    : <p>Joining is open.</p>;
}

/** Placed in the settings page: loads the moderation panel on demand. */
export function ModerationSection() {
  return (
    <section
      aria-labelledby="s-moderation"
      id="moderation-settings"
      hx-get="/ui/moderation/panel"
      hx-trigger="load"
      hx-swap="innerHTML"
    >
      <h2 id="s-moderation">Moderation</h2>
      <p class="muted">Loading…</p>
    </section>
  );
}

/** The moderation section's content, for admins (settings page). */
export function ModerationPanel(props: ModerationPanelData) {
  return (
    <>
      <h2 id="s-moderation">Moderation</h2>
      <p>
        <a href="/moderation">Moderate members and the fediverse</a>{" "}
        (kick, ban, time out, slow mode, fediverse replies and blocks) ·{" "}
        <a href="/moderation/log">Moderation log</a>
      </p>
      <h3>Alerts</h3>
      <Alerts alerts={props.alerts} community={props.community} manage={props.may.manage} />
      <h3>Joining</h3>
      <JoinLock joinsLocked={props.joinsLocked} community={props.community} manage={props.may.manage} />
      <p class="muted">
        Required credentials are part of the admission policy: set them under{" "}
        <a href="/settings#s-community">Community</a>.
      </p>
      {props.may.manage ? <SettingsForm community={props.community} settings={props.settings} /> : null}
      {props.slowMode.length
        ? (
          <p class="muted">
            Slow mode: {props.slowMode.map((s) => `#${s.name} ${shortDuration(s.seconds)}`).join(", ")}
          </p>
        )
        : null}
    </>
  );
}

/** Who wrote a fediverse reply: their name, else their handle, else their actor IRI. */
function authorOf(reply: FediverseReplyView): string {
  return reply.authorName ?? reply.handle ?? reply.author;
}

const excerpt = (text: string) => (text.length > 280 ? `${text.slice(0, 279)}…` : text);
const hostOf = (url: string) => URL.canParse(url) ? new URL(url).host : url;

function RemoteAuthor(props: { reply: FediverseReplyView }) {
  return (
    <a class="author remote" href={props.reply.author} rel="noopener noreferrer nofollow ugc">
      {authorOf(props.reply)}
    </a>
  );
}

/** Replies from the fediverse (remove, block their author) and removed ones (restore). */
function FediverseReplies(
  props: {
    fediverse: NonNullable<ModerationPageProps["fediverse"]>;
    community: string;
    mayBlock: boolean;
    names: Record<string, string>;
  },
) {
  const c = props.community;
  const { replies, removed } = props.fediverse;
  return (
    <>
      <h3>Recent replies</h3>
      {replies.length
        ? (
          <ul class="settings-list" aria-label="Replies from the fediverse">
            {replies.map((r) => (
              <li class="fediverse-reply">
                <RemoteAuthor reply={r} />
                <span class="muted">in #{r.channel.name} · {when(r.published)}</span>
                <span class="excerpt">{excerpt(r.content)}</span>
                <ActionForm
                  action="remove-reply"
                  target={r.id}
                  community={c}
                  label={`Remove the reply by ${authorOf(r)}`}
                >
                  <button type="submit" class="danger">Remove</button>
                </ActionForm>
                {props.mayBlock
                  ? (
                    <ActionForm
                      action="block-actor"
                      target={r.author}
                      community={c}
                      label={`Block ${authorOf(r)}`}
                      confirm={`Block ${
                        authorOf(r)
                      }? Their follows end, their replies here are removed, and nothing they send is accepted until unblocked.`}
                    >
                      <input type="hidden" name="removeReplies" value="1" />
                      <button type="submit" class="link-button">Block author</button>
                    </ActionForm>
                  )
                  : null}
              </li>
            ))}
          </ul>
        )
        : <p class="muted">No replies from the fediverse.</p>}
      {removed.length
        ? (
          <>
            <h3>Removed replies</h3>
            <ul class="settings-list" aria-label="Removed replies">
              {removed.map((r) => (
                <li class="fediverse-reply">
                  <RemoteAuthor reply={r} />
                  <span class="muted">
                    in #{r.channel.name} · removed {r.removedAt ? when(r.removedAt) : ""} by{" "}
                    {nameOf(props.names, r.removedBy ?? "")}
                  </span>
                  <ActionForm
                    action="restore-reply"
                    target={r.id}
                    community={c}
                    label={`Restore the reply by ${authorOf(r)}`}
                  >
                    <button type="submit" class="link-button">Restore</button>
                  </ActionForm>
                </li>
              ))}
            </ul>
          </>
        )
        : null}
    </>
  );
}

/** The list of blocked accounts or servers, with the form that adds one. */
function RemoteBlocks(
  props: {
    kind: "actor" | "server";
    blocks: RemoteBlockView[];
    community: string;
    names: Record<string, string>;
  },
) {
  const c = props.community;
  const actor = props.kind === "actor";
  const id = actor ? "block-account" : "block-server";
  return (
    <>
      <ActionForm
        action={actor ? "block-actor" : "block-server"}
        target=""
        community={c}
        class="row"
        label={actor ? "Block a fediverse account" : "Block a fediverse server"}
        confirm={actor
          ? "Block this account? Its follows end and nothing it sends is accepted until unblocked."
          : "Block this whole server? Its accounts' follows end and nothing from it is accepted until unblocked."}
      >
        <label for={id}>{actor ? "Block an account" : "Block a server"}</label>
        <input
          id={id}
          name="target"
          required
          placeholder={actor ? "https://mastodon.example/users/name" : "mastodon.example"}
        />
        <input name="reason" maxlength={500} placeholder="Reason (optional)" aria-label="Reason" />
        <label>
          <input type="checkbox" name="removeReplies" value="1" /> also remove {actor ? "its" : "their"}{" "}
          replies here
        </label>
        <button type="submit" class="danger">Block</button>
      </ActionForm>
      {props.blocks.length
        ? (
          <ul class="settings-list" aria-label={actor ? "Blocked accounts" : "Blocked servers"}>
            {props.blocks.map((b) => (
              <li class="row">
                <code class="excerpt">{actor ? nameOf(props.names, b.target) : hostOf(b.target)}</code>
                <span class="muted">
                  blocked {when(b.at)} by {nameOf(props.names, b.by)}
                  {b.reason ? ` · ${b.reason}` : ""}
                </span>
                <ActionForm
                  action={actor ? "unblock-actor" : "unblock-server"}
                  target={b.target}
                  community={c}
                  label={`Unblock ${actor ? nameOf(props.names, b.target) : hostOf(b.target)}`}
                >
                  <button type="submit" class="link-button">Unblock</button>
                </ActionForm>
              </li>
            ))}
          </ul>
        )
        : <p class="muted">{actor ? "No account is blocked." : "No server is blocked."}</p>}
    </>
  );
}

function nameOf(names: Record<string, string>, did: string): string {
  return names[did] ?? (did.startsWith("did:key:") ? `${did.slice(8, 16)}…${did.slice(-4)}` : did);
}

/** The moderators' page: members, bans, timeouts, slow mode, alerts and settings. */
export function ModerationPage(props: ModerationPageProps) {
  const c = props.community;
  return (
    <Page
      title={`Moderation · ${props.communityName}`}
      page="moderation"
      csrfToken={props.csrfToken}
      me={props.me}
    >
      <main id="main" class="settings-page">
        <p>
          <a href="/">← Back to {props.communityName}</a> · <a href="/moderation/log">Moderation log</a>
        </p>
        <h1>Moderation</h1>
        <p class="muted">
          Every action here is signed by your key on this device and recorded in the moderation log. You can
          only act on members you outrank.
        </p>
        <div class="settings">
          <section aria-labelledby="m-alerts">
            <h2 id="m-alerts">Alerts</h2>
            <Alerts alerts={props.alerts} community={c} manage={props.may.manage} />
            <JoinLock joinsLocked={props.joinsLocked} community={c} manage={props.may.manage} />
          </section>

          <section aria-labelledby="m-members">
            <h2 id="m-members">Members</h2>
            <ul class="settings-list">
              {props.members.map((m) => (
                <li class="row">
                  <a href={`/members/${encodeURIComponent(m.did)}`}>{m.name}</a>
                  <span class="muted">{m.role}</span>
                  {m.timedOutUntil
                    ? <span class="muted">timed out until {when(m.timedOutUntil)}</span>
                    : null}
                  {props.may.timeout
                    ? (
                      m.timedOutUntil
                        ? (
                          <ActionForm
                            action="timeout"
                            target={m.did}
                            community={c}
                            label={`Lift ${m.name}'s timeout`}
                          >
                            <input type="hidden" name="seconds" value="0" />
                            <button type="submit" class="link-button">Lift timeout</button>
                          </ActionForm>
                        )
                        : (
                          <ActionForm
                            action="timeout"
                            target={m.did}
                            community={c}
                            label={`Time ${m.name} out`}
                          >
                            <label class="visually-hidden" for={`to-${m.did}`}>Timeout for {m.name}</label>
                            <select id={`to-${m.did}`} name="seconds">
                              {TIMEOUTS.map(([v, label]) => <option key={v} value={String(v)}>{label}
                              </option>)}
                            </select>
                            <button type="submit">Time out</button>
                          </ActionForm>
                        )
                    )
                    : null}
                  {props.may.kick
                    ? (
                      <ActionForm
                        action="kick"
                        target={m.did}
                        community={c}
                        confirm={`Kick ${m.name}? They can join again.`}
                        label={`Kick ${m.name}`}
                      >
                        <button type="submit" class="danger">Kick</button>
                      </ActionForm>
                    )
                    : null}
                  {props.may.ban
                    ? (
                      <ActionForm
                        action="ban"
                        target={m.did}
                        community={c}
                        confirm={`Ban ${m.name}? They cannot join again until unbanned.`}
                        label={`Ban ${m.name}`}
                      >
                        <label class="visually-hidden" for={`ban-${m.did}`}>
                          Reason for banning {m.name}
                        </label>
                        <input
                          id={`ban-${m.did}`}
                          name="reason"
                          maxlength={500}
                          placeholder="Reason (optional)"
                        />
                        <button type="submit" class="danger">Ban</button>
                      </ActionForm>
                    )
                    : null}
                </li>
              ))}
            </ul>
          </section>

          {props.bans
            ? (
              <section aria-labelledby="m-bans">
                <h2 id="m-bans">Bans</h2>
                <ActionForm action="ban" target="" community={c} class="row" label="Ban a DID">
                  <label for="ban-did">Ban a DID</label>
                  <input
                    id="ban-did"
                    name="target"
                    required
                    placeholder="did:key:z6Mk…"
                    pattern="did:key:z[1-9A-HJ-NP-Za-km-z]+"
                  />
                  <input name="reason" maxlength={500} placeholder="Reason (optional)" aria-label="Reason" />
                  <button type="submit" class="danger">Ban</button>
                </ActionForm>
                {props.bans.length
                  ? (
                    <ul class="settings-list">
                      {props.bans.map((b) => (
                        <li class="row">
                          <code>{nameOf(props.names, b.did)}</code>
                          <span class="muted">
                            banned {when(b.at)} by {nameOf(props.names, b.by)}
                            {b.reason ? ` · ${b.reason}` : ""}
                          </span>
                          <ActionForm action="unban" target={b.did} community={c}>
                            <button type="submit" class="link-button">Unban</button>
                          </ActionForm>
                        </li>
                      ))}
                    </ul>
                  )
                  : <p class="muted">Nobody is banned.</p>}
              </section>
            )
            : null}

          {props.fediverse || props.blockedActors || props.blockedServers
            ? (
              <section aria-labelledby="m-fediverse">
                <h2 id="m-fediverse">Fediverse</h2>
                <p class="muted">
                  Replies from Mastodon and other fediverse servers, in channels open to them. A removed reply
                  is hidden and its followers are told; it can be restored. A blocked account or server can
                  neither follow nor reply, is sent nothing, and its follows end.
                </p>
                {props.fediverse
                  ? (
                    <FediverseReplies
                      fediverse={props.fediverse}
                      community={c}
                      mayBlock={props.may.blockActors}
                      names={props.names}
                    />
                  )
                  : null}
                {props.blockedActors
                  ? (
                    <>
                      <h3>Blocked accounts</h3>
                      <RemoteBlocks
                        kind="actor"
                        blocks={props.blockedActors}
                        community={c}
                        names={props.names}
                      />
                    </>
                  )
                  : null}
                {props.blockedServers
                  ? (
                    <>
                      <h3>Blocked servers</h3>
                      <RemoteBlocks
                        kind="server"
                        blocks={props.blockedServers}
                        community={c}
                        names={props.names}
                      />
                    </>
                  )
                  : null}
              </section>
            )
            : null}

          {props.may.slowMode
            ? (
              <section aria-labelledby="m-slow">
                <h2 id="m-slow">Slow mode</h2>
                <p class="muted">
                  Time a member must wait between two posts in the channel. Moderators are exempt.
                </p>
                <ul class="settings-list">
                  {props.channels.filter((ch) => ch.maySlowMode).map((ch) => (
                    <li class="row">
                      <ActionForm action="slow-mode" target={ch.iri} community={c} class="row">
                        <label for={`slow-${ch.id}`}>#{ch.name}</label>
                        <select id={`slow-${ch.id}`} name="seconds">
                          {SLOW_MODES.some(([v]) => v === ch.slowMode)
                            ? null
                            : (
                              <option value={String(ch.slowMode)} selected>
                                {shortDuration(ch.slowMode)}
                              </option>
                            )}
                          {SLOW_MODES.map(([v, label]) => (
                            <option value={String(v)} selected={v === ch.slowMode}>{label}</option>
                          ))}
                        </select>
                        <button type="submit">Set</button>
                      </ActionForm>
                    </li>
                  ))}
                </ul>
              </section>
            )
            : null}

          {props.may.manage
            ? (
              <section aria-labelledby="m-settings">
                <h2 id="m-settings">Limits</h2>
                <SettingsForm community={c} settings={props.settings} />
                <p class="muted">
                  Required credentials are part of the admission policy: see{" "}
                  <a href="/settings#s-community">Community settings</a>.
                </p>
              </section>
            )
            : null}
        </div>
      </main>
    </Page>
  );
}

function describe(entry: AuditEntryView, names: Record<string, string>): string {
  const args = entry.arguments ?? {};
  const target = nameOf(names, entry.target);
  const seconds = typeof args.seconds === "number" ? args.seconds : 0;
  switch (entry.action) {
    case "kick":
      return `kicked ${target}`;
    case "ban":
      return `banned ${target}`;
    case "unban":
      return `unbanned ${target}`;
    case "timeout":
      return seconds ? `timed ${target} out for ${shortDuration(seconds)}` : `lifted ${target}'s timeout`;
    case "slow-mode":
      return `set slow mode of ${target} to ${shortDuration(seconds)}`;
    case "delete-message":
      return `deleted a message by ${nameOf(names, String(args.author ?? "someone"))}`;
    case "role-assign":
      return `gave ${target} the ${String(args.role ?? "")} role`;
    case "role-remove":
      return `took the ${String(args.role ?? "")} role from ${target}`;
    case "role-create":
      return `created the role ${String(args.name ?? target)}`;
    case "role-update":
      return `changed the role ${target.split("/").pop()}`;
    case "role-delete":
      return `deleted the role ${target.split("/").pop()}`;
    case "capability-revoke":
      return `revoked capability ${target}`;
    case "transfer-ownership":
      return `handed the community over to ${target}`;
    case "moderation-settings":
      return `changed moderation settings`;
    case "lock-joins":
      return "locked joining";
    case "unlock-joins":
      return "unlocked joining";
    case "dismiss-alert":
      return "dismissed an alert";
    case "remove-reply":
      return `removed a fediverse reply from ${hostOf(entry.target)}`;
    case "restore-reply":
      return `restored a fediverse reply from ${hostOf(entry.target)}`;
    case "block-actor":
      return `blocked the fediverse account ${target}${args.removeReplies ? " and removed its replies" : ""}`;
    case "unblock-actor":
      return `unblocked the fediverse account ${target}`;
    case "block-server":
      return `blocked the fediverse server ${hostOf(entry.target)}${
        args.removeReplies ? " and removed its replies" : ""
      }`;
    case "unblock-server":
      return `unblocked the fediverse server ${hostOf(entry.target)}`;
    default:
      return `${entry.action} ${target}`;
  }
}

/** The moderation log: every moderation and role action, hash-chained and signed. */
export function AuditLogPage(props: AuditLogProps) {
  return (
    <Page
      title={`Moderation log · ${props.communityName}`}
      page="audit"
      csrfToken={props.csrfToken}
      me={props.me}
    >
      <main id="main" class="settings-page">
        <p>
          <a href="/">← Back to {props.communityName}</a>
        </p>
        <h1>Moderation log</h1>
        <p class="muted">
          Every moderation and role action, in order. Each entry carries the hash of the one before it and the
          acting member's signature, so altering or removing an entry is detectable: anyone can check the
          whole chain here or with <code>harmony audit verify</code>.
        </p>
        <div class="row">
          <button type="button" hx-get="/ui/audit/verify" hx-target="#audit-verification" hx-swap="innerHTML">
            Verify the whole log
          </button>
          {props.head
            ? <span class="muted">head: #{props.head.seq} {props.head.hash.slice(0, 16)}…</span>
            : null}
        </div>
        <div id="audit-verification" aria-live="polite"></div>
        {props.entries.length
          ? (
            <ol class="settings-list audit-log" start={props.entries[0].seq}>
              {props.entries.map((e) => (
                <li id={`entry-${e.seq}`}>
                  <span class="muted">#{e.seq}</span>
                  <span class="muted">{when(e.at)}</span>
                  <strong>{nameOf(props.names, e.actor)}</strong>
                  <span>{describe(e, props.names)}</span>
                  {typeof e.arguments?.reason === "string" && e.arguments.reason
                    ? <span class="muted">“{e.arguments.reason}”</span>
                    : null}
                  <span class="muted" title={`hash ${e.hash}; capability ${e.capability ?? "none"}`}>
                    signed
                  </span>
                </li>
              ))}
            </ol>
          )
          : <p class="muted">Nothing has been logged yet.</p>}
        <p>
          {props.after > 0 ? <a href="/moderation/log">First entries</a> : null}
          {props.next !== null
            ? (
              <>
                {" "}
                <a href={`/moderation/log?after=${props.next}`}>Later entries →</a>
              </>
            )
            : null}
        </p>
      </main>
    </Page>
  );
}

export function AuditVerification(props: VerificationView) {
  if (props.ok) {
    return (
      <p class="notice-line" role="status">
        The log verifies: {props.checked}{" "}
        entr{props.checked === 1 ? "y" : "ies"}, chain intact, every signature valid .
        {props.head ? ` Head: #${props.head.seq} ${props.head.hash}` : ""}
      </p>
    );
  }
  return (
    <p class="toast error" role="alert">
      Verification failed at entry #{props.failure!.seq}: {props.failure!.reason}
    </p>
  );
}
