/**
 * Credentials in the UI: the "Your credentials" section of the profile
 * page, the admission policy in the settings, and the join form for a
 * community that admits by credential (the browser signs the presentation:
 * static/client/credentials.ts).
 */
import type { AdmissionPolicy, CommunityInfo } from "../server/shared/model.ts";

/** What the profile page shows of a credential. */
export interface CredentialView {
  id: string;
  kind: "membership" | "role";
  role: string | null;
  issued: string;
  revoked: boolean;
  revokedAt: string | null;
}

function label(c: CredentialView, community: string): string {
  if (c.kind === "membership") return `Member of ${community}`;
  const role = c.role ?? "role";
  return `${role.charAt(0).toUpperCase()}${role.slice(1)} of ${community}`;
}

function fileName(c: CredentialView): string {
  const short = c.id.replace(/^urn:uuid:/, "").slice(-12);
  return `harmony-${c.kind === "membership" ? "membership" : `role-${c.role ?? ""}`}-${short}.json`;
}

export function CredentialsSection(
  props: { credentials: CredentialView[]; communityName: string; issuer: string },
) {
  const { credentials } = props;
  return (
    <section class="credentials" aria-labelledby="credentials-heading">
      <h2 id="credentials-heading">Your credentials</h2>
      <p class="muted">
        Verifiable Credentials {props.communityName} signed for you (issuer{" "}
        <code class="did">{props.issuer}</code>). Anyone can check them; download one to show it elsewhere,
        for example to join an allied community.
      </p>
      {credentials.length === 0
        ? <p class="muted">None yet. Joining the community gives you a membership credential.</p>
        : (
          <ul class="settings-list credential-list">
            {credentials.map((c) => (
              <li class={c.revoked ? "credential revoked" : "credential"}>
                <strong>{label(c, props.communityName)}</strong>
                <span class="muted">
                  issued <time datetime={c.issued}>{c.issued}</time>
                </span>
                {c.revoked
                  ? (
                    <span class="credential-state revoked">
                      revoked{c.revokedAt
                        ? (
                          <>
                            {" "}
                            <time datetime={c.revokedAt}>{c.revokedAt}</time>
                          </>
                        )
                        : null}
                    </span>
                  )
                  : <span class="credential-state">valid</span>}
                <a href={`/api/credentials/${encodeURIComponent(c.id)}`} download={fileName(c)}>Download</a>
              </li>
            ))}
          </ul>
        )}
    </section>
  );
}

const target = { "hx-target": "#settings", "hx-swap": "outerHTML" };

/** The settings form for the community's name and who may join. */
export function CommunityForm(props: { community: CommunityInfo; communityDid: string | null }) {
  const admission: AdmissionPolicy = props.community.admission;
  const credential = admission.policy === "credential" ? admission : null;
  return (
    <form hx-post="/ui/community" {...target} class="community-form">
      <div class="row">
        <label for="community-name">Name</label>
        <input id="community-name" name="name" value={props.community.name} maxlength={100} required />
      </div>
      <fieldset class="admission">
        <legend>Who can join</legend>
        <label class="checkbox">
          <input type="radio" name="admission" value="open" checked={admission.policy === "open"} />
          Anyone signed in
        </label>
        <label class="checkbox">
          <input type="radio" name="admission" value="invite" checked={admission.policy === "invite"} />
          Only with an invite link
        </label>
        <label class="checkbox">
          <input
            type="radio"
            name="admission"
            value="credential"
            checked={admission.policy === "credential"}
          />
          Holders of a credential (or an invite link)
        </label>
        <div class="row">
          <label for="admission-type">Credential type</label>
          <input
            id="admission-type"
            name="credentialType"
            value={credential?.credentialType ?? "MembershipCredential"}
            maxlength={500}
          />
          <label for="admission-issuer">Issuer (did:key)</label>
          <input
            id="admission-issuer"
            name="issuer"
            class="did-input"
            value={credential?.issuer ?? ""}
            placeholder="did:key:z6Mk… of the allied community"
            maxlength={100}
          />
        </div>
        {props.communityDid
          ? (
            <p class="muted">
              This community issues its credentials as{" "}
              <code class="did">{props.communityDid}</code>: give it to allied communities that admit your
              members.
            </p>
          )
          : null}
      </fieldset>
      <button type="submit">Save</button>
    </form>
  );
}

/** The note (and form) a signed-in non-member sees where the composer would be. */
export function JoinByCredential(props: { community: CommunityInfo }) {
  const admission = props.community.admission;
  if (admission.policy !== "credential") return null;
  return (
    <form id="join-credential-form" class="join-credential">
      <p>
        {props.community.name} admits holders of a <strong>{admission.credentialType}</strong> issued by{" "}
        <code class="did">{admission.issuer}</code>. Choose that credential (the JSON file you downloaded) to
        join; your key signs the presentation on this device.
      </p>
      <label for="join-credential-file">Credential file</label>
      <input
        id="join-credential-file"
        name="credential"
        type="file"
        accept=".json,application/json"
        required
      />
      <button type="submit">Join {props.community.name}</button>
      <p id="join-credential-status" role="alert"></p>
    </form>
  );
}
