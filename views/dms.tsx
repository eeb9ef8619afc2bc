/**
 * Direct message pages. The server only has ciphertext: each message is
 * rendered as its signed envelope (a data attribute) and a placeholder;
 * static/client/dm.ts verifies, decrypts and fills it in the browser, and
 * encrypts what the member writes before it leaves the page.
 */
import { Page } from "./layout.tsx";

export interface DmSummaryView {
  conversation: string;
  peer: string;
  peerActor: string | null;
  lastPublished: string;
  messages: number;
  unread: number;
}

export interface DmRecordView {
  position: number;
  envelope: { id: string; attributedTo: string; published: string };
}

function nameOf(did: string, names: Record<string, string>): string {
  if (names[did]) return names[did];
  const key = did.replace(/^did:key:/, "");
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}

const dmHref = (did: string, actor?: string | null) =>
  `/dms/${encodeURIComponent(did)}${actor ? `?actor=${encodeURIComponent(actor)}` : ""}`;

export function DmListPage(props: {
  communityName: string;
  csrfToken: string | null;
  me: string;
  conversations: DmSummaryView[];
  members: string[];
  names: Record<string, string>;
}) {
  const talkedTo = new Set(props.conversations.map((c) => c.peer));
  return (
    <Page
      title={`Direct messages · ${props.communityName}`}
      csrfToken={props.csrfToken}
      me={props.me}
      page="dms"
    >
      <main id="main" class="notice dms">
        <div class="card">
          <h1>Direct messages</h1>
          <p class="hint">
            End-to-end encrypted: this server stores and relays only ciphertext. It still sees who writes to
            whom, when, and roughly how much.
          </p>
          {props.conversations.length === 0 ? <p>No conversations yet.</p> : (
            <ul class="dm-conversations">
              {props.conversations.map((c) => (
                <li>
                  <a href={dmHref(c.peer, c.peerActor)}>{nameOf(c.peer, props.names)}</a>
                  {c.peerActor ? <span class="hint">{` (${new URL(c.peerActor).host})`}</span> : null}
                  {c.unread > 0
                    ? <span class="badge" aria-label={`${c.unread} unread`}>{c.unread}</span>
                    : null}
                  <time datetime={c.lastPublished}>{c.lastPublished}</time>
                </li>
              ))}
            </ul>
          )}
          <h2>Start a conversation</h2>
          <ul class="dm-members">
            {props.members.filter((did) => !talkedTo.has(did)).map((did) => (
              <li>
                <a href={dmHref(did)}>{nameOf(did, props.names)}</a>
              </li>
            ))}
          </ul>
          <form id="dm-remote" class="stack">
            <label>
              A member of another Harmony instance (their actor URL)
              <input name="actor" type="url" required placeholder="https://other.example/ap/actors/z6Mk…" />
            </label>
            <button type="submit">Open conversation</button>
            <p class="composer-error" id="dm-remote-error" role="alert"></p>
          </form>
          <p>
            <a href="/">Back to the community</a>
          </p>
        </div>
      </main>
    </Page>
  );
}

export function DmConversationPage(props: {
  communityName: string;
  csrfToken: string | null;
  me: string;
  peer: string;
  peerActor: string | null;
  conversation: string;
  messages: DmRecordView[];
  before: number | null;
  names: Record<string, string>;
}) {
  const peerName = nameOf(props.peer, props.names);
  return (
    <Page title={`${peerName} · Direct messages`} csrfToken={props.csrfToken} me={props.me} page="dm">
      <main
        id="main"
        class="notice dm"
        data-peer={props.peer}
        data-peer-actor={props.peerActor ?? ""}
        data-conversation={props.conversation}
      >
        <div class="card">
          <h1>{peerName}</h1>
          <p class="hint">
            <code class="did">{props.peer}</code>
            {props.peerActor ? <>{" on "}{new URL(props.peerActor).host}</> : null}
          </p>
          <p class="hint" id="dm-status" role="status">Decrypting…</p>
          <form id="dm-unlock" class="stack" hidden>
            <p>
              This device holds your signing key but not yet your message key. Enter your recovery phrase once
              to read and send direct messages here.
            </p>
            <label>
              Recovery phrase
              <textarea id="dm-unlock-words" rows={3} autocomplete="off" spellcheck={false}></textarea>
            </label>
            <button type="submit">Unlock direct messages</button>
          </form>
          <ol
            class="dm-messages"
            id="dm-messages"
            aria-live="polite"
            aria-label={`Messages with ${peerName}`}
          >
            {props.messages.map((m) => (
              <li
                class={m.envelope.attributedTo === props.me ? "dm-message mine" : "dm-message"}
                id={`dm-${m.position}`}
                data-position={String(m.position)}
                data-envelope={JSON.stringify(m.envelope)}
              >
                <span class="dm-author">
                  {m.envelope.attributedTo === props.me ? "You" : peerName}
                </span>{" "}
                <time datetime={m.envelope.published}>{m.envelope.published}</time>
                <p class="dm-text">(encrypted)</p>
              </li>
            ))}
          </ol>
          <form id="dm-composer" class="composer">
            <label for="dm-input" class="visually-hidden">Message {peerName}</label>
            <textarea
              id="dm-input"
              name="content"
              rows={2}
              maxlength={4000}
              placeholder={`Message ${peerName}`}
            >
            </textarea>
            <button type="submit">Send</button>
            <p class="composer-error" id="dm-error" role="alert"></p>
          </form>
          <p>
            <a href="/dms">All direct messages</a> · <a href="/">Back to the community</a>
          </p>
        </div>
      </main>
    </Page>
  );
}
