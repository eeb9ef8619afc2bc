/** The thread list and the pinned messages of a channel (server/conversation/routes.tsx). */
import type { PinnedMessage, ThreadListing } from "../server/conversation/conversation.ts";
import type { ChannelInfo, ProfileInfo } from "../server/shared/model.ts";
import { MessageLine, threadPathOf } from "./conversation.tsx";
import { Page } from "./layout.tsx";
import { displayName } from "./parts.tsx";

interface ListPageProps {
  channel: ChannelInfo;
  profiles: Map<string, ProfileInfo>;
  me: string | null;
  csrfToken: string | null;
}

export function ThreadsPage(props: ListPageProps & { threads: ThreadListing[] }) {
  const { channel } = props;
  return (
    <Page title={`Threads · #${channel.name}`} csrfToken={props.csrfToken} me={props.me} page="threads">
      <main id="main" class="notice list-page">
        <div class="card">
          <h1>Threads in #{channel.name}</h1>
          <p>
            <a href={`/channels/${channel.id}`}>Back to #{channel.name}</a>
          </p>
          {props.threads.length === 0 ? <p class="muted">No threads yet.</p> : (
            <ul class="thread-list">
              {props.threads.map(({ root, summary }) => (
                <li class={summary.unread ? "thread-item unread" : "thread-item"} data-root={root.id}>
                  <a href={threadPathOf(channel.id, root.id)}>
                    <strong>{displayName(root.author, props.profiles.get(root.author))}</strong>{" "}
                    <span class="excerpt">
                      {(root.content.split("\n").find((l) =>
                        l.trim()
                      ) ?? "").slice(0, 140)}
                    </span>
                  </a>
                  <span class="thread-meta">
                    {summary.replies} {summary.replies === 1 ? "reply" : "replies"}
                    {summary.lastReply
                      ? (
                        <>
                          {" · last activity "}
                          <time datetime={summary.lastReply}>{summary.lastReply}</time>
                        </>
                      )
                      : null}
                    {summary.unread ? <span class="unread-badge">unread</span> : null}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      </main>
    </Page>
  );
}

export function PinsPage(props: ListPageProps & { pins: PinnedMessage[] }) {
  const { channel } = props;
  return (
    <Page title={`Pinned · #${channel.name}`} csrfToken={props.csrfToken} me={props.me} page="pins">
      <main id="main" class="notice list-page">
        <div class="card">
          <h1>Pinned in #{channel.name}</h1>
          <p>
            <a href={`/channels/${channel.id}`}>Back to #{channel.name}</a>
          </p>
          {props.pins.length === 0 ? <p class="muted">Nothing is pinned.</p> : (
            <ul class="pin-list">
              {props.pins.map((p) => (
                <MessageLine message={p.message} profiles={props.profiles}>
                  <small class="muted">
                    pinned by {displayName(p.pinnedBy, props.profiles.get(p.pinnedBy))}
                  </small>
                </MessageLine>
              ))}
            </ul>
          )}
        </div>
      </main>
    </Page>
  );
}
