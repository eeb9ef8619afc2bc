import type { MemberListing } from "../server/community/members.ts";
import type { ChannelInfo, CommunityInfo, FollowerInfo, InviteInfo, Role } from "../server/shared/model.ts";
import { Page } from "./layout.tsx";
import { type BridgesData, BridgesSection } from "./bridges.tsx";
import { type RolesData, RolesSection } from "./roles.tsx";
import { CommunityForm } from "./credentials.tsx";
import { ModerationSection } from "./moderation.tsx";
import { FilesSection } from "./files.tsx";

export interface SettingsData {
  community: CommunityInfo;
  channels: ChannelInfo[];
  invites: Array<InviteInfo & { state: string; url: string }>;
  members: readonly MemberListing[];
  viewerRole: Role;
  csrfToken: string | null;
  me: string;
  /** Fediverse followers and pending follow requests, by channel id. */
  followers: Record<string, { followers: FollowerInfo[]; pending: FollowerInfo[] }>;
  roles: RolesData;
  /** The community's did:key (the issuer of its credentials). */
  communityDid?: string | null;
  /** Bridged channels: capabilities granted to and installed from other instances. */
  bridges: Omit<BridgesData, "channels">;
  notice?: string;
}

/** A fediverse actor as people know it: @name@server. */
function handleOf(actor: string): string {
  try {
    const url = new URL(actor);
    const name = url.pathname.split("/").filter(Boolean).pop() ?? "";
    return `${name.replace(/^@/, "")}@${url.host}`;
  } catch {
    return actor;
  }
}

function FediverseFollowers(props: {
  channel: ChannelInfo;
  followers: { followers: FollowerInfo[]; pending: FollowerInfo[] } | undefined;
}) {
  const { channel } = props;
  const followers = props.followers?.followers ?? [];
  const pending = props.followers?.pending ?? [];
  if (followers.length === 0 && pending.length === 0) return null;
  return (
    <div class="fediverse-followers">
      <p class="muted">
        {followers.length} fediverse follower{followers.length === 1 ? "" : "s"}
        {pending.length ? ` · ${pending.length} waiting for approval` : ""}
      </p>
      {pending.length
        ? (
          <ul class="settings-list" aria-label={`Follow requests for #${channel.name}`}>
            {pending.map((f) => (
              <li class="row">
                <a href={f.actor} rel="noopener noreferrer nofollow" target="_blank">{handleOf(f.actor)}</a>
                <form hx-post={`/ui/channels/${channel.id}/followers/approve`} {...target} class="inline">
                  <input type="hidden" name="actor" value={f.actor} />
                  <button type="submit">Approve</button>
                </form>
                <form hx-post={`/ui/channels/${channel.id}/followers/reject`} {...target} class="inline">
                  <input type="hidden" name="actor" value={f.actor} />
                  <button type="submit" class="danger">Reject</button>
                </form>
              </li>
            ))}
          </ul>
        )
        : null}
    </div>
  );
}

const target = { "hx-target": "#settings", "hx-swap": "outerHTML" };

export function SettingsPanel(props: SettingsData) {
  const owner = props.viewerRole === "owner";
  return (
    <div id="settings" class="settings">
      {props.notice ? <p class="notice-line" role="status">{props.notice}</p> : null}
      <section aria-labelledby="s-community">
        <h2 id="s-community">Community</h2>
        <CommunityForm community={props.community} communityDid={props.communityDid ?? null} />
      </section>

      <section aria-labelledby="s-channels">
        <h2 id="s-channels">Channels</h2>
        <ol class="settings-list">
          {props.channels.map((c, i) => (
            <li>
              <form hx-post={`/ui/channels/${c.id}`} {...target} class="row">
                <label class="visually-hidden" for={`name-${c.id}`}>Name of #{c.name}</label>
                <input id={`name-${c.id}`} name="name" value={c.name} maxlength={32} required />
                <label class="visually-hidden" for={`topic-${c.id}`}>Topic of #{c.name}</label>
                <input
                  id={`topic-${c.id}`}
                  name="topic"
                  value={c.topic}
                  maxlength={1024}
                  placeholder="Topic"
                />
                <label class="visually-hidden" for={`vis-${c.id}`}>Who can read #{c.name}</label>
                <select id={`vis-${c.id}`} name="visibility">
                  <option value="public" selected={c.visibility === "public"}>Public</option>
                  <option value="members" selected={c.visibility === "members"}>Members only</option>
                </select>
                <input type="hidden" name="fediverse" value="1" />
                <label class="visually-hidden" for={`replies-${c.id}`}>
                  Replies from the fediverse in #{c.name}
                </label>
                <select id={`replies-${c.id}`} name="fediverseReplies" title="Replies from the fediverse">
                  <option value="members" selected={c.fediverseReplies === "members"}>
                    Fediverse replies: refused
                  </option>
                  <option value="open" selected={c.fediverseReplies === "open"}>
                    Fediverse replies: welcome
                  </option>
                </select>
                <label class="checkbox">
                  <input type="checkbox" name="approveFollowers" value="true" checked={c.approveFollowers} />
                  Approve fediverse followers
                </label>
                <button type="submit">Save</button>
              </form>
              <FediverseFollowers channel={c} followers={props.followers[c.id]} />
              <div class="row-actions">
                <button
                  type="button"
                  hx-post={`/ui/channels/${c.id}/move?to=${i - 1}`}
                  {...target}
                  disabled={i === 0}
                  aria-label={`Move #${c.name} up`}
                >
                  ↑
                </button>
                <button
                  type="button"
                  hx-post={`/ui/channels/${c.id}/move?to=${i + 1}`}
                  {...target}
                  disabled={i === props.channels.length - 1}
                  aria-label={`Move #${c.name} down`}
                >
                  ↓
                </button>
                <button
                  type="button"
                  class="danger"
                  hx-post={`/ui/channels/${c.id}/delete`}
                  hx-confirm={`Delete #${c.name} and all its messages?`}
                  {...target}
                >
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ol>
        <form hx-post="/ui/channels" {...target} class="row">
          <label for="new-channel">New channel</label>
          <input id="new-channel" name="name" maxlength={32} placeholder="channel-name" required />
          <select name="visibility" aria-label="Who can read it">
            <option value="public">Public</option>
            <option value="members">Members only</option>
          </select>
          <button type="submit">Create channel</button>
        </form>
      </section>

      <section aria-labelledby="s-invites">
        <h2 id="s-invites">Invites</h2>
        <form hx-post="/ui/invites" {...target} class="row">
          <label for="invite-expiry">Expires after</label>
          <select id="invite-expiry" name="expiresIn">
            <option value="1800">30 minutes</option>
            <option value="3600">1 hour</option>
            <option value="86400">1 day</option>
            <option value="604800" selected>7 days</option>
            <option value="">Never</option>
          </select>
          <label for="invite-uses">Uses</label>
          <select id="invite-uses" name="maxUses">
            <option value="1">1 use</option>
            <option value="5">5 uses</option>
            <option value="25">25 uses</option>
            <option value="100">100 uses</option>
            <option value="" selected>No limit</option>
          </select>
          <button type="submit">Create invite</button>
        </form>
        <ul class="settings-list">
          {props.invites.map((i) => (
            <li class="row">
              <input readonly value={i.url} aria-label="Invite link" class="invite-url" />
              <span class="muted">
                {i.state} · {i.uses}
                {i.maxUses !== null ? `/${i.maxUses}` : ""}{" "}
                uses{i.expires ? ` · expires ${i.expires.slice(0, 16).replace("T", " ")} UTC` : ""}
              </span>
              {i.state === "active"
                ? (
                  <button type="button" class="danger" hx-post={`/ui/invites/${i.code}/revoke`} {...target}>
                    Revoke
                  </button>
                )
                : null}
            </li>
          ))}
        </ul>
      </section>

      <RolesSection {...props.roles} />
      <ModerationSection />
      <FilesSection />

      <BridgesSection channels={props.channels} {...props.bridges} />

      {owner
        ? (
          <section aria-labelledby="s-export">
            <h2 id="s-export">Export</h2>
            <p>
              Download every quad of the community as N-Quads:{" "}
              <a href="/api/export" download>harmony-export.nq</a>
            </p>
          </section>
        )
        : null}
    </div>
  );
}

export function SettingsPage(props: SettingsData) {
  return (
    <Page
      title={`Settings · ${props.community.name}`}
      page="settings"
      csrfToken={props.csrfToken}
      me={props.me}
    >
      <main id="main" class="settings-page">
        <p>
          <a href="/">← Back to {props.community.name}</a>
        </p>
        <h1>Community settings</h1>
        <SettingsPanel {...props} />
      </main>
    </Page>
  );
}
