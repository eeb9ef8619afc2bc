import type { Child } from "hono/jsx";
import { raw } from "hono/html";

export interface PageProps {
  title: string;
  /** The session's CSRF token: htmx and the client script send it back. */
  csrfToken?: string | null;
  me?: string | null;
  page: string;
  children?: Child;
}

const htmxConfig = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ],
});

/** A whole page. The doctype keeps browsers in standards mode (without it they lay the page out in quirks mode). */
export function Page(props: PageProps) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en" class="dark">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="dark" />
          <meta name="htmx-config" content={htmxConfig} />
          {props.csrfToken ? <meta name="csrf-token" content={props.csrfToken} /> : null}
          <title>{props.title}</title>
          <link rel="stylesheet" href="/static/style.css" />
          <script src="/static/htmx.min.js" defer></script>
          <script type="module" src="/static/app.js"></script>
        </head>
        <body
          data-page={props.page}
          data-me={props.me ?? ""}
          hx-headers={props.csrfToken ? JSON.stringify({ "X-CSRF-Token": props.csrfToken }) : undefined}
        >
          <a class="skip-link" href="#main">Skip to content</a>
          {props.children}
          <div id="toast" role="status" aria-live="polite"></div>
        </body>
      </html>
    </>
  );
}

/** A small message page: errors, claim, invite, not found. */
export function Notice(
  props: { title: string; csrfToken?: string | null; me?: string | null; children?: Child },
) {
  return (
    <Page title={props.title} csrfToken={props.csrfToken} me={props.me} page="notice">
      <main id="main" class="notice">
        <div class="card">
          <h1>{props.title}</h1>
          {props.children}
        </div>
      </main>
    </Page>
  );
}
