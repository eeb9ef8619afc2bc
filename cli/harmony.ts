/**
 * `harmony`: the command-line client (docs/cli.md). Every command that
 * talks to a server signs in with the identity file's key first.
 *
 *   deno task harmony identity create --out me.json
 *   deno task harmony --server https://chat.example --identity me.json post general "hello"
 *
 * Exit status: 0 done, 1 refused or failed, 2 called wrongly.
 */
import { ApiError, ServerUnreachableError } from "./client.ts";
import { CliError, type OptionName, parseArgs, UsageError } from "./commands/args.ts";
import { channelCommands } from "./commands/channels.ts";
import { type Command, connect } from "./commands/command.ts";
import { communityCommands } from "./commands/community.ts";
import { identityCommands } from "./commands/identity.ts";
import { type Io, terminalIo } from "./commands/io.ts";
import { messageCommands } from "./commands/messages.ts";
import { bridgeCommands } from "./commands/bridges.ts";
import { recoveryCommands } from "./commands/recovery.ts";
import { authorityCommands } from "./commands/authority.ts";
import { credentialCommands } from "./commands/credentials.ts";
import { moderationCommands } from "./commands/moderation.ts";
import { dmCommands } from "./commands/dm.ts";
import { fileCommands } from "./commands/files.ts";
import { conversationCommands } from "./commands/conversation.ts";
import { searchCommands } from "./commands/search.ts";

export const commands: Command[] = [
  ...identityCommands,
  ...communityCommands,
  ...channelCommands,
  ...messageCommands,
  ...bridgeCommands,
  ...recoveryCommands,
  ...authorityCommands,
  ...credentialCommands,
  ...moderationCommands,
  ...dmCommands,
  ...fileCommands,
  ...conversationCommands,
  ...searchCommands,
];

const GLOBAL_OPTIONS: OptionName[] = ["server", "identity", "help"];
const groups = new Set(commands.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0]));

export function usage(): string {
  const lines = commands.map((c) => `  ${c.name} ${c.synopsis}`.trimEnd() + `\n      ${c.summary}`);
  return `Harmony command-line client

Usage: harmony [--server URL] [--identity FILE] COMMAND [ARGUMENTS]

Commands:
${lines.join("\n")}

Options for every command that talks to a server:
  --server URL      the instance (or set HARMONY_SERVER); claim and join also take it from a link
  --identity FILE   the identity file to sign with (or set HARMONY_IDENTITY)
  --help, -h        show this text

Exit status: 0 done, 1 refused by the server or failed, 2 called wrongly.
`;
}

function commandUsage(command: Command): string {
  return `Usage: harmony ${command.name} ${command.synopsis}`.trimEnd() + `\n\n${command.summary}\n`;
}

/** Finds the command the words name; the rest are its arguments. */
function findCommand(words: string[]): { command: Command; args: string[] } {
  const [first, second] = words;
  if (groups.has(first)) {
    const subcommands = commands.filter((c) => c.name.startsWith(`${first} `)).map((c) =>
      c.name.split(" ")[1]
    );
    const command = commands.find((c) => c.name === `${first} ${second}`);
    if (!command) {
      const what = second === undefined ? "needs a subcommand" : `has no subcommand "${second}"`;
      throw new UsageError(`"${first}" ${what}; try one of: ${subcommands.join(", ")}`);
    }
    return { command, args: words.slice(2) };
  }
  const command = commands.find((c) => c.name === first);
  if (!command) throw new UsageError(`unknown command "${first}"; run "harmony --help" for the list`);
  return { command, args: words.slice(1) };
}

/** Runs one invocation; returns the exit status. */
export async function run(argv: string[], io: Io): Promise<number> {
  try {
    const { words, options } = parseArgs(argv);
    if (words.length === 0) {
      await (options.help ? io.out(usage()) : io.err(usage()));
      return options.help ? 0 : 2;
    }
    const { command, args } = findCommand(words);
    if (options.help) {
      await io.out(commandUsage(command));
      return 0;
    }
    const allowed = new Set([...GLOBAL_OPTIONS, ...(command.options ?? [])]);
    for (const name of Object.keys(options)) {
      if (!allowed.has(name as OptionName)) {
        throw new UsageError(`"${command.name}" does not take --${name}`);
      }
    }
    const [fewest, most] = command.arity;
    if (args.length < fewest) {
      throw new UsageError(`missing arguments; usage: harmony ${command.name} ${command.synopsis}`);
    }
    if (args.length > most) {
      throw new UsageError(
        `too many arguments (quote text with spaces); usage: harmony ${command.name} ${command.synopsis}`
          .trimEnd(),
      );
    }
    await command.run({ args, options, io, connect: (fallback) => connect(io, options, fallback) });
    return 0;
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return 141;
    const status = error instanceof UsageError ? 2 : 1;
    await io.err(`harmony: ${explain(error)}\n`).catch(() => {});
    return status;
  }
}

/** One line saying what went wrong. */
function explain(error: unknown): string {
  let text: string;
  if (error instanceof UsageError || error instanceof CliError || error instanceof ApiError) {
    text = error.message;
  } else if (error instanceof ServerUnreachableError) {
    text = `${error.message} (is the server running, and is --server right?)`;
  } else if (error instanceof Error) {
    text = error.message || error.name;
  } else {
    text = String(error);
  }
  return text.replace(/\s*\n\s*/g, " ").trim();
}

if (import.meta.main) {
  Deno.exit(await run(Deno.args, terminalIo()));
}
