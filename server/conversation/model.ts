/** Plain data the conversation features add to a message as it is shown (views/conversation.tsx). */

export interface ReactionSummary {
  emoji: string;
  /** Distinct members who reacted with it. */
  count: number;
  /** The viewer's own React operation ids with this emoji (what an Unreact names); empty if none. */
  mine: string[];
  /**
   * Every reactor's React operation ids, by DID: only in the live stream's
   * shared rendering, where the page's script picks out its viewer's own.
   */
  byActor?: Record<string, string[]>;
}

export interface ThreadSummary {
  replies: number;
  lastReply: string | null;
  lastLamport: number;
  /** Set for a signed-in member: replies came after they last read the thread. */
  unread?: boolean;
}

/** The quoted original of a reply: author and first line, or gone. */
export interface ReplyQuote {
  id: string;
  channel: string;
  author: string | null;
  excerpt: string;
  deleted: boolean;
}

export interface MessageExtras {
  reactions: ReactionSummary[];
  pinned: boolean;
  thread: ThreadSummary | null;
  replyTo: ReplyQuote | null;
  /** This instance's origin: its permalinks in the text link to the message (markup/markdown.ts). */
  origin?: string;
}

/** Extras for a set of messages, by message id. */
export type ExtrasMap = Map<string, MessageExtras>;

/** The reaction federated as a plain `Like` (others go out as `EmojiReact`). */
export const DEFAULT_REACTION = "❤️";
