/**
 * `harmony roles | role create | role assign | role remove | owner | delegate | capabilities |
 * capability revoke | bots | bot register | bot remove`.
 */
import { stringOption, UsageError } from "./args.ts";
import { type Command, readIdentityFile } from "./command.ts";
import { table } from "./io.ts";

const short = (did: string | null) => (did ? `${did.replace(/^did:key:/, "").slice(0, 12)}…` : "—");

export const authorityCommands: Command[] = [
  {
    name: "roles",
    synopsis: "",
    summary: "list the community's roles and the actions each allows",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const roles = await client.roles();
      await io.out(table(["ROLE", "ACTIONS"], roles.map((r) => [r.slug, r.actions.join(",")])));
    },
  },
  {
    name: "role create",
    synopsis: "NAME --actions a,b,c",
    summary: "define a role (needs manage-roles, and every action in it)",
    arity: [1, 1],
    options: ["actions"],
    async run({ args, options, connect, io }) {
      const actions = stringOption(options, "actions");
      if (!actions) throw new UsageError("role create needs --actions");
      const client = await connect();
      const role = await client.createRole(args[0], actions.split(",").map((a) => a.trim()).filter(Boolean));
      await io.out(`Created the role ${role.slug}: ${role.actions.join(", ")}.\n`);
    },
  },
  {
    name: "role assign",
    synopsis: "DID ROLE",
    summary: "give a member a role: signs the delegation of its actions from your own capability",
    arity: [2, 2],
    async run({ args, connect, io }) {
      const client = await connect();
      const held = await client.assignRole(args[0], args[1]);
      await io.out(`Assigned ${args[1]} to ${args[0]} (capability ${held.id}).\n`);
    },
  },
  {
    name: "role remove",
    synopsis: "DID ROLE",
    summary: "take a role back (its delegator, or someone who outranks the member)",
    arity: [2, 2],
    async run({ args, connect, io }) {
      const client = await connect();
      await client.removeRole(args[0], args[1]);
      await io.out(`Removed ${args[1]} from ${args[0]}.\n`);
    },
  },
  {
    name: "owner",
    synopsis: "DID",
    summary: "hand the community over (the owner); you become an admin",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      await client.transferOwnership(args[0]);
      await io.out(`${args[0]} now owns the community.\n`);
    },
  },
  {
    name: "delegate",
    synopsis: "DID --actions a,b [--channel CHANNEL] [--expires DATE]",
    summary:
      "let a member or your bot act for you: some of your actions, on a channel or everywhere, until DATE",
    arity: [1, 1],
    options: ["actions", "channel", "expires"],
    async run({ args, options, connect, io }) {
      const actions = stringOption(options, "actions");
      if (!actions) throw new UsageError("delegate needs --actions");
      const expires = stringOption(options, "expires");
      if (expires && Number.isNaN(Date.parse(expires))) throw new UsageError(`"${expires}" is not a date`);
      const client = await connect();
      const held = await client.delegate(args[0], actions.split(",").map((a) => a.trim()).filter(Boolean), {
        channel: stringOption(options, "channel"),
        expires: expires ? new Date(expires).toISOString() : undefined,
      });
      await io.out(
        `Delegated ${held.actions.join(", ")} to ${args[0]} until ${held.expires} (capability ${held.id}).\n`,
      );
    },
  },
  {
    name: "capabilities",
    synopsis: "[DID] [--json]",
    summary: "the capabilities in force (yours, or a member's) with their chains, and those delegated",
    arity: [0, 1],
    options: ["json"],
    async run({ args, options, connect, io }) {
      const client = await connect();
      const report = args[0] ? await client.memberCapabilities(args[0]) : await client.capabilities();
      if (options.json) return await io.out(JSON.stringify(report, null, 2) + "\n");
      await io.out(table(
        ["ID", "ACTIONS", "TARGET", "EXPIRES", "CHAIN"],
        report.held.map((c) => [
          c.id,
          c.actions.join(","),
          c.target,
          c.expires,
          c.chain.slice(1).map((l) => short(l.delegatedBy)).join(" → "),
        ]),
      ));
      if (report.delegated.length) {
        await io.out(
          "\nDelegated:\n" + table(
            ["ID", "TO", "ACTIONS", "STATE"],
            report.delegated.map((
              c,
            ) => [c.id, c.holder, c.actions.join(","), c.revoked ? "revoked" : `until ${c.expires}`]),
          ),
        );
      }
    },
  },
  {
    name: "capability revoke",
    synopsis: "ID",
    summary: "revoke a capability you delegated or hold (or of a member you outrank)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      await client.revokeCapability(args[0]);
      await io.out(`Revoked ${args[0]}.\n`);
    },
  },
  {
    name: "bots",
    synopsis: "",
    summary: "list the bots members registered, and whose each is",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const bots = await client.bots();
      await io.out(table(["BOT", "NAME", "OWNER"], bots.map((b) => [b.did, b.name, b.ownerName ?? b.owner])));
    },
  },
  {
    name: "bot register",
    synopsis: "BOT-IDENTITY-FILE --name NAME",
    summary: "register a bot as yours (its key signs its consent); then delegate to it what it may do",
    arity: [1, 1],
    options: ["name"],
    async run({ args, options, connect, io }) {
      const name = stringOption(options, "name");
      if (!name) throw new UsageError("bot register needs --name");
      const { signer } = await readIdentityFile(args[0]);
      const client = await connect();
      const bot = await client.registerBot(signer, name);
      await io.out(`Registered ${bot.did} as your bot "${bot.name}".\n`);
    },
  },
  {
    name: "bot remove",
    synopsis: "DID",
    summary: "unregister a bot (yours, or a bot of a member you outrank, with kick); what it held is revoked",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      await client.unregisterBot(args[0]);
      await io.out(`Removed the bot ${args[0]}.\n`);
    },
  },
];
