/** `harmony identity …`: create, restore and show the key file a member signs with. */
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { generateMnemonic, isValidMnemonic, normalizeMnemonic } from "../../server/crypto/derive.ts";
import { type IdentityFile, identityFileFromMnemonic } from "../client.ts";
import { CliError, stringOption, UsageError } from "./args.ts";
import { type Command, readIdentityFile } from "./command.ts";

const WORD_COUNTS = [12, 15, 18, 21, 24];
const known = new Set(wordlist);

/** Checks a recovery phrase, naming what is wrong with it; returns it normalised. */
export function checkMnemonic(text: string): string {
  const mnemonic = normalizeMnemonic(text);
  const words = mnemonic === "" ? [] : mnemonic.split(" ");
  if (words.length === 0) throw new CliError("the recovery phrase is empty");
  const unknown = words.findIndex((word) => !known.has(word));
  if (unknown !== -1) {
    throw new CliError(
      `word ${unknown + 1} ("${words[unknown]}") is not in the BIP-39 English word list; check its spelling`,
    );
  }
  if (!WORD_COUNTS.includes(words.length)) {
    throw new CliError(`a recovery phrase has 12, 15, 18, 21 or 24 words; this one has ${words.length}`);
  }
  if (!isValidMnemonic(mnemonic)) {
    throw new CliError(
      "the recovery phrase's checksum does not match: a word is wrong or the words are out of order",
    );
  }
  return mnemonic;
}

/** Writes the file readable by its owner only; never replaces a file unless `force`. */
async function writeIdentityFile(path: string, file: IdentityFile, force: boolean): Promise<void> {
  const text = JSON.stringify(file, null, 2) + "\n";
  try {
    if (!force) {
      await Deno.writeTextFile(path, text, { createNew: true, mode: 0o600 });
      return;
    }
    // Write beside it, then rename over it: an interrupted write never
    // leaves a half-written identity behind.
    const temporary = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temporary, text, { createNew: true, mode: 0o600 });
    try {
      await Deno.chmod(temporary, 0o600);
      await Deno.rename(temporary, path);
    } catch (error) {
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new CliError(`${path} already exists; pass --force to replace it (its identity is then lost)`);
    }
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

function outPath(options: { out?: string | true }): string {
  const out = stringOption(options, "out");
  if (!out) throw new UsageError("say where to write the identity file with --out FILE");
  return out;
}

function phraseLines(mnemonic: string): string {
  const words = mnemonic.split(" ");
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 6) lines.push("  " + words.slice(i, i + 6).join(" "));
  return lines.join("\n");
}

export const identityCommands: Command[] = [
  {
    name: "identity create",
    synopsis: "--out FILE [--force]",
    summary: "make a new identity (24-word recovery phrase) and write its key file",
    arity: [0, 0],
    options: ["out", "force"],
    async run({ options, io }) {
      const path = outPath(options);
      const mnemonic = generateMnemonic();
      const file = await identityFileFromMnemonic(mnemonic);
      await writeIdentityFile(path, file, options.force === true);
      await io.out(
        `Wrote ${path} (readable only by you).\n` +
          `DID: ${file.did}\n\n` +
          `Your recovery phrase (24 words):\n\n${phraseLines(mnemonic)}\n\n` +
          "WRITE THESE WORDS DOWN, in order, and keep them somewhere safe and offline.\n" +
          "They are the only way to restore this identity if the file is lost, and anyone\n" +
          "who has them can act as you. Nobody, not even the server's admin, can recover them.\n",
      );
    },
  },
  {
    name: "identity restore",
    synopsis: '--out FILE [--mnemonic "WORDS"] [--force]',
    summary: "rebuild the key file from a recovery phrase (read from stdin without --mnemonic)",
    arity: [0, 0],
    options: ["out", "force", "mnemonic"],
    async run({ options, io }) {
      const path = outPath(options);
      const text = stringOption(options, "mnemonic") ??
        await io.readInput("Type your recovery phrase, then press Enter:\n");
      const file = await identityFileFromMnemonic(checkMnemonic(text));
      await writeIdentityFile(path, file, options.force === true);
      await io.out(`Wrote ${path} (readable only by you).\nDID: ${file.did}\n`);
    },
  },
  {
    name: "identity show",
    synopsis: "[--identity FILE]",
    summary: "print the DID of an identity file",
    arity: [0, 0],
    async run({ options, io }) {
      const path = stringOption(options, "identity") ?? (io.env("HARMONY_IDENTITY") || undefined);
      if (!path) throw new UsageError("which identity? pass --identity FILE or set HARMONY_IDENTITY");
      const { file } = await readIdentityFile(path);
      await io.out(`${file.did}\n`);
    },
  },
];
