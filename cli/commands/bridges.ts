/** `harmony bridge offer | install | list | revoke | refusals` and `harmony channel state`. */
import { stringOption, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { table } from "./io.ts";

/** "90d", "12h", "30m", "45s" or a number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`"${text}" is not a duration (for example 30d, 12h, 90m or 3600)`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2]]!;
  return Number(match[1]) * unit;
}

export const bridgeCommands: Command[] = [
  {
    name: "bridge offer",
    synopsis:
      "CHANNEL --to ACTOR_URL [--expires DURATION] [--actions post,edit,delete,react,sync] [--out FILE]",
    summary: "delegate a capability for CHANNEL to a peer's channel actor and print it as JSON (admins)",
    arity: [1, 1],
    options: ["to", "expires", "actions", "out"],
    async run({ args, options, connect, io }) {
      const to = stringOption(options, "to");
      if (!to) throw new UsageError("bridge offer needs --to, the URL of the peer's channel actor");
      const expires = stringOption(options, "expires");
      const actions = stringOption(options, "actions");
      const client = await connect();
      const grant = await client.offerBridge(args[0], to, {
        expiresIn: expires ? parseDuration(expires) : undefined,
        actions: actions ? actions.split(",").map((a) => a.trim()).filter(Boolean) : undefined,
      });
      const json = JSON.stringify(grant.capability, null, 2) + "\n";
      const out = stringOption(options, "out");
      if (out) {
        await Deno.writeTextFile(out, json);
        await io.err(`Wrote the capability ${grant.id} to ${out}; send it to the peer's admin to install.\n`);
      } else {
        await io.out(json);
      }
    },
  },
  {
    name: "bridge install",
    synopsis: "FILE",
    summary: "install a capability a peer granted to one of our channels (admins; FILE may be -)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const text = args[0] === "-"
        ? await io.readInput("Capability JSON: ")
        : await Deno.readTextFile(args[0]);
      let capability: unknown;
      try {
        capability = JSON.parse(text);
      } catch {
        throw new UsageError(`${args[0]} does not hold JSON`);
      }
      const client = await connect();
      const link = await client.installBridge(capability);
      await io.out(`Installed ${link.id}: operations of ${link.channel} now go to ${link.peerInbox}.\n`);
    },
  },
  {
    name: "bridge list",
    synopsis: "",
    summary: "list the capabilities granted to peers and installed from them (admins)",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const { grants, links } = await client.bridges();
      const rows = [
        ...grants.map((g) => [
          g.id,
          "granted",
          g.channel,
          g.grantee,
          g.actions.join(","),
          g.revoked ? "revoked" : Date.parse(g.expires) <= Date.now() ? "expired" : `until ${g.expires}`,
        ]),
        ...links.map((l) => [
          l.id,
          "installed",
          l.channel,
          l.peerInbox,
          l.actions.join(","),
          Date.parse(l.expires) <= Date.now() ? "expired" : `until ${l.expires}`,
        ]),
      ];
      await io.out(
        rows.length ? table(["ID", "KIND", "CHANNEL", "PEER", "ACTIONS", "STATE"], rows) : "No bridges.\n",
      );
    },
  },
  {
    name: "bridge revoke",
    synopsis: "ID",
    summary: "revoke a granted capability, or remove an installed one (admins)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      const { outcome } = await client.revokeBridge(args[0]);
      await io.out(outcome === "revoked" ? `Revoked ${args[0]}.\n` : `Removed ${args[0]}.\n`);
    },
  },
  {
    name: "bridge refusals",
    synopsis: "[--json]",
    summary: "operations bridge peers sent that were refused, and why (admins)",
    arity: [0, 0],
    options: ["json"],
    async run({ options, connect, io }) {
      const client = await connect();
      const refusals = await client.bridgeRefusals();
      if (options.json) return await io.out(JSON.stringify(refusals, null, 2) + "\n");
      const rows = refusals.map((r) => [r.last, r.peer, r.via, r.kind, r.code, String(r.count), r.reason]);
      await io.out(
        rows.length
          ? table(["LAST", "PEER", "VIA", "KIND", "CODE", "TIMES", "REASON"], rows)
          : "No refusals.\n",
      );
    },
  },
  {
    name: "channel state",
    synopsis: "CHANNEL [--json]",
    summary: "the hash of a channel's replicated state (equal on converged bridged replicas)",
    arity: [1, 1],
    options: ["json"],
    async run({ args, options, connect, io }) {
      const client = await connect();
      const state = await client.channelState(args[0]);
      if (options.json) return await io.out(JSON.stringify(state, null, 2) + "\n");
      const vector = Object.entries(state.versionVector).map(([o, n]) => `${o}:${n}`).join(" ");
      await io.out(`${state.hash}  ${state.messages} messages  ${vector}\n`);
    },
  },
];
