import { Page } from "./layout.tsx";

/**
 * Creating, restoring and using an identity happens in the browser: the
 * mnemonic and private key never reach the server. This page is the
 * scaffold the client script drives.
 */
export function IdentityPage(
  props: { returnTo: string; communityName: string; signedInAs: string | null; csrfToken: string | null },
) {
  return (
    <Page
      title={`Your identity · ${props.communityName}`}
      page="identity"
      csrfToken={props.csrfToken}
      me={props.signedInAs}
    >
      <main id="main" class="identity" data-return={props.returnTo}>
        <div class="card">
          <h1>Your identity</h1>
          <p class="muted">
            On Harmony you are a key pair you hold, not an account on a server. Your 24-word recovery phrase
            is the only way to get it back: this device keeps the key, and the server never sees it.
          </p>
          <noscript>
            <p class="error">
              Creating and using an identity needs JavaScript: the keys are made and kept in your browser.
            </p>
          </noscript>

          <section id="stored-identity" hidden>
            <h2>On this device</h2>
            <p>
              <code id="stored-did" class="did"></code>
            </p>
            <div class="actions">
              <button type="button" id="sign-in">Sign in</button>
              <button type="button" id="forget" class="danger">Forget this identity here</button>
            </div>
          </section>

          <section id="choose">
            <h2>New here?</h2>
            <button type="button" id="create">Create a new identity</button>
            <h2>Have a recovery phrase?</h2>
            <form id="restore-form">
              <label for="restore-words">Recovery phrase (24 words)</label>
              <textarea
                id="restore-words"
                rows={3}
                autocomplete="off"
                autocapitalize="none"
                spellcheck={false}
              >
              </textarea>
              <button type="submit">Restore</button>
            </form>
          </section>

          <section id="backup" hidden>
            <h2>Write down your recovery phrase</h2>
            <p>
              These 24 words are your identity. Write them on paper, in order, and keep them safe. They are
              shown only once; anyone who has them can act as you.
            </p>
            <ol id="mnemonic-words" class="mnemonic"></ol>
            <button type="button" id="backup-done">I have written them down</button>
          </section>

          <section id="backup-check" hidden>
            <h2>Check your backup</h2>
            <p>Type the words at these positions.</p>
            <form id="backup-check-form">
              <div id="backup-check-fields"></div>
              <button type="submit">Confirm</button>
              <button type="button" id="backup-show-again" class="link-button">Show the words again</button>
            </form>
          </section>

          <p id="identity-error" class="error" role="alert"></p>
          <p id="identity-status" class="muted" role="status"></p>
        </div>
      </main>
    </Page>
  );
}
