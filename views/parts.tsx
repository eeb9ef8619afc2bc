import { raw } from "hono/html";
import { renderMarkdown } from "../markup/markdown.ts";
import { type MentionNames, renderMentions } from "../markup/mentions.ts";
import type { MessageView, ProfileInfo, Role } from "../server/shared/model.ts";
import { Attachments } from "./files.tsx";
import type { MessageExtras } from "../server/conversation/model.ts";
import { channelIdOf, ConversationActions, MessageConversation, ReplyQuoteLink } from "./conversation.tsx";

export interface Viewer {
  did: string;
  role: Role | null;
}

/** A stable hue bucket (0-11) for a DID's initials avatar. */
export function hueOf(did: string): number {
  let hash = 0;
  for (const ch of did) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return hash % 12;
}

export function displayName(did: string, profile: ProfileInfo | null | undefined): string {
  if (profile?.name) return profile.name;
  if (profile?.remote) return profile.remote.handle;
  if (/^https?:/.test(did)) return did.replace(/^https?:\/\//, "");
  const key = did.replace(/^did:key:/, "");
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}

/** "Ada Lovelace" gives "AL", "grace" gives "GR". */
export function initialsOf(name: string): string {
  const words = name.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const letters = words.length > 1
    ? [...words[0]][0] + [...words[1]][0]
    : [...(words[0] ?? "")].slice(0, 2).join("");
  return letters.toUpperCase() || "?";
}

export function Avatar(
  props: { did: string; profile: ProfileInfo | null | undefined; size?: "small" | "large" },
) {
  const cls = `avatar ${props.size ?? ""}`.trim();
  if (props.profile?.avatarHash) {
    return (
      <img
        class={cls}
        src={`/avatars/${encodeURIComponent(props.did)}?v=${
          encodeURIComponent(props.profile.avatarHash.slice(7, 19))
        }`}
        alt=""
        width={40}
        height={40}
        loading="lazy"
      />
    );
  }
  const initials =
    displayName(props.did, props.profile).replace(/[^\p{L}\p{N}]/gu, "").slice(0, 2).toUpperCase() || "?";
  return <span class={`${cls} initials hue-${hueOf(props.did)}`} aria-hidden="true">{initials}</span>;
}

export function messageDomId(id: string): string {
  return `m-${id.replace(/^urn:uuid:/, "")}`;
}

export function MessageItem(props: {
  message: MessageView;
  author: ProfileInfo | null | undefined;
  viewer: Viewer | null;
  /** Reactions, pin, thread and reply quote (conversation, issue 5). */
  extras?: MessageExtras;
  /** Profiles, for the author of a quoted message. */
  profiles?: Map<string, ProfileInfo>;
  /** The message a permalink points at. */
  highlight?: boolean;
  /** Current names for mention tokens (markup/mentions.ts). */
  names?: MentionNames;
  /**
   * Rendered once for every reader (the live stream): both controls and the
   * source are included and the page's script keeps those its viewer may use.
   */
  shared?: boolean;
}) {
  const { message, viewer, extras } = props;
  const mine = viewer?.did === message.author;
  const moderator = viewer?.role === "admin" || viewer?.role === "owner";
  // A reply from the fediverse is changed only by its author, on their own server.
  const local = !/^https?:/.test(message.author);
  const canEdit = local && (props.shared || (mine && viewer?.role !== null));
  const canDelete = local && (props.shared || (mine && viewer?.role !== null) || moderator);
  return (
    <article
      class={`message${extras?.pinned ? " pinned" : ""}${props.highlight ? " highlighted" : ""}`}
      id={messageDomId(message.id)}
      data-thread={message.thread ?? undefined}
      data-id={message.id}
      data-author={message.author}
      data-lamport={String(message.lamport)}
      data-revision={String(message.revision)}
      data-source={canEdit ? message.content : undefined}
      data-shared={props.shared ? "1" : undefined}
      aria-label={`Message from ${displayName(message.author, props.author)}`}
    >
      <Avatar did={message.author} profile={props.author} />
      <div class="message-body">
        <header>
          {/^https?:/.test(message.author)
            ? (
              // A fediverse author: their profile is on their own server.
              <a
                class="author remote"
                href={props.author?.remote?.url ?? message.author}
                title={props.author?.remote?.handle}
                rel="noopener noreferrer nofollow ugc"
              >
                {displayName(message.author, props.author)}
              </a>
            )
            : (
              <a class="author" href={`/members/${encodeURIComponent(message.author)}`}>
                {displayName(message.author, props.author)}
              </a>
            )}
          {props.author?.bot ? <span class="bot-badge">{props.author.bot.ownerName}'s bot</span> : null}
          <time datetime={message.published}>{message.published.slice(0, 16).replace("T", " ")}</time>
          {message.updated ? <span class="edited" title={`edited ${message.updated}`}>(edited)</span> : null}
          {extras?.pinned ? <span class="pin-badge" title="pinned" aria-label="pinned">📌</span> : null}
        </header>
        {extras?.replyTo
          ? (
            <ReplyQuoteLink
              quote={extras.replyTo}
              channelId={channelIdOf(message.channel)}
              author={extras.replyTo.author ? props.profiles?.get(extras.replyTo.author) : null}
            />
          )
          : null}
        <div class="content">
          {raw(renderMentions(renderMarkdown(message.content, { localOrigin: extras?.origin }), props.names))}
        </div>
        <Attachments message={message} />
        <MessageConversation message={message} extras={extras} viewer={viewer} shared={props.shared} />
      </div>
      <div class="message-actions">
        <ConversationActions message={message} extras={extras} viewer={viewer} shared={props.shared} />
        {canEdit ? <button type="button" data-action="edit" aria-label="Edit message">Edit</button> : null}
        {canDelete
          ? <button type="button" data-action="delete" aria-label="Delete message">Delete</button>
          : null}
      </div>
    </article>
  );
}
