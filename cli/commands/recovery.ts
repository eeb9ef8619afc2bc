/** `harmony recovery setup | request | approve | cancel | status | delay` (social recovery, docs/identity.md). */
import type { HarmonyClient } from "../client.ts";
import { isDidKey } from "../../server/crypto/didkey.ts";
import {
  signRecoveryApproval,
  signRecoveryCancel,
  signRecoveryRequest,
  signRecoverySetup,
} from "../../server/documents/documents.ts";
import type { RecoveryOverview, RecoveryRequestView } from "../../server/recovery/recovery.ts";
import { integerOption, stringOption, UsageError } from "./args.ts";
import { parseDuration } from "./bridges.ts";
import type { Command } from "./command.ts";
import { localTime, shortDid, table } from "./io.ts";

const requestPath = (id: string) => `/recovery/requests/${encodeURIComponent(id)}`;

/** The server mints the ids of setups and requests; the signer asks for one first. */
async function mintedId(client: HarmonyClient, kind: "RecoverySetup" | "RecoveryRequest"): Promise<string> {
  return (await client.request<{ id: string }>("POST", "/recovery/ids", { kind })).id;
}

function requireDid(value: string, what: string): string {
  if (!isDidKey(value)) throw new UsageError(`${what} must be an Ed25519 did:key, not "${value}"`);
  return value;
}

function describeRequest(r: RecoveryRequestView): string {
  const approvals = new Set(r.approvals.map((a) => a.guardian)).size;
  const lines = [
    `Request:   ${r.id}`,
    `Status:    ${r.status}${r.closeReason ? ` (${r.closeReason})` : ""}`,
    `Old DID:   ${r.oldIdentity}`,
    `New DID:   ${r.newIdentity}`,
    `Approvals: ${approvals} of ${r.threshold} (guardians: ${r.guardians.map(shortDid).join(", ")})`,
  ];
  if (r.dueAt) lines.push(`Moves at:  ${localTime(r.dueAt)} unless the old key cancels before`);
  return lines.join("\n") + "\n";
}

function requestTable(requests: RecoveryRequestView[]): string {
  return table(
    ["REQUEST", "STATUS", "APPROVALS", "OLD", "NEW", "MOVES AT"],
    requests.map((r) => [
      r.id,
      r.status,
      `${new Set(r.approvals.map((a) => a.guardian)).size}/${r.threshold}`,
      shortDid(r.oldIdentity),
      shortDid(r.newIdentity),
      r.status === "locked" && r.dueAt ? localTime(r.dueAt) : "",
    ]),
  );
}

async function fetchRequest(client: HarmonyClient, id: string): Promise<RecoveryRequestView> {
  return await client.request<RecoveryRequestView>("GET", requestPath(id));
}

export const recoveryCommands: Command[] = [
  {
    name: "recovery setup",
    synopsis: "--guardian DID [DID...] --threshold N",
    summary: "name the guardians who can vouch for a new key of yours, and how many must approve",
    arity: [0, 16],
    options: ["guardian", "threshold"],
    async run({ args, options, connect, io }) {
      const first = stringOption(options, "guardian");
      if (!first) throw new UsageError("name at least one guardian with --guardian DID");
      const guardians = [...new Set([...first.split(","), ...args].map((d) => d.trim()).filter(Boolean))]
        .map((d) => requireDid(d, "a guardian"));
      const threshold = integerOption(options, "threshold", 1, guardians.length);
      if (threshold === undefined) {
        throw new UsageError("say how many guardians must approve with --threshold N");
      }
      const client = await connect();
      const { iri } = await client.community();
      const id = await mintedId(client, "RecoverySetup");
      const setup = await signRecoverySetup(client.signer!, iri, guardians, threshold, id);
      await client.request("PUT", "/recovery/setup", { setup });
      await io.out(
        `Saved: ${threshold} of ${guardians.length} guardians must approve a recovery of ${client.did}.\n`,
      );
    },
  },
  {
    name: "recovery request",
    synopsis: "OLD_DID",
    summary: "with your NEW identity, ask to take over a lost identity's place (its guardians must approve)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const old = requireDid(args[0], "the lost identity");
      const client = await connect();
      const { iri } = await client.community();
      const request = await signRecoveryRequest(
        client.signer!,
        iri,
        old,
        await mintedId(client, "RecoveryRequest"),
      );
      const created = await client.request<RecoveryRequestView>("POST", "/recovery/requests", { request });
      await io.out(
        describeRequest(created) +
          `\nAsk the guardians to approve it: harmony recovery approve ${created.id}\n`,
      );
    },
  },
  {
    name: "recovery approve",
    synopsis: "REQUEST_ID",
    summary: "as a guardian, approve a recovery request (check with the person first)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      const request = await fetchRequest(client, args[0]);
      const approval = await signRecoveryApproval(client.signer!, request);
      const result = await client.request<RecoveryRequestView & { counted: boolean }>(
        "POST",
        `${requestPath(request.id)}/approve`,
        { approval },
      );
      await io.out(
        (result.counted ? "Approved.\n" : "You had already approved it.\n") + describeRequest(result),
      );
    },
  },
  {
    name: "recovery cancel",
    synopsis: "REQUEST_ID",
    summary: "with the identity being recovered, cancel a recovery during its time lock",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      const request = await fetchRequest(client, args[0]);
      const cancel = await signRecoveryCancel(client.signer!, request);
      const result = await client.request<RecoveryRequestView>("POST", `${requestPath(request.id)}/cancel`, {
        cancel,
      });
      await io.out(`Cancelled.\n${describeRequest(result)}`);
    },
  },
  {
    name: "recovery status",
    synopsis: "[REQUEST_ID]",
    summary: "your guardians, the requests you guard, and requests for or by you (or one request)",
    arity: [0, 1],
    options: ["json"],
    async run({ args, options, connect, io }) {
      const client = await connect();
      if (args[0]) {
        const request = await fetchRequest(client, args[0]);
        await io.out(options.json ? JSON.stringify(request, null, 2) + "\n" : describeRequest(request));
        return;
      }
      const overview = await client.request<RecoveryOverview>("GET", "/recovery");
      if (options.json) {
        await io.out(JSON.stringify(overview, null, 2) + "\n");
        return;
      }
      const parts: string[] = [];
      parts.push(
        overview.setup
          ? `Your guardians (${overview.setup.threshold} of ${overview.setup.guardians.length} must approve):\n` +
            overview.setup.guardians.map((d) => `  ${d}\n`).join("")
          : "You have named no guardians (harmony recovery setup --guardian DID... --threshold N).\n",
      );
      parts.push(`Time lock in this community: ${overview.delaySeconds} seconds.\n`);
      if (overview.againstMe.length) {
        parts.push(
          `\nRequests to recover YOUR identity (cancel any that is not yours):\n${
            requestTable(overview.againstMe)
          }`,
        );
      }
      if (overview.guarding.length) {
        parts.push(`\nRequests you are a guardian of:\n${requestTable(overview.guarding)}`);
      }
      if (overview.mine.length) parts.push(`\nYour requests:\n${requestTable(overview.mine)}`);
      await io.out(parts.join(""));
    },
  },
  {
    name: "recovery delay",
    synopsis: "DURATION",
    summary: "set the community's recovery time lock, e.g. 72h or 7d (admins; 1 hour to 30 days)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      const { delaySeconds } = await client.request<{ delaySeconds: number }>("PUT", "/recovery/settings", {
        delaySeconds: parseDuration(args[0]),
      });
      await io.out(`Recoveries now wait ${delaySeconds} seconds after their last needed approval.\n`);
    },
  },
];
