import type {
  ChannelInfo,
  CommunityInfo,
  InviteInfo,
  MemberInfo,
  ProfileInfo,
  Role,
} from "../server/shared/model.ts";
import { Notice, Page } from "./layout.tsx";
import { Avatar, displayName } from "./parts.tsx";
import { AddDeviceSection, type RecoveryPanelData, RecoverySection } from "./recovery.tsx";
import { CredentialsSection, type CredentialView } from "./credentials.tsx";
import { CapabilityChains, type CapabilityView, DelegationsSection } from "./capabilities.tsx";

export function ClaimPage(
  props: { token: string; did: string | null; csrfToken: string | null; valid: boolean },
) {
  if (!props.valid) {
    return (
      <Notice title="This claim link is not valid" me={props.did}>
        <p>The instance already has an owner, or this link was replaced when the instance restarted.</p>
        <p>
          <a href="/">Go to the community</a>
        </p>
      </Notice>
    );
  }
  return (
    <Notice title="Claim this instance" csrfToken={props.csrfToken} me={props.did}>
      <p>The identity that claims this instance becomes its owner.</p>
      {props.did
        ? (
          <form hx-post="/ui/claim" hx-target="#claim-result">
            <input type="hidden" name="token" value={props.token} />
            <p>
              You will claim it as <code class="did">{props.did}</code>.
            </p>
            <button type="submit">Claim as owner</button>
            <div id="claim-result" role="alert"></div>
          </form>
        )
        : (
          <p>
            <a class="button" href={`/identity?return=${encodeURIComponent(`/claim/${props.token}`)}`}>
              Create or choose your identity first
            </a>
          </p>
        )}
    </Notice>
  );
}

export function InvitePage(props: {
  community: CommunityInfo;
  invite: InviteInfo | null;
  state: string;
  did: string | null;
  member: MemberInfo | null;
  csrfToken: string | null;
}) {
  const { invite } = props;
  if (!invite || props.state !== "active") {
    return (
      <Notice title="This invite cannot be used" me={props.did}>
        <p>{invite ? `The invite is ${props.state}.` : "There is no such invite."} Ask for a new one.</p>
      </Notice>
    );
  }
  return (
    <Notice title={`You are invited to ${props.community.name}`} csrfToken={props.csrfToken} me={props.did}>
      {props.member
        ? (
          <p>
            You are already a member. <a href="/">Open the community</a>
          </p>
        )
        : props.did
        ? (
          <form hx-post="/ui/join" hx-target="#join-result">
            <input type="hidden" name="invite" value={invite.code} />
            <button type="submit">Join {props.community.name}</button>
            <div id="join-result" role="alert"></div>
          </form>
        )
        : (
          <p>
            <a class="button" href={`/identity?return=${encodeURIComponent(`/invite/${invite.code}`)}`}>
              Create or choose your identity to join
            </a>
          </p>
        )}
    </Notice>
  );
}

export function ProfilePage(props: {
  did: string;
  profile: ProfileInfo | null;
  role: Role | null;
  csrfToken: string | null;
  communityName: string;
  /** Guardians, recovery requests (server/recovery). */
  recovery?: RecoveryPanelData | null;
  /** The member's credentials and their issuer (server/credentials). */
  credentials?: { list: CredentialView[]; issuer: string } | null;
  /** What the member delegated, and the actions they could delegate (server/authority). */
  delegations?: { delegated: CapabilityView[]; mine: string[]; channels: ChannelInfo[] } | null;
}) {
  return (
    <Page
      title={`Your profile · ${props.communityName}`}
      page="profile"
      csrfToken={props.csrfToken}
      me={props.did}
    >
      <main id="main" class="notice">
        <div class="card">
          <h1>Your profile</h1>
          <p class="muted">Your key signs your profile, so anyone can check it is yours.</p>
          <form id="profile-form">
            <Avatar did={props.did} profile={props.profile} size="large" />
            <label for="display-name">Display name</label>
            <input id="display-name" name="name" maxlength={64} required value={props.profile?.name ?? ""} />
            <label for="avatar-file">Avatar (PNG, JPEG, GIF or WebP, at most 256 KB)</label>
            <input
              id="avatar-file"
              name="avatar"
              type="file"
              accept="image/png,image/jpeg,image/gif,image/webp"
            />
            {props.profile?.avatarHash
              ? (
                <label class="checkbox">
                  <input type="checkbox" id="keep-avatar" checked /> Keep my current avatar
                </label>
              )
              : null}
            <button type="submit">Save profile</button>
            <p id="profile-status" role="status"></p>
          </form>
          <p>
            Your DID: <code class="did">{props.did}</code>
          </p>
          {props.profile?.movedFrom
            ? (
              <p class="notice-moved" role="note">
                Your profile moved here from <code class="did">{props.profile.movedFrom}</code>{" "}
                when your identity was recovered. Save it to sign it with your new key.
              </p>
            )
            : null}
          {props.delegations ? <DelegationsSection {...props.delegations} /> : null}
          {props.credentials
            ? (
              <CredentialsSection
                credentials={props.credentials.list}
                issuer={props.credentials.issuer}
                communityName={props.communityName}
              />
            )
            : null}
          {props.recovery ? <RecoverySection {...props.recovery} /> : null}
          <AddDeviceSection did={props.did} />
          {props.role && props.role !== "owner"
            ? (
              <form hx-post="/ui/leave" hx-confirm={`Leave ${props.communityName}?`}>
                <button type="submit" class="danger">Leave {props.communityName}</button>
              </form>
            )
            : null}
          <p>
            <a href="/">Back to the community</a>
          </p>
        </div>
      </main>
    </Page>
  );
}

export function MemberPage(props: {
  did: string;
  profile: ProfileInfo | null;
  member: MemberInfo | null;
  viewer: string | null;
  /** The member's capabilities with their chains, shown to members (server/authority). */
  capabilities?: { held: CapabilityView[]; channels: ChannelInfo[]; rootDid: string } | null;
}) {
  return (
    <Notice title={displayName(props.did, props.profile)} me={props.viewer}>
      <div class="member-card">
        <Avatar did={props.did} profile={props.profile} size="large" />
        <dl>
          <dt>DID</dt>
          <dd>
            <code class="did">{props.did}</code>
          </dd>
          <dt>Role</dt>
          <dd>
            {props.member ? props.member.role : props.profile?.bot
              ? (
                <>
                  a bot of{" "}
                  <a href={`/members/${encodeURIComponent(props.profile.bot.owner)}`}>
                    {props.profile.bot.ownerName}
                  </a>
                </>
              )
              : "not a member"}
          </dd>
          {props.profile?.movedTo
            ? (
              <>
                <dt>Moved to</dt>
                <dd>
                  <a href={`/members/${encodeURIComponent(props.profile.movedTo)}`}>
                    <code class="did">{props.profile.movedTo}</code>
                  </a>
                </dd>
              </>
            )
            : null}
          {props.member
            ? (
              <>
                <dt>Joined</dt>
                <dd>
                  <time datetime={props.member.joined}>{props.member.joined}</time>
                </dd>
              </>
            )
            : null}
        </dl>
      </div>
      {props.viewer && props.member && props.viewer !== props.did
        ? (
          <p>
            <a class="button" href={`/dms/${encodeURIComponent(props.did)}`}>Message</a>
          </p>
        )
        : null}
      {props.capabilities
        ? (
          <section aria-labelledby="s-capabilities">
            <h2 id="s-capabilities">Capabilities</h2>
            <CapabilityChains {...props.capabilities} />
          </section>
        )
        : null}
      <p>
        <a href="/">Back to the community</a>
      </p>
    </Notice>
  );
}

export function ErrorPage(props: { status: number; message: string; did?: string | null }) {
  const titles: Record<number, string> = {
    401: "Sign in to see this",
    403: "You cannot see this",
    404: "Not found",
    410: "Gone",
  };
  return (
    <Notice title={titles[props.status] ?? "Something went wrong"} me={props.did}>
      <p>{props.message}</p>
      {props.status === 401
        ? (
          <p>
            <a class="button" href="/identity">Sign in</a>
          </p>
        )
        : null}
      <p>
        <a href="/">Go to the community</a>
      </p>
    </Notice>
  );
}
