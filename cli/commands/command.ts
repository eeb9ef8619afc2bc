/** What a command is, and what it gets to work with. */
import type { KeySigner } from "../../server/crypto/signer.ts";
import { HarmonyClient, type IdentityFile, signerFromIdentityFile } from "../client.ts";
import { CliError, type OptionName, type Options, stringOption, UsageError } from "./args.ts";
import type { Io } from "./io.ts";

export interface Context {
  /** The words after the command's name. */
  args: string[];
  options: Options;
  io: Io;
  /**
   * A client signed in to the server (--server, else `fallbackServer`,
   * else HARMONY_SERVER) as the identity (--identity or HARMONY_IDENTITY).
   */
  connect(fallbackServer?: string): Promise<HarmonyClient>;
}

export interface Command {
  /** One or two words: "post", "channel create". */
  name: string;
  /** The arguments after the name, as shown in the usage text. */
  synopsis: string;
  summary: string;
  /** Fewest and most words after the name. */
  arity: [number, number];
  /** Options besides the global --server, --identity and --help. */
  options?: OptionName[];
  run(context: Context): Promise<void>;
}

/** The server's origin from an http(s) URL; anything else is a usage error. */
export function serverOrigin(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${source} must be an http(s) URL, not "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${source} must be an http(s) URL, not "${text}"`);
  }
  return url.origin;
}

/** Reads and checks an identity file; every problem becomes one clear sentence. */
export async function readIdentityFile(path: string): Promise<{ file: IdentityFile; signer: KeySigner }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(
        `there is no identity file at ${path}; create one with "harmony identity create --out ${path}"`,
      );
    }
    throw new CliError(`cannot read the identity file ${path}: ${(error as Error).message}`);
  }
  try {
    const file = JSON.parse(text) as IdentityFile;
    return { file, signer: await signerFromIdentityFile(file) };
  } catch (error) {
    const reason = error instanceof SyntaxError ? "not a Harmony identity file" : (error as Error).message;
    throw new CliError(`${path} is unusable: ${reason}`);
  }
}

export async function connect(io: Io, options: Options, fallbackServer?: string): Promise<HarmonyClient> {
  const flag = stringOption(options, "server");
  const fromEnv = io.env("HARMONY_SERVER") || undefined;
  const server = flag !== undefined
    ? serverOrigin(flag, "--server")
    : fallbackServer ?? (fromEnv !== undefined ? serverOrigin(fromEnv, "HARMONY_SERVER") : undefined);
  if (!server) throw new UsageError("which server? pass --server URL or set HARMONY_SERVER");
  const path = stringOption(options, "identity") ?? (io.env("HARMONY_IDENTITY") || undefined);
  if (!path) throw new UsageError("which identity? pass --identity FILE or set HARMONY_IDENTITY");
  const { signer } = await readIdentityFile(path);
  const client = new HarmonyClient(server, signer);
  await client.signIn();
  return client;
}

/** The last path segment after `/<segment>/` when `value` is such a URL, with the URL's origin. */
export function fromLink(value: string, segment: string): { value: string; origin?: string } {
  if (!/^https?:\/\//i.test(value)) return { value };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`"${value}" is not a valid URL`);
  }
  const match = new RegExp(`/${segment}/([^/]+)/?$`).exec(url.pathname);
  if (!match) throw new UsageError(`"${value}" is not a /${segment}/ link`);
  return { value: decodeURIComponent(match[1]), origin: url.origin };
}
