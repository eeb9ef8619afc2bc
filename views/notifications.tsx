/** The notification bell, its list of mentions, and unread badges (server/attention). */
import { raw } from "hono/html";
import type { Notification } from "../server/attention/reads.ts";
import type { ProfileInfo } from "../server/shared/model.ts";
import { Page } from "./layout.tsx";
import { renderMarkdown } from "../markup/markdown.ts";
import { type MentionNames, renderMentions } from "../markup/mentions.ts";
import { displayName } from "./parts.tsx";

/** What a page shows of the member's attention state. */
export interface PageAttention {
  /** Unread messages and mentions by channel id. */
  channels: Record<string, { messages: number; mentions: number }>;
  /** Unread mentions in all (the bell). */
  mentions: number;
  /** Role IRIs whose mentions concern the viewer (the script highlights them). */
  roles: string[];
}

export const countLabel = (n: number) => (n >= 100 ? "99+" : String(n));

/** The badges after a channel's name in the sidebar. */
export function UnreadBadges(props: { channelId: string; unread?: { messages: number; mentions: number } }) {
  const { messages = 0, mentions = 0 } = props.unread ?? {};
  return (
    <>
      <span
        class="unread-count"
        data-unread-channel={props.channelId}
        data-count={String(messages)}
        hidden={messages === 0}
        aria-label={`${messages} unread`}
      >
        {countLabel(messages)}
      </span>
      <span
        class="mention-count"
        data-mention-channel={props.channelId}
        data-count={String(mentions)}
        hidden={mentions === 0}
        aria-label={`${mentions} mentions`}
      >
        @{countLabel(mentions)}
      </span>
    </>
  );
}

export function BellCount(props: { count: number; oob?: boolean }) {
  return (
    <span
      id="bell-count"
      class="bell-count"
      data-count={String(props.count)}
      hidden={props.count === 0}
      hx-swap-oob={props.oob ? "true" : undefined}
    >
      {countLabel(props.count)}
    </span>
  );
}

/** The bell in the sidebar header: a button that opens the list of mentions. */
export function Bell(props: { attention: PageAttention }) {
  return (
    <div class="bell" id="bell" data-roles={JSON.stringify(props.attention.roles)}>
      <button
        type="button"
        class="icon-link bell-button"
        id="bell-button"
        aria-label="Notifications"
        title="Notifications"
        aria-controls="notifications-panel"
        hx-get="/ui/notifications"
        hx-target="#notifications-panel"
        hx-swap="innerHTML"
      >
        <span class="icon icon-bell" aria-hidden="true"></span>
        <BellCount count={props.attention.mentions} />
      </button>
      <div id="notifications-panel" class="notifications-panel" role="region" aria-label="Mentions"></div>
    </div>
  );
}

/** The list of mentions (the bell's dropdown and the /notifications page). */
export function NotificationList(props: {
  notifications: Notification[];
  unread: number;
  profiles: Map<string, ProfileInfo>;
  names: MentionNames;
  oob?: boolean;
}) {
  return (
    <div class="notification-list">
      <header>
        <h2>Mentions</h2>
        {props.unread > 0
          ? (
            <button
              type="button"
              hx-post="/ui/notifications/read-all"
              hx-target="closest .notification-list"
              hx-swap="outerHTML"
            >
              Mark all read
            </button>
          )
          : null}
      </header>
      {props.notifications.length === 0 ? <p class="muted">Nobody has mentioned you yet.</p> : null}
      <ul>
        {props.notifications.map((n) => (
          <li class={n.unread ? "notification unread" : "notification"} data-message={n.message}>
            <a href={n.permalink} class="notification-link" data-mention-message={n.message}>
              <strong>{displayName(n.author, props.profiles.get(n.author))}</strong> in #{n.channelName}
              <span class="excerpt">
                {raw(renderMentions(renderMarkdown(n.content.slice(0, 200)), props.names))}
              </span>
            </a>
            {n.unread
              ? (
                <button
                  type="button"
                  class="link-button"
                  hx-post={`/ui/notifications/read?message=${encodeURIComponent(n.message)}`}
                  hx-target="closest .notification-list"
                  hx-swap="outerHTML"
                  aria-label="Mark read"
                >
                  Mark read
                </button>
              )
              : null}
          </li>
        ))}
      </ul>
      {props.oob ? <BellCount count={props.unread} oob /> : null}
    </div>
  );
}

export function NotificationsPage(props: {
  notifications: Notification[];
  unread: number;
  profiles: Map<string, ProfileInfo>;
  names: MentionNames;
  csrfToken: string | null;
  me: string;
}) {
  return (
    <Page title="Mentions" csrfToken={props.csrfToken} me={props.me} page="notifications">
      <main id="main" class="notice">
        <div class="card">
          <p>
            <a href="/">← Back to the channels</a>
          </p>
          <NotificationList {...props} />
        </div>
      </main>
    </Page>
  );
}
