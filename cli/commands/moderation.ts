/**
 * `harmony kick | ban | unban | bans | timeout | slowmode | moderation … | audit log | audit verify`.
 * Every action is signed with the identity's key (a signed Action) and
 * lands in the community's audit log; `audit verify` checks that log here,
 * trusting nothing the server says about it.
 */
import { CliError, integerOption, type Options, stringOption, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { localTime, shortDid, table } from "./io.ts";

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
