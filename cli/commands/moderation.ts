/**
 * `harmony kick | ban | unban | bans | timeout | slowmode | moderation … | fediverse … | audit log | audit verify`.
 * Every action is signed with the identity's key (a signed Action) and
 * lands in the community's audit log; `audit verify` checks that log here,
 * trusting nothing the server says about it.
 */
import { CliError, integerOption, type Options, stringOption, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { localTime, shortDid, table } from "./io.ts";
import { actorUrl, type FediverseReplyJson, serverOrigin } from "../api/moderation.ts";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "90", "30s", "10m", "2h", "1d", "1w"; "0" or "off" is zero. */
export function parseDuration(text: string, what: string): number {
  if (text === "off") return 0;
  const match = /^(\d+)([smhdw]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`${what} must be a duration such as 30s, 10m, 2h or 1d, not "${text}"`);
  return Number(match[1]) * UNITS[match[2] || "s"];
}

/** "5/10s": 5 per 10 seconds; "off" is null. */
function parseRate(text: string, what: string): { count: number; seconds: number } | null {
  if (text === "off" || text === "0") return null;
  const match = /^(\d+)\/(.+)$/.exec(text);
  if (!match || Number(match[1]) < 1) {
    throw new UsageError(`${what} must look like 5/10s (or off), not "${text}"`);
  }
  return { count: Number(match[1]), seconds: parseDuration(match[2], what) };
}

function human(seconds: number): string {
  if (seconds <= 0) return "off";
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

function reason(options: Options): string | undefined {
  return stringOption(options, "reason");
}

/** A usage error, not a stack trace, for an account URL or server host the client cannot read. */
function checked<T>(parse: (text: string) => T, text: string): T {
  try {
    return parse(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const hostOf = (origin: string) => new URL(origin).host;

function blockOptions(options: Options) {
  return { reason: reason(options), removeReplies: options["remove-replies"] === true };
}

function blocked(result: { followersDropped?: unknown; repliesRemoved?: unknown; entry: { seq: number } }) {
  const parts = [`${result.followersDropped} follower(s) dropped`];
  if (Number(result.repliesRemoved) > 0) parts.push(`${result.repliesRemoved} reply(ies) removed`);
  return `${parts.join(", ")} (log entry #${result.entry.seq})`;
}

/** `fediverse …`: replies from the fediverse and blocked accounts and servers. */
const fediverseCommands: Command[] = [
  {
    name: "fediverse replies",
    synopsis: "[--json]",
    summary: "the newest replies from the fediverse you may remove, and the removed ones",
    arity: [0, 0],
    options: ["json"],
    async run({ options, connect, io }) {
      const client = await connect();
      const listed = await client.fediverseReplies();
      if (options.json) return await io.out(JSON.stringify(listed, null, 2) + "\n");
      const row = (state: string, r: FediverseReplyJson) => [
        state,
        localTime(state ? r.removedAt ?? r.published : r.published),
        `#${r.channel.name}`,
        r.handle ?? r.authorName ?? r.author,
        r.id,
        r.content.length > 60 ? `${r.content.slice(0, 59)}…` : r.content,
      ];
      await io.out(table(
        ["STATE", "TIME", "CHANNEL", "AUTHOR", "ID", "TEXT"],
        [...listed.replies.map((r) => row("", r)), ...listed.removed.map((r) => row("removed", r))],
      ));
    },
  },
  {
    name: "fediverse remove",
    synopsis: "REPLY_ID [--reason TEXT]",
    summary: "remove a reply from the fediverse (REPLY_ID: its URL) from its channel; followers are told",
    arity: [1, 1],
    options: ["reason"],
    async run({ args, options, connect, io }) {
      const client = await connect();
      const result = await client.removeReply(args[0], reason(options));
      await io.out(`Removed the reply by ${result.author} (log entry #${result.entry.seq}).\n`);
    },
  },
  {
    name: "fediverse restore",
    synopsis: "REPLY_ID",
    summary: "bring a removed reply back as it was",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      const result = await client.restoreReply(args[0]);
      await io.out(`Restored the reply by ${result.author} (log entry #${result.entry.seq}).\n`);
    },
  },
  {
    name: "fediverse block",
    synopsis: "ACTOR_URL [--reason TEXT] [--remove-replies]",
    summary:
      "block a fediverse account: its follows end, nothing it sends is accepted, nothing is sent to it",
    arity: [1, 1],
    options: ["reason", "remove-replies"],
    async run({ args, options, connect, io }) {
      const actor = checked(actorUrl, args[0]);
      const client = await connect();
      const result = await client.blockActor(actor, blockOptions(options));
      await io.out(`Blocked ${actor}: ${blocked(result)}.\n`);
    },
  },
  {
    name: "fediverse unblock",
    synopsis: "ACTOR_URL",
    summary: "lift an account's block (it may follow and reply again)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const actor = checked(actorUrl, args[0]);
      const client = await connect();
      const result = await client.unblockActor(actor);
      await io.out(`Unblocked ${actor} (log entry #${result.entry.seq}).\n`);
    },
  },
  {
    name: "fediverse block-server",
    synopsis: "HOST [--reason TEXT] [--remove-replies]",
    summary: "block a whole fediverse server and its subdomains, as block does for one account",
    arity: [1, 1],
    options: ["reason", "remove-replies"],
    async run({ args, options, connect, io }) {
      const origin = checked(serverOrigin, args[0]);
      const client = await connect();
      const result = await client.blockServer(origin, blockOptions(options));
      await io.out(`Blocked ${hostOf(origin)}: ${blocked(result)}.\n`);
    },
  },
  {
    name: "fediverse unblock-server",
    synopsis: "HOST",
    summary: "lift a server's block",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const origin = checked(serverOrigin, args[0]);
      const client = await connect();
      const result = await client.unblockServer(origin);
      await io.out(`Unblocked ${hostOf(origin)} (log entry #${result.entry.seq}).\n`);
    },
  },
  {
    name: "fediverse blocks",
    synopsis: "[--json]",
    summary: "the blocked accounts and servers you may see (block-actor, block-server)",
    arity: [0, 0],
    options: ["json"],
    async run({ options, connect, io }) {
      const client = await connect();
      const { blockedActors, blockedServers } = await client.moderation();
      if (blockedActors === null && blockedServers === null) {
        throw new CliError("you hold no capability to block fediverse accounts or servers");
      }
      const blocks = [...blockedActors ?? [], ...blockedServers ?? []];
      if (options.json) return await io.out(JSON.stringify(blocks, null, 2) + "\n");
      await io.out(table(
        ["BLOCKED", "KIND", "SINCE", "BY", "REASON"],
        blocks.map((b) => [
          b.kind === "server" ? hostOf(b.target) : b.target,
          b.kind === "server" ? "server" : "account",
          localTime(b.at),
          shortDid(b.by),
          b.reason ?? "",
        ]),
      ));
    },
  },
];

export const moderationCommands: Command[] = [
  {
    name: "kick",
    synopsis: "DID [--reason TEXT]",
    summary: "remove a member you outrank (they may join again); revokes their capabilities and credentials",
    arity: [1, 1],
    options: ["reason"],
    async run({ args, options, connect, io }) {
      const client = await connect();
      const result = await client.kick(args[0], reason(options));
      await io.out(`Kicked ${args[0]} (log entry #${result.entry.seq}).\n`);
    },
  },
  {
    name: "ban",
    synopsis: "DID [--reason TEXT]",
    summary: "ban a DID: removed if a member, refused when it joins, posts or arrives through a bridge",
    arity: [1, 1],
    options: ["reason"],
    async run({ args, options, connect, io }) {
      const client = await connect();
      const result = await client.ban(args[0], reason(options));
      await io.out(`Banned ${args[0]} (log entry #${result.entry.seq}).\n`);
    },
  },
  {
    name: "unban",
    synopsis: "DID",
    summary: "lift a ban",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      const result = await client.unban(args[0]);
      await io.out(`Unbanned ${args[0]} (log entry #${result.entry.seq}).\n`);
    },
  },
  {
    name: "bans",
    synopsis: "[--json]",
    summary: "list the banned DIDs",
    arity: [0, 0],
    options: ["json"],
    async run({ options, connect, io }) {
      const client = await connect();
      const { bans } = await client.moderation();
      if (bans === null) throw new CliError("you hold no capability to ban, so you cannot see the bans");
      if (options.json) return await io.out(JSON.stringify(bans, null, 2) + "\n");
      await io.out(table(
        ["DID", "BANNED", "BY", "REASON"],
        bans.map((b) => [b.did, localTime(b.at), shortDid(b.by), b.reason ?? ""]),
      ));
    },
  },
  {
    name: "timeout",
    synopsis: "DID DURATION [--reason TEXT]",
    summary:
      "stop a member you outrank from posting, editing and reacting for DURATION (10m, 1h, 1d; 0 lifts it)",
    arity: [2, 2],
    options: ["reason"],
    async run({ args, options, connect, io }) {
      const seconds = parseDuration(args[1], "the duration");
      const client = await connect();
      const result = await client.timeout(args[0], seconds, reason(options));
      await io.out(
        seconds
          ? `Timed ${args[0]} out until ${
            localTime(String(result.until))
          } (log entry #${result.entry.seq}).\n`
          : `Lifted ${args[0]}'s timeout (log entry #${result.entry.seq}).\n`,
      );
    },
  },
  {
    name: "slowmode",
    synopsis: "CHANNEL DURATION",
    summary: "set slow mode: how long a member waits between posts in the channel (0 or off: none)",
    arity: [2, 2],
    async run({ args, connect, io }) {
      const seconds = parseDuration(args[1], "the duration");
      const client = await connect();
      await client.setSlowMode(args[0], seconds);
      await io.out(
        seconds ? `Slow mode in #${args[0].replace(/^#/, "")}: ${human(seconds)}.\n` : "Slow mode off.\n",
      );
    },
  },
  {
    name: "moderation show",
    synopsis: "[--json]",
    summary: "the moderation settings, join lock, slow modes, timeouts and alerts",
    arity: [0, 0],
    options: ["json"],
    async run({ options, connect, io }) {
      const client = await connect();
      const m = await client.moderation();
      if (options.json) return await io.out(JSON.stringify(m, null, 2) + "\n");
      const s = m.settings;
      const lines = [
        `Rate limit:       ${s.rateLimit ? `${s.rateLimit.messages}/${human(s.rateLimit.seconds)}` : "off"}`,
        `Raid protection:  ${
          s.raidProtection
            ? `lock after ${s.raidProtection.joins} joins in ${human(s.raidProtection.seconds)}`
            : "off"
        }`,
        `Minimum DID age:  ${human(s.minimumDidAge)}`,
        `Joining:          ${m.joinsLocked ? `LOCKED since ${localTime(m.joinsLocked.at)}` : "open"}`,
        `Slow mode:        ${m.slowMode.map((c) => `#${c.name} ${human(c.seconds)}`).join(", ") || "none"}`,
      ];
      if (m.timeouts?.length) {
        lines.push(
          `Timed out:        ${
            m.timeouts.map((t) => `${shortDid(t.did)} until ${localTime(t.until)}`).join(", ")
          }`,
        );
      }
      const open = m.alerts.filter((a) => !a.resolved);
      for (const a of open) lines.push(`ALERT (${a.kind}, ${localTime(a.at)}): ${a.summary}`);
      await io.out(lines.join("\n") + "\n");
    },
  },
  {
    name: "moderation set",
    synopsis: "[--rate-limit N/DURATION|off] [--raid N/DURATION|off] [--min-age DURATION]",
    summary:
      "change the community's limits: posts per member, joins before raid lock, a new DID's waiting time",
    arity: [0, 0],
    options: ["rate-limit", "raid", "min-age"],
    async run({ options, connect, io }) {
      const changes: Record<string, unknown> = {};
      const rate = stringOption(options, "rate-limit");
      const raid = stringOption(options, "raid");
      const age = stringOption(options, "min-age");
      if (rate !== undefined) {
        const r = parseRate(rate, "--rate-limit");
        changes.rateLimit = r ? { messages: r.count, seconds: r.seconds } : null;
      }
      if (raid !== undefined) {
        const r = parseRate(raid, "--raid");
        changes.raidProtection = r ? { joins: r.count, seconds: r.seconds } : null;
      }
      if (age !== undefined) changes.minimumDidAge = parseDuration(age, "--min-age");
      if (Object.keys(changes).length === 0) {
        throw new UsageError("name at least one of --rate-limit, --raid, --min-age");
      }
      const client = await connect();
      const result = await client.moderationSettings(changes);
      await io.out(`Saved (log entry #${result.entry.seq}).\n`);
    },
  },
  {
    name: "moderation lock",
    synopsis: "",
    summary: "lock joining now (admins)",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      await client.lockJoins();
      await io.out("Joining is locked.\n");
    },
  },
  {
    name: "moderation unlock",
    synopsis: "",
    summary: "unlock joining after a raid lock (admins); answers the raid alerts",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      await client.unlockJoins();
      await io.out("Joining is open again.\n");
    },
  },
  ...fediverseCommands,
  {
    name: "audit log",
    synopsis: "[--limit N] [--json]",
    summary: "the moderation log (the last N entries; all with --json)",
    arity: [0, 0],
    options: ["limit", "json"],
    async run({ options, connect, io }) {
      const limit = integerOption(options, "limit", 1, 100_000) ?? 50;
      const client = await connect();
      const entries = await client.auditLog();
      if (options.json) return await io.out(JSON.stringify(entries, null, 2) + "\n");
      await io.out(table(
        ["#", "TIME", "ACTOR", "ACTION", "TARGET", "ARGUMENTS"],
        entries.slice(-limit).map((e) => [
          String(e.seq),
          localTime(e.at),
          shortDid(e.actor),
          e.action,
          e.target.startsWith("did:key:") ? shortDid(e.target) : e.target,
          e.arguments ? JSON.stringify(e.arguments) : "",
        ]),
      ));
    },
  },
  {
    name: "audit verify",
    synopsis: "",
    summary: "fetch the whole moderation log and check its hash chain and every signature here",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const result = await client.verifyAudit();
      if (!result.ok) {
        throw new CliError(
          `the moderation log fails at entry #${result.failure!.seq}: ${result.failure!.reason}`,
        );
      }
      await io.out(
        `The moderation log verifies: ${result.entries} entries, chain intact, every signature valid.\n` +
          (result.head ? `Head: #${result.head.seq} ${result.head.hash}\n` : ""),
      );
    },
  },
];
