/** `harmony channels | channel create | rename | topic | delete`. */
import { stringOption } from "./args.ts";
import type { Command } from "./command.ts";
import { table } from "./io.ts";

export const channelCommands: Command[] = [
  {
    name: "channels",
    synopsis: "",
    summary: "list the channels you can see",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const channels = await client.channels();
      await io.out(table(
        ["NAME", "ID", "VISIBILITY", "TOPIC"],
        channels.map((c) => [`#${c.name}`, c.id, c.visibility, c.topic]),
      ));
    },
  },
  {
    name: "channel create",
    synopsis: "NAME [--topic TEXT] [--members-only]",
    summary: "create a channel (admins)",
    arity: [1, 1],
    options: ["topic", "members-only"],
    async run({ args, options, connect, io }) {
      const client = await connect();
      const channel = await client.createChannel(args[0], {
        topic: stringOption(options, "topic"),
        visibility: options["members-only"] ? "members" : undefined,
      });
      await io.out(`Created #${channel.name} (id ${channel.id}, ${channel.visibility}).\n`);
    },
  },
  {
    name: "channel rename",
    synopsis: "CHANNEL NEW_NAME",
    summary: "rename a channel (admins)",
    arity: [2, 2],
    async run({ args, connect, io }) {
      const client = await connect();
      const channel = await client.updateChannel(args[0], { name: args[1] });
      await io.out(`Renamed to #${channel.name}.\n`);
    },
  },
  {
    name: "channel topic",
    synopsis: "CHANNEL TEXT",
    summary: 'set a channel\'s topic ("" clears it) (admins)',
    arity: [2, 2],
    async run({ args, connect, io }) {
      const client = await connect();
      const channel = await client.updateChannel(args[0], { topic: args[1] });
      await io.out(
        channel.topic ? `#${channel.name}: ${channel.topic}\n` : `Cleared the topic of #${channel.name}.\n`,
      );
    },
  },
  {
    name: "channel delete",
    synopsis: "CHANNEL",
    summary: "delete a channel and all its messages (admins)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      const channel = await client.channel(args[0]);
      await client.deleteChannel(channel.id);
      await io.out(`Deleted #${channel.name} and its messages.\n`);
    },
  },
];
