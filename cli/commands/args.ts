/** Command-line parsing for `harmony`: words, `--name value`, `--name=value` and flags. */

/** A mistake in how the command was called (exit status 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A refusal or failure worth one line to the user (exit status 1). */
export class CliError extends Error {
  override name = "CliError";
}

/** Every option the CLI knows, and whether it takes a value. */
export const OPTIONS = {
  server: "value",
  identity: "value",
  help: "flag",
  out: "value",
  force: "flag",
  mnemonic: "value",
  topic: "value",
  "members-only": "flag",
  limit: "value",
  before: "value",
  json: "flag",
  ids: "flag",
  expires: "value",
  uses: "value",
  to: "value",
  credential: "value",
  channel: "value",
  actions: "value",
  guardian: "value",
  threshold: "value",
  reason: "value",
  "remove-replies": "flag",
  "rate-limit": "value",
  raid: "value",
  "min-age": "value",
  file: "value",
  cursor: "value",
  name: "value",
} as const;

export type OptionName = keyof typeof OPTIONS;
export type Options = Partial<Record<OptionName, string | true>>;

export interface ParsedArgs {
  words: string[];
  options: Options;
}

const isOption = (name: string): name is OptionName => Object.hasOwn(OPTIONS, name);

/**
 * Splits arguments into words and options. Options may come anywhere;
 * `--` ends them; a lone `-` is a word (stdin).
 */
export function parseArgs(args: string[]): ParsedArgs {
  const words: string[] = [];
  const options: Options = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      words.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      options.help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      if (arg.length > 1 && arg.startsWith("-") && !/^-\d/.test(arg)) {
        throw new UsageError(`unknown option "${arg}" (put a word that starts with "-" after --)`);
      }
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!isOption(name)) throw new UsageError(`unknown option "--${name}"`);
    if (options[name] !== undefined) throw new UsageError(`--${name} is given twice`);
    if (OPTIONS[name] === "flag") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    if (eq !== -1) {
      options[name] = arg.slice(eq + 1);
    } else {
      const value = args[i + 1];
      if (value === undefined || (value.startsWith("--") && value.length > 2)) {
        throw new UsageError(`--${name} needs a value`);
      }
      options[name] = value;
      i++;
    }
  }
  return { words, options };
}

/** A string option's value, if given. */
export function stringOption(options: Options, name: OptionName): string | undefined {
  const value = options[name];
  return typeof value === "string" ? value : undefined;
}

/** A whole-number option's value within [min, max], if given. */
export function integerOption(
  options: Options,
  name: OptionName,
  min: number,
  max: number,
): number | undefined {
  const text = stringOption(options, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}
