/**
 * Conversation parts of a message (reactions, quoted reply, thread
 * summary, pin badge, actions) and the thread, thread list and pins pages.
 * Pure functions of data (server/conversation/model.ts).
 */
import type { Child } from "hono/jsx";
import type {
  MessageExtras,
  ReactionSummary,
  ReplyQuote,
  ThreadSummary,
} from "../server/conversation/model.ts";
import type { MessageView, ProfileInfo } from "../server/shared/model.ts";
import { displayName, type Viewer } from "./parts.tsx";

/** The channel id in a channel IRI (`{origin}/channels/{id}`). */
export function channelIdOf(channelIri: string): string {
  return channelIri.slice(channelIri.lastIndexOf("/") + 1);
}

/** The permalink path of a message: `/channels/{channelId}/messages/{uuid}`. */
export function permalinkOf(channelId: string, messageId: string): string {
  return `/channels/${channelId}/messages/${messageId.replace(/^urn:uuid:/, "")}`;
}

export function threadPathOf(channelId: string, rootId: string): string {
  return `/channels/${channelId}/threads/${rootId.replace(/^urn:uuid:/, "")}`;
}

export function ReplyQuoteLink(props: { quote: ReplyQuote; channelId: string; author?: ProfileInfo | null }) {
  const { quote } = props;
  if (quote.deleted || !quote.author) {
    return (
      <p class="reply-quote gone">
        ↪ <em>original message deleted</em>
      </p>
    );
  }
  return (
    <a class="reply-quote" href={permalinkOf(props.channelId, quote.id)} data-reply-to={quote.id}>
      <span aria-hidden="true">↪</span> <strong>{displayName(quote.author, props.author)}</strong>{" "}
      <span class="excerpt">{quote.excerpt}</span>
    </a>
  );
}

export function ReactionBar(props: { reactions: ReactionSummary[]; canReact: boolean }) {
  if (props.reactions.length === 0 && !props.canReact) return null;
  return (
    <div class="reactions" aria-label="Reactions">
      {props.reactions.map((r) => (
        <button
          type="button"
          class={r.mine.length ? "reaction mine" : "reaction"}
          data-action="toggle-reaction"
          data-emoji={r.emoji}
          data-ops={r.mine.join(" ")}
          data-by={r.byActor ? JSON.stringify(r.byActor) : undefined}
          aria-pressed={r.mine.length ? "true" : "false"}
          aria-label={`${r.emoji} ${r.count}`}
          disabled={!props.canReact}
        >
          <span class="emoji">{r.emoji}</span> <span class="count">{r.count}</span>
        </button>
      ))}
      {props.canReact
        ? (
          <button
            type="button"
            class="reaction add"
            data-action="react"
            aria-label="Add a reaction"
            title="React"
          >
            ☺+
          </button>
        )
        : null}
    </div>
  );
}

export function ThreadSummaryLink(props: { summary: ThreadSummary; channelId: string; rootId: string }) {
  const { summary } = props;
  return (
    <a
      class={summary.unread ? "thread-summary unread" : "thread-summary"}
      href={threadPathOf(props.channelId, props.rootId)}
    >
      {summary.replies} {summary.replies === 1 ? "reply" : "replies"}
      {summary.lastReply
        ? (
          <>
            {" · last reply "}
            <time datetime={summary.lastReply}>{summary.lastReply}</time>
          </>
        )
        : null}
      {summary.unread ? <span class="unread-dot" aria-label="unread">•</span> : null}
    </a>
  );
}

/** The conversation part of a message's body, under its text. */
export function MessageConversation(
  props: { message: MessageView; extras: MessageExtras | undefined; viewer: Viewer | null; shared?: boolean },
) {
  const { message, extras } = props;
  const channelId = channelIdOf(message.channel);
  // Shared (the live stream's one rendering for every reader): the page's script keeps what its viewer may use.
  const member = props.shared || !!props.viewer?.role;
  return (
    <>
      <ReactionBar reactions={extras?.reactions ?? []} canReact={member} />
      {extras?.thread && !message.thread
        ? <ThreadSummaryLink summary={extras.thread} channelId={channelId} rootId={message.id} />
        : null}
    </>
  );
}

/** Reply, thread, link, pin and react actions (the server checks each). */
export function ConversationActions(
  props: { message: MessageView; extras: MessageExtras | undefined; viewer: Viewer | null; shared?: boolean },
) {
  const { message, viewer } = props;
  const member = props.shared || !!viewer?.role;
  const moderator = props.shared || viewer?.role === "owner" || viewer?.role === "admin" ||
    viewer?.role === "moderator";
  const channelId = channelIdOf(message.channel);
  return (
    <>
      {member ? <button type="button" data-action="reply" aria-label="Reply">Reply</button> : null}
      {member && !message.thread
        ? (
          <a class="action-link" href={threadPathOf(channelId, message.id)} data-action-link="thread">
            Thread
          </a>
        )
        : null}
      <button type="button" data-action="copy-link" data-link={permalinkOf(channelId, message.id)}>
        Copy link
      </button>
      {moderator
        ? (
          <button type="button" data-action={props.extras?.pinned ? "unpin" : "pin"}>
            {props.extras?.pinned ? "Unpin" : "Pin"}
          </button>
        )
        : null}
    </>
  );
}

/** The emoji the picker offers (the API accepts any single emoji). */
export const PALETTE = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "🔥", "✅"];

/** The emoji picker (one per page, moved next to the message being reacted to). */
export function EmojiPicker() {
  return (
    <div id="emoji-picker" class="emoji-picker" role="dialog" aria-label="Pick a reaction" hidden>
      {PALETTE.map((emoji) => (
        <button type="button" data-pick={emoji} aria-label={`React with ${emoji}`}>{emoji}</button>
      ))}
    </div>
  );
}

/** A compact message line for lists (pins, threads). */
export function MessageLine(
  props: { message: MessageView; profiles: Map<string, ProfileInfo>; children?: Child },
) {
  const { message } = props;
  const first = message.content.split("\n").find((l) => l.trim()) ?? "";
  return (
    <li class="message-line">
      <a href={permalinkOf(channelIdOf(message.channel), message.id)}>
        <strong>{displayName(message.author, props.profiles.get(message.author))}</strong>{" "}
        <span class="excerpt">{first.length > 140 ? `${first.slice(0, 139)}…` : first}</span>
      </a>
      {props.children}
    </li>
  );
}
