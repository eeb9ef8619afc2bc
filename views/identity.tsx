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
            <h2>Already using Harmony on another device?</h2>
            <p class="muted">
              Link this device: your signed-in device sends your key sealed so that only this device can open
              it. Nobody types the recovery phrase here.
            </p>
            <button type="button" id="link-device">Link this device</button>
            <div id="link-panel" class="pairing" hidden>
              <div id="link-waiting">
                <p>
                  On your signed-in device, open <strong>Your profile</strong>, then{" "}
                  <em>Add a device</em>, and type this code:
                </p>
                <p class="pairing-code" id="link-code"></p>
                <p>
                  That device then shows numbers; check they are these:{" "}
                  <strong id="link-fingerprint"></strong>
                </p>
              </div>
              <div id="link-arrived" class="arrived" hidden>
                <h3 id="link-arrived-title" tabindex={-1}>An identity arrived. Is it yours?</h3>
                <div class="arrived-who">
                  <span id="link-avatar" class="arrived-avatar" hidden></span>
                  <div>
                    <p id="link-name" class="arrived-name"></p>
                    <p id="link-membership" class="muted small"></p>
                    <code id="link-did" class="did"></code>
                  </div>
                </div>
                <p>
                  Use it only if this is <strong>your</strong>{" "}
                  identity: anyone who saw the code on this screen could have sent theirs first, and this
                  device would then act as them. Names are chosen by their holders; the DID is what counts.
                  Your signed-in device shows yours under <em>Add a device</em>.
                </p>
                <div class="actions">
                  <button type="button" id="link-accept">Yes, it is mine: sign in</button>
                  <button type="button" id="link-reject" class="danger">No, discard it</button>
                </div>
              </div>
              <p id="link-status" class="muted" role="status"></p>
            </div>
            <label class="checkbox">
              <input type="checkbox" id="keep-linkable" />{" "}
              Let this device add my other devices without the recovery phrase
            </label>
            <p class="muted small">
              It then keeps an encrypted copy of your key that this site's scripts can unlock to send it to a
              new device. Leave it off unless you need it: without it, adding a device asks for the recovery
              phrase on this device once.
            </p>
          </section>

          <section id="recover-identity" hidden>
            <h2>Recover an identity</h2>
            <p class="muted">
              Lost the key and the recovery phrase of an identity that is a member here? With this new
              identity, ask that identity's guardians to vouch for you. Once enough of them approve and the
              community's waiting time has passed, your membership, roles and profile move to this identity.
              Your member page shows your old DID.
            </p>
            <form id="recover-form">
              <label for="recover-old">The DID you lost</label>
              <input
                id="recover-old"
                name="old"
                autocomplete="off"
                autocapitalize="none"
                spellcheck={false}
                placeholder="did:key:z6Mk…"
                required
              />
              <button type="submit">Ask for recovery</button>
            </form>
            <p id="recover-status" role="status"></p>
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
