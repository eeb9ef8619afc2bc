/** `harmony react | unreact | reply | thread | pin | unpin | pins`: conversation features (docs/cli.md). */
import type { Command } from "./command.ts";
import { localTime, shortDid, textArgument } from "./io.ts";
import { messageId } from "./messages.ts";

export const conversationCommands: Command[] = [
  {
    name: "react",
    synopsis: "MESSAGE_ID EMOJI",
    summary: "sign and add a reaction (one emoji) to a message",
    arity: [2, 2],
    async run({ args, connect, io }) {
      const id = messageId(args[0]);
      const client = await connect();
      const result = await client.react(await client.message(id), args[1]);
      await io.out(result.reactions.map((r) => `${r.emoji} ${r.count}`).join("  ") + "\n");
    },
  },
  {
    name: "unreact",
    synopsis: "MESSAGE_ID EMOJI",
    summary: "sign and take back your reactions with that emoji",
    arity: [2, 2],
    async run({ args, connect, io }) {
      const id = messageId(args[0]);
      const client = await connect();
      const result = await client.unreact(await client.message(id), args[1]);
      await io.out(
        (result.reactions.map((r) => `${r.emoji} ${r.count}`).join("  ") || "(no reactions)") + "\n",
      );
    },
  },
  {
    name: "reply",
    synopsis: "MESSAGE_ID TEXT|-",
    summary: "sign and post a reply quoting a message (- reads it from stdin)",
    arity: [2, 2],
    async run({ args, connect, io }) {
      const id = messageId(args[0]);
      const content = await textArgument(io, args[1], "reply");
      const client = await connect();
      const message = await client.reply(await client.message(id), content);
      await io.out(`${message.id}\n`);
    },
  },
  {
    name: "thread",
    synopsis: "MESSAGE_ID [TEXT|-]",
    summary: "show the thread that branches from a message, or post in it",
    arity: [1, 2],
    async run({ args, connect, io }) {
      const id = messageId(args[0]);
      const client = await connect();
      const root = await client.message(id);
      if (args[1] !== undefined) {
        const content = await textArgument(io, args[1], "thread reply");
        const message = await client.threadReply(root, content);
        await io.out(`${message.id}\n`);
        return;
      }
      const thread = await client.thread(root);
      const names = new Map((await client.members()).map((m) => [m.did, m.name]));
      for (const m of [thread.root, ...thread.replies]) {
        const author = names.get(m.author) ?? shortDid(m.author);
        await io.out(`${m === thread.root ? "" : "  "}${localTime(m.published)}  ${author}: ${m.content}\n`);
      }
    },
  },
  {
    name: "pin",
    synopsis: "MESSAGE_ID",
    summary: "sign and pin a message to its channel (moderators)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      await client.pin(await client.message(messageId(args[0])));
      await io.out("Pinned.\n");
    },
  },
  {
    name: "unpin",
    synopsis: "MESSAGE_ID",
    summary: "sign and unpin a message (moderators)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      await client.unpin(await client.message(messageId(args[0])));
      await io.out("Unpinned.\n");
    },
  },
  {
    name: "pins",
    synopsis: "CHANNEL",
    summary: "list a channel's pinned messages",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const client = await connect();
      const pins = await client.pins(args[0]);
      for (const p of pins) await io.out(`${p.message.id}  ${p.message.content.split("\n")[0]}\n`);
      if (pins.length === 0) await io.err("(nothing is pinned)\n");
    },
  },
];
