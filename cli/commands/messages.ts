/** `harmony post | edit | delete | history`: messages, signed with the identity's key. */
import type { MessageJson } from "../client.ts";
import { integerOption, stringOption, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { localTime, shortDid, textArgument } from "./io.ts";
import { uploadPath } from "./files.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A message id as the API wants it: "urn:uuid:…" (a bare UUID is accepted too). */
export function messageId(value: string): string {
  const bare = value.replace(/^urn:uuid:/i, "");
  if (!uuid.test(bare)) throw new UsageError(`"${value}" is not a message id (urn:uuid:…)`);
  return `urn:uuid:${bare.toLowerCase()}`;
}

function historyLine(message: MessageJson, names: Map<string, string>, ids: boolean): string {
  const author = names.get(message.author) ?? shortDid(message.author);
  const edited = message.updated ? " (edited)" : "";
  const [first, ...rest] = message.content.split("\n");
  const head = `${ids ? `${message.id}  ` : ""}${localTime(message.published)}  ${author}: `;
  const indent = " ".repeat([...head].length);
  return [head + first, ...rest.map((line) => indent + line)].join("\n") + edited + "\n";
}

export const messageCommands: Command[] = [
  {
    name: "post",
    synopsis: "CHANNEL [TEXT|-] [--file PATH]",
    summary: "sign and post a message (- reads it from stdin); --file uploads and attaches a file",
    arity: [1, 2],
    options: ["file"],
    async run({ args, options, connect, io }) {
      const path = stringOption(options, "file");
      if (args[1] === undefined && !path) {
        throw new UsageError("missing arguments: give the message's text, or a --file to post");
      }
      const content = args[1] === undefined ? "" : await textArgument(io, args[1], "message");
      const client = await connect();
      const attachments = path ? [await uploadPath(client, args[0], path)] : [];
      const message = await client.post(args[0], content, attachments);
      await io.out(`${message.id}\n`);
    },
  },
  {
    name: "edit",
    synopsis: "MESSAGE_ID TEXT|-",
    summary: "sign and send a new text for your message",
    arity: [2, 2],
    async run({ args, connect, io }) {
      const id = messageId(args[0]);
      const content = await textArgument(io, args[1], "new text");
      const client = await connect();
      const message = await client.edit(await client.message(id), content);
      await io.out(`Edited ${message.id}.\n`);
    },
  },
  {
    name: "delete",
    synopsis: "MESSAGE_ID",
    summary: "sign and send the deletion of a message (yours, or any as an admin)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const id = messageId(args[0]);
      const client = await connect();
      const message = await client.delete(await client.message(id));
      await io.out(`Deleted ${message.id}.\n`);
    },
  },
  {
    name: "history",
    synopsis: "CHANNEL [--limit N] [--before CURSOR] [--json] [--ids]",
    summary: "show a channel's messages, oldest first (--json prints the API's JSON)",
    arity: [1, 1],
    options: ["limit", "before", "json", "ids"],
    async run({ args, options, connect, io }) {
      const limit = integerOption(options, "limit", 1, 200);
      const before = stringOption(options, "before");
      const client = await connect();
      const page = await client.history(args[0], { limit, before });
      if (options.json) {
        await io.out(JSON.stringify(page, null, 2) + "\n");
        return;
      }
      const members = await client.members();
      const names = new Map(members.map((m) => [m.did, m.name]));
      await io.out(page.messages.map((m) => historyLine(m, names, options.ids === true)).join(""));
      if (page.before) {
        await io.err(`(older messages: harmony history ${args[0]} --before ${page.before})\n`);
      }
    },
  },
];
