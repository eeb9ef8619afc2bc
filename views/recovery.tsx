/**
 * The "Recovery" and "Add a device" sections of the profile page. Every
 * action is signed in the browser (static/client/recovery.ts and
 * pairing.ts) with the key this device holds; these are the scaffolds.
 */
import type { RecoveryOverview, RecoveryRequestView } from "../server/recovery/recovery.ts";

export interface RecoveryPanelData {
  overview: RecoveryOverview;
  community: string;
  /** Display names of the DIDs on the page. */
  names: Record<string, string>;
}

function Who(props: { did: string; names: Record<string, string> }) {
  const name = props.names[props.did];
  return (
    <span class="who">
      {name ? <strong>{name}</strong> : null} <code class="did">{props.did}</code>
    </span>
  );
}

function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? "" : "s"}`;
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

const statusText: Record<RecoveryRequestView["status"], string> = {
  pending: "waiting for guardians",
  locked: "approved; time lock running",
  cancelled: "cancelled with the old key",
  completed: "completed: the identity moved",
  failed: "failed",
  expired: "expired (not enough approvals in time)",
  superseded: "superseded by another recovery",
};

/** The data attributes the client script signs from. */
function requestData(request: RecoveryRequestView, community: string) {
  return {
    "data-id": request.id,
    "data-old": request.oldIdentity,
    "data-new": request.newIdentity,
    "data-community": community,
  };
}

function RequestSummary(props: { request: RecoveryRequestView; names: Record<string, string> }) {
  const { request } = props;
  return (
    <>
      <p>
        <span class={`recovery-status ${request.status}`}>{statusText[request.status]}</span> ·{" "}
        {new Set(request.approvals.map((a) => a.guardian)).size} of {request.threshold} guardian approvals
        {request.dueAt && request.status === "locked"
          ? (
            <>
              {" "}· moves at <time datetime={request.dueAt}>{request.dueAt}</time>
            </>
          )
          : null}
      </p>
      <p class="muted">
        Old: <Who did={request.oldIdentity} names={props.names} />
        <br />
        New: <Who did={request.newIdentity} names={props.names} />
        <br />
        Request <code>{request.id}</code>
      </p>
    </>
  );
}

export function RecoverySection(props: RecoveryPanelData) {
  const { overview, names, community } = props;
  const open = (r: RecoveryRequestView) => r.status === "pending" || r.status === "locked";
  return (
    <section id="recovery" class="recovery" data-community={community}>
      <h2>Recovery</h2>
      <p class="muted">
        If you lose this key and your recovery phrase, guardians you trust can vouch for a new key. Once
        enough of them approve, the community waits {duration(overview.delaySeconds)}{" "}
        and then moves your membership, roles and profile to the new key. During that wait, this key can
        cancel the recovery.
      </p>

      {overview.againstMe.some(open)
        ? (
          <div class="recovery-alert" role="alert">
            <h3>Someone asked to recover your identity</h3>
            <p>If this was not you, cancel it now: your key's signature stops it.</p>
            <ul class="recovery-requests">
              {overview.againstMe.filter(open).map((request) => (
                <li {...requestData(request, community)}>
                  <RequestSummary request={request} names={names} />
                  <button type="button" class="danger" data-recovery-action="cancel">
                    Cancel this recovery
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )
        : null}

      <h3>Your guardians</h3>
      {overview.setup
        ? (
          <p>
            {overview.setup.threshold} of {overview.setup.guardians.length} guardians must approve:
          </p>
        )
        : <p class="muted">You have named no guardians yet: nobody can help you recover this identity.</p>}
      {overview.setup
        ? (
          <ul class="guardians">
            {overview.setup.guardians.map((did) => (
              <li>
                <Who did={did} names={names} />
              </li>
            ))}
          </ul>
        )
        : null}
      <form id="recovery-setup-form">
        <label for="recovery-guardians">Guardians (one DID per line)</label>
        <textarea
          id="recovery-guardians"
          name="guardians"
          rows={3}
          autocomplete="off"
          spellcheck={false}
        >
          {overview.setup ? overview.setup.guardians.join("\n") : ""}
        </textarea>
        <label for="recovery-threshold">Approvals needed</label>
        <input
          id="recovery-threshold"
          name="threshold"
          type="number"
          min={1}
          max={16}
          required
          value={String(overview.setup?.threshold ?? 1)}
        />
        <button type="submit">Save guardians</button>
        <p id="recovery-setup-status" role="status"></p>
      </form>

      {overview.guardianOf.length > 0 || overview.guarding.length > 0
        ? (
          <>
            <h3>You are a guardian</h3>
            {overview.guardianOf.length > 0
              ? (
                <ul>
                  {overview.guardianOf.map((g) => (
                    <li>
                      <Who did={g.member} names={names} /> ({g.threshold} of {g.guardians})
                    </li>
                  ))}
                </ul>
              )
              : null}
            {overview.guarding.length > 0
              ? (
                <ul class="recovery-requests" id="guardian-requests">
                  {overview.guarding.map((request) => {
                    const approved = request.approvals.some((a) => a.guardian === overview.did);
                    return (
                      <li {...requestData(request, community)}>
                        <RequestSummary request={request} names={names} />
                        {open(request) && !approved
                          ? (
                            <button type="button" data-recovery-action="approve">
                              Approve this recovery
                            </button>
                          )
                          : approved
                          ? <p class="muted">You approved it.</p>
                          : null}
                      </li>
                    );
                  })}
                </ul>
              )
              : <p class="muted">No recovery requests concern you.</p>}
            <p class="muted">
              Approve only after checking with the person, by another channel, that the new key is really
              theirs.
            </p>
          </>
        )
        : null}

      {overview.mine.length > 0
        ? (
          <>
            <h3>Your recovery requests</h3>
            <ul class="recovery-requests" id="my-requests">
              {overview.mine.map((request) => (
                <li {...requestData(request, community)}>
                  <RequestSummary request={request} names={names} />
                </li>
              ))}
            </ul>
          </>
        )
        : null}
      {overview.againstMe.some((r) => !open(r))
        ? (
          <>
            <h3>Past requests for your identity</h3>
            <ul class="recovery-requests">
              {overview.againstMe.filter((r) => !open(r)).map((request) => (
                <li>
                  <RequestSummary request={request} names={names} />
                </li>
              ))}
            </ul>
          </>
        )
        : null}
      <p id="recovery-status" role="status"></p>
    </section>
  );
}

/** Sending this identity's key to a new device (static/client/pairing.ts). */
export function AddDeviceSection(props: { did: string }) {
  return (
    <section id="add-device" class="add-device">
      <h2>Add a device</h2>
      <p class="muted">
        On the new device, open <strong>Your identity</strong> and choose{" "}
        <em>Link this device</em>. Type the code it shows here. Once your key arrives, the new device shows
        whose identity it received: check it is this one before you confirm there.
      </p>
      <p>
        <code class="did" id="add-device-did">{props.did}</code>
      </p>
      <form id="pairing-lookup-form">
        <label for="pairing-code">Pairing code</label>
        <input
          id="pairing-code"
          name="code"
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
          placeholder="ABCD-EFGH"
          required
        />
        <button type="submit">Look up</button>
      </form>
      <div id="pairing-confirm" hidden>
        <p>
          Check that the new device shows the same numbers: <strong id="pairing-fingerprint"></strong>
        </p>
        <div id="pairing-phrase" hidden>
          <p class="muted">
            This device keeps no copy of your key it could send. Type your recovery phrase once here (it is
            used to seal the key for the new device and then forgotten; it never leaves this page).
          </p>
          <label for="pairing-words">Recovery phrase</label>
          <textarea id="pairing-words" rows={3} autocomplete="off" autocapitalize="none" spellcheck={false}>
          </textarea>
        </div>
        <button type="button" id="pairing-send">The numbers match: send my key</button>
      </div>
      <p id="pairing-status" role="status"></p>
    </section>
  );
}
