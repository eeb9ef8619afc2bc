/** Search: the box in the chat header, the results page and its htmx fragments (server/search/). */
import { raw } from "hono/html";
import type { ChannelInfo, CommunityInfo, ProfileInfo } from "../server/shared/model.ts";
import type { SearchHit } from "../server/search/search.ts";
import { Page } from "./layout.tsx";
import { Avatar, displayName, type Viewer } from "./parts.tsx";
import { Sidebar } from "./chat.tsx";

/** MAX_QUERY_LENGTH of server/search/query.ts (views import types only; a test keeps them equal). */
export const SEARCH_MAX_LENGTH = 256;

/** The search box of the chat header: a plain GET form, so it works without scripts. */
export function SearchBox(props: { q?: string }) {
  return (
    <form class="search-box" role="search" action="/search" method="get">
      <input
        type="search"
        name="q"
        value={props.q ?? ""}
        placeholder="Search"
        aria-label="Search messages"
        maxlength={SEARCH_MAX_LENGTH}
        autocomplete="off"
      />
    </form>
  );
}

export interface SearchView {
  q: string;
  hits: SearchHit[];
  nextCursor: string | null;
  profiles: Map<string, ProfileInfo>;
  /** A refused query: its message. */
  error: string | null;
}

function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

function Hit(props: { hit: SearchHit; profile: ProfileInfo | null | undefined }) {
  const { hit } = props;
  const name = displayName(hit.author.did, props.profile);
  return (
    <li class="search-hit">
      <a class="search-hit-link" href={hit.url} aria-label={`Message by ${name} in #${hit.channel.name}`}>
        <Avatar did={hit.author.did} profile={props.profile} size="small" />
        <div class="search-hit-body">
          <header>
            <strong class="author">{name}</strong>
            <span class="search-hit-channel">#{hit.channel.name}</span>
            <time datetime={hit.published}>{when(hit.published)}</time>
            {hit.updated ? <span class="edited">(edited)</span> : null}
          </header>
          {/* Escaped by the server (server/search/highlight.ts): only <mark> is markup. */}
          <p class="search-snippet">{raw(hit.html)}</p>
        </div>
      </a>
    </li>
  );
}

function moreUrl(q: string, cursor: string): string {
  return `/search?q=${encodeURIComponent(q)}&cursor=${encodeURIComponent(cursor)}`;
}

/** One page of hits and the button that loads the next (htmx swaps the button for the next page). */
export function SearchPageOfHits(props: SearchView) {
  return (
    <>
      <ol class="search-hits">
        {props.hits.map((hit) => <Hit key={hit.id} hit={hit} profile={props.profiles.get(hit.author.did)} />)}
      </ol>
      {props.nextCursor
        ? (
          <div class="search-more">
            <a
              class="button"
              href={moreUrl(props.q, props.nextCursor)}
              hx-get={moreUrl(props.q, props.nextCursor)}
              hx-target="closest .search-more"
              hx-swap="outerHTML"
            >
              More results
            </a>
          </div>
        )
        : null}
    </>
  );
}

/** The results region (#search-results), also the fragment htmx asks for. */
export function SearchResults(props: SearchView) {
  if (props.error) {
    return <p class="search-error" role="alert">{props.error}</p>;
  }
  if (!props.q) {
    return (
      <p class="search-help">
        Search words or "exact phrases", and narrow with <code>from:name</code>, <code>in:channel</code>,{" "}
        <code>before:2026-01-31</code>, <code>after:2026-01-01</code>, <code>has:link</code> or{" "}
        <code>has:file</code>.
      </p>
    );
  }
  if (props.hits.length === 0) return <p class="search-empty">No messages match “{props.q}”.</p>;
  return <SearchPageOfHits {...props} />;
}

export interface SearchPageData extends SearchView {
  community: CommunityInfo;
  channels: ChannelInfo[];
  viewer: Viewer | null;
  csrfToken: string | null;
}

export function SearchPage(props: SearchPageData) {
  const me = props.viewer ? props.profiles.get(props.viewer.did) : null;
  return (
    <Page
      title={props.q ? `${props.q} · Search · ${props.community.name}` : `Search · ${props.community.name}`}
      csrfToken={props.csrfToken}
      me={props.viewer?.did}
      page="search"
    >
      <div class="app-shell search-shell">
        <Sidebar
          community={props.community}
          channels={props.channels}
          current={null}
          viewer={props.viewer}
          profile={me}
        />
        <main id="main" class="chat search">
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
            <h2>Search</h2>
            <form
              class="search-box wide"
              role="search"
              action="/search"
              method="get"
              hx-get="/search"
              hx-target="#search-results"
              hx-push-url="true"
            >
              <input
                type="search"
                name="q"
                value={props.q}
                placeholder="Search messages"
                aria-label="Search messages"
                maxlength={SEARCH_MAX_LENGTH}
                autocomplete="off"
                autofocus
              />
              <button type="submit">Search</button>
            </form>
          </header>
          <section class="messages search-results" id="search-results" aria-live="polite">
            <SearchResults {...props} />
          </section>
        </main>
      </div>
    </Page>
  );
}
