/** `harmony upload`: files for messages (docs/cli.md); `harmony post --file` attaches them. */
import type { HarmonyClient } from "../client.ts";
import type { Attachment } from "../../server/documents/signed.ts";
import { CliError, stringOption, UsageError } from "./args.ts";
import type { Command } from "./command.ts";

/** The last segment of a path: the name the file is uploaded under. */
export function baseName(path: string): string {
  return path.split(/[/\\]/).filter(Boolean).pop() ?? "file";
}

/** Uploads a file from disk, streaming it; the server refuses it (413) past the community's limit. */
export async function uploadPath(client: HarmonyClient, channel: string, path: string): Promise<Attachment> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${error instanceof Error ? error.message : error}`);
  }
  try {
    if (!(await file.stat()).isFile) throw new CliError(`${path} is not a file`);
  } catch (error) {
    file.close();
    throw error;
  }
  return await client.upload(channel, file.readable, baseName(path));
}

export const fileCommands: Command[] = [
  {
    name: "upload",
    synopsis: "FILE --channel CHANNEL",
    summary: "upload a file for a message and print its descriptor (JSON) to attach",
    arity: [1, 1],
    options: ["channel"],
    async run({ args, options, connect, io }) {
      const channel = stringOption(options, "channel");
      if (!channel) throw new UsageError("name the channel the file is for: --channel CHANNEL");
      const client = await connect();
      const descriptor = await uploadPath(client, channel, args[0]);
      await io.out(JSON.stringify(descriptor, null, 2) + "\n");
    },
  },
];
