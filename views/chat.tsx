import { raw } from "hono/html";
import type { MemberListing } from "../server/community/members.ts";
import type { BotListing } from "../server/community/bots.ts";
import type { ChannelInfo, CommunityInfo, MessageView, ProfileInfo } from "../server/shared/model.ts";
import { Page } from "./layout.tsx";
import { Avatar, displayName, MessageItem, type Viewer } from "./parts.tsx";
import { JoinByCredential } from "./credentials.tsx";
import type { ExtrasMap } from "../server/conversation/model.ts";
import { EmojiPicker, threadPathOf } from "./conversation.tsx";
import { SearchBox } from "./search.tsx";
import type { MentionNames } from "../markup/mentions.ts";
import { Bell, type PageAttention, UnreadBadges } from "./notifications.tsx";

export interface ChatData {
  community: CommunityInfo;
  channels: ChannelInfo[];
  channel: ChannelInfo;
  messages: MessageView[];
  olderCursor: string | null;
  revision: number;
  profiles: Map<string, ProfileInfo>;
  /** Shown to members only; others see the count. */
  members: readonly MemberListing[] | null;
  /** Members' registered bots, listed under the members (members only). */
  bots?: readonly BotListing[] | null;
  memberCount: number;
  viewer: Viewer | null;
  csrfToken: string | null;
  /** Conversation (issue 5): reactions, pins, threads and quotes of the messages shown. */
  extras?: ExtrasMap;
  /** A permalink: the message to highlight and scroll to, and whether newer messages were left out. */
  highlight?: string | null;
  hasNewer?: boolean;
  /** A thread page: its root (the messages are its replies). */
  thread?: MessageView | null;
  /** Current names for mention tokens. */
  names?: MentionNames;
  /** Unread counts and the bell (signed-in members). */
  attention?: PageAttention | null;
  /** Presence by DID (members not listed are offline). */
  presence?: Record<string, string>;
}

export function ChannelList(
  props: { channels: ChannelInfo[]; current: string | null; attention?: PageAttention | null },
) {
  return (
    <ul class="channel-list">
      {props.channels.map((c) => (
        <li>
          <a href={`/channels/${c.id}`} aria-current={c.id === props.current ? "page" : undefined}>
            <span class="hash" aria-hidden="true">#</span>
            {c.name}
            {c.visibility === "members"
              ? <span class="lock" title="members only" aria-label="members only">🔒</span>
              : null}
            {props.attention
              ? <UnreadBadges channelId={c.id} unread={props.attention.channels[c.id]} />
              : null}
          </a>
        </li>
      ))}
    </ul>
  );
}

export function Sidebar(props: {
  community: CommunityInfo;
  channels: ChannelInfo[];
  current: string | null;
  viewer: Viewer | null;
  profile: ProfileInfo | null | undefined;
  attention?: PageAttention | null;
}) {
  const admin = props.viewer?.role === "admin" || props.viewer?.role === "owner";
  return (
    <nav class="sidebar" id="channels" aria-label="Channels">
      <header class="community-header">
        <h1>{props.community.name}</h1>
        {admin
          ? (
            <a class="icon-link" href="/settings" aria-label="Community settings" title="Community settings">
              ⚙
            </a>
          )
          : null}
        {props.viewer?.role
          ? (
            <a
              class="icon-link"
              href={props.viewer.role === "member" ? "/moderation/log" : "/moderation"}
              aria-label="Moderation"
              title="Moderation"
            >
              ⚖
            </a>
          )
          : null}
        {props.viewer?.role
          ? (
            <a class="icon-link" href="/dms" aria-label="Direct messages" title="Direct messages">
              ✉
            </a>
          )
          : null}
        {props.attention ? <Bell attention={props.attention} /> : null}
      </header>
      <ChannelList channels={props.channels} current={props.current} attention={props.attention} />
      <div class="user-panel">
        {props.viewer
          ? (
            <>
              <Avatar did={props.viewer.did} profile={props.profile} size="small" />
              <div class="user-name">
                <a href="/profile" title="Edit your profile">
                  {displayName(props.viewer.did, props.profile)}
                </a>
                <small>{props.viewer.role ?? "not a member"}</small>
              </div>
              <form hx-post="/ui/signout" class="inline">
                <button type="submit" class="link-button">Sign out</button>
              </form>
            </>
          )
          : <a class="button" href="/identity">Sign in</a>}
      </div>
    </nav>
  );
}

/** Stands in for a member's presence while their row is rendered once and kept. */
const PRESENCE = "\u0001";

/**
 * Each member's row, rendered once per listing entry and kept: the entries
 * are shared by every page while the community's members and profiles are
 * unchanged (server/community/members.ts), and only the presence differs per page.
 */
const memberRows = new WeakMap<MemberListing, string[]>();

function memberRow(m: MemberListing): string[] {
  let parts = memberRows.get(m);
  if (!parts) {
    const html = String(
      <li>
        <a href={`/members/${encodeURIComponent(m.did)}`}>
          <Avatar did={m.did} profile={m.profile} size="small" />
          <span class="presence-dot" data-presence={m.did} data-status={PRESENCE} title={PRESENCE}></span>
          <span>{m.name}</span>
        </a>
      </li>,
    );
    parts = html.split(PRESENCE);
    memberRows.set(m, parts);
  }
  return parts;
}

const PRESENCE_STATES = new Set(["online", "idle", "offline"]);

/** What the avatar of a bot needs: its name (for the initials), no image. */
const botProfile = (bot: BotListing): ProfileInfo => ({
  did: bot.did,
  name: bot.name,
  avatarType: null,
  avatarHash: null,
  updated: bot.registered,
});

export function MemberList(
  props: {
    members: readonly MemberListing[] | null;
    bots?: readonly BotListing[] | null;
    count: number;
    presence?: Record<string, string>;
  },
) {
  if (!props.members) {
    return (
      <aside class="members" id="members" aria-label="Members">
        <h2>Members — {props.count}</h2>
        <p class="muted">Join to see who is here.</p>
      </aside>
    );
  }
  const groups: Array<[string, MemberListing[]]> = [
    ["Owner", props.members.filter((m) => m.role === "owner")],
    ["Admins", props.members.filter((m) => m.role === "admin")],
    ["Moderators", props.members.filter((m) => m.role === "moderator")],
    ["Members", props.members.filter((m) => m.role === "member")],
  ];
  const bots = props.bots ?? [];
  const statusOf = (did: string) => {
    const status = props.presence?.[did] ?? "offline";
    return PRESENCE_STATES.has(status) ? status : "offline";
  };
  return (
    <aside class="members" id="members" aria-label="Members">
      {groups.filter(([, list]) => list.length > 0).map(([title, list]) => (
        <section>
          <h2>{title} — {list.length}</h2>
          <ul>
            {raw(list.map((m) => memberRow(m).join(statusOf(m.did))).join(""))}
          </ul>
        </section>
      ))}
      {bots.length > 0
        ? (
          <section>
            <h2>Bots — {bots.length}</h2>
            <ul>
              {bots.map((bot) => (
                <li>
                  <a href={`/members/${encodeURIComponent(bot.did)}`}>
                    <Avatar did={bot.did} profile={botProfile(bot)} size="small" />
                    <span class="bot-row">
                      <span>{bot.name}</span>
                      <span class="bot-badge">{bot.ownerName}'s bot</span>
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          </section>
        )
        : null}
    </aside>
  );
}

/** Older messages plus the trigger that loads the page before them. */
export function OlderMessages(props: {
  channelId: string;
  messages: MessageView[];
  cursor: string | null;
  profiles: Map<string, ProfileInfo>;
  viewer: Viewer | null;
  extras?: ExtrasMap;
  highlight?: string | null;
  /** In a thread: no paging, no "beginning of the channel". */
  inThread?: boolean;
  names?: MentionNames;
}) {
  return (
    <>
      {props.inThread ? null : props.cursor
        ? (
          <button
            type="button"
            class="load-older"
            hx-get={`/channels/${props.channelId}/older?before=${encodeURIComponent(props.cursor)}`}
            hx-trigger="click, intersect once"
            hx-swap="outerHTML"
          >
            Load older messages
          </button>
        )
        : <p class="channel-start">This is the beginning of the channel.</p>}
      {props.messages.map((m) => (
        <MessageItem
          message={m}
          author={props.profiles.get(m.author)}
          viewer={props.viewer}
          extras={props.extras?.get(m.id)}
          profiles={props.profiles}
          highlight={props.highlight === m.id}
          names={props.names}
        />
      ))}
    </>
  );
}

function Composer(
  props: {
    channel: ChannelInfo;
    viewer: Viewer | null;
    community: CommunityInfo;
    thread?: MessageView | null;
  },
) {
  const { channel, viewer } = props;
  if (!viewer) {
    return (
      <p class="composer-note">
        You are reading #{channel.name}. <a href={`/identity?return=/channels/${channel.id}`}>Sign in</a>{" "}
        to chat.
      </p>
    );
  }
  if (!viewer.role) {
    return (
      <div class="composer-note">
        {props.community.openJoin
          ? (
            <form hx-post="/ui/join" class="inline">
              You are not a member yet. <button type="submit">Join {props.community.name}</button>
            </form>
          )
          : props.community.admission.policy === "credential"
          ? <JoinByCredential community={props.community} />
          : <p>This community is invite only. Ask a member for an invite link to join.</p>}
      </div>
    );
  }
  return (
    <form
      id="composer"
      class="composer"
      data-channel-id={channel.id}
      data-channel-iri={channel.iri}
      data-thread={props.thread?.id}
    >
      <p class="replying-to" id="replying-to" hidden>
        Replying to <strong class="replying-author"></strong> <span class="replying-excerpt"></span>{" "}
        <button type="button" class="link-button" data-action="cancel-reply" aria-label="Cancel reply">
          Cancel
        </button>
      </p>
      <label for="composer-input" class="visually-hidden">Message #{channel.name}</label>
      <textarea
        id="composer-input"
        name="content"
        rows={1}
        maxlength={4000}
        placeholder={props.thread ? "Reply in thread" : `Message #${channel.name}`}
        autocomplete="off"
      >
      </textarea>
      {/* Files upload when chosen (static/client/upload.ts) and go with the next message. */}
      <label class="attach-button" title="Attach files">
        <span class="icon icon-attach" aria-hidden="true"></span>
        <span class="visually-hidden">Attach files</span>
        <input type="file" id="composer-files" multiple class="visually-hidden" />
      </label>
      <button type="submit">Send</button>
      <ul class="pending-files" id="pending-files" aria-label="Files to send" aria-live="polite"></ul>
      <p class="composer-error" id="composer-error" role="alert"></p>
    </form>
  );
}

export function ChatPage(props: ChatData) {
  const { channel, viewer } = props;
  const me = viewer ? props.profiles.get(viewer.did) : null;
  return (
    <Page
      title={`#${channel.name} · ${props.community.name}`}
      csrfToken={props.csrfToken}
      me={viewer?.did}
      page="chat"
    >
      <div class="app-shell">
        <Sidebar
          community={props.community}
          channels={props.channels}
          current={channel.id}
          viewer={viewer}
          profile={me}
          attention={props.attention}
        />
        <main
          id="main"
          class="chat"
          data-channel-id={channel.id}
          data-channel-iri={channel.iri}
          data-revision={String(props.revision)}
          data-thread-root={props.thread?.id}
          data-highlight={props.highlight ?? undefined}
          data-viewer-role={viewer?.role ?? ""}
        >
          <header class="channel-header">
            <button
              type="button"
              class="toggle"
              data-toggle="channels"
              aria-controls="channels"
              aria-label="Show channels"
            >
              ☰
            </button>
            <h2 title={`#${channel.name}`}>
              <span class="hash" aria-hidden="true">#</span>
              {channel.name}
            </h2>
            {props.thread
              ? (
                <p class="topic">
                  Thread · <a href={`/channels/${channel.id}`}>back to #{channel.name}</a>
                </p>
              )
              : channel.topic
              ? <p class="topic">{channel.topic}</p>
              : null}
            <nav class="channel-links" aria-label="Channel views">
              <a href={`/channels/${channel.id}/threads`}>Threads</a>
              <a href={`/channels/${channel.id}/pins`}>Pins</a>
            </nav>
            <SearchBox />
            {/* On a phone the box gives way to a link to the search page. */}
            <a class="search-link" href="/search" aria-label="Search messages">
              <span class="icon icon-search" aria-hidden="true"></span>
            </a>
            <button
              type="button"
              class="toggle"
              data-toggle="members"
              aria-controls="members"
              aria-label="Show members"
            >
              Members
            </button>
          </header>
          <section class="messages" id="messages" aria-label={`Messages in #${channel.name}`} tabindex={0}>
            {props.thread
              ? (
                <MessageItem
                  message={props.thread}
                  author={props.profiles.get(props.thread.author)}
                  viewer={viewer}
                  extras={props.extras?.get(props.thread.id)}
                  profiles={props.profiles}
                  names={props.names}
                />
              )
              : null}
            {props.thread
              ? (
                <p class="thread-start">
                  <a href={threadPathOf(channel.id, props.thread.id)}>Thread</a>{" "}
                  · replies stay in this thread.
                </p>
              )
              : null}
            <OlderMessages
              channelId={channel.id}
              messages={props.messages}
              cursor={props.thread ? null : props.olderCursor}
              profiles={props.profiles}
              viewer={viewer}
              extras={props.extras}
              highlight={props.highlight}
              inThread={!!props.thread}
              names={props.names}
            />
            {props.hasNewer
              ? <a class="jump-present" href={`/channels/${channel.id}`}>Jump to the newest messages</a>
              : null}
          </section>
          <p class="typing" id="typing" aria-live="polite"></p>
          <Composer channel={channel} viewer={viewer} community={props.community} thread={props.thread} />
          <EmojiPicker />
        </main>
        <MemberList
          members={props.members}
          bots={props.bots}
          count={props.memberCount}
          presence={props.presence}
        />
      </div>
    </Page>
  );
}
