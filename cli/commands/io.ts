/** Where the CLI reads and writes: the real terminal, or anything shaped like it. */
import { CliError } from "./args.ts";

export interface Io {
  /** Writes text to standard output. */
  out(text: string): Promise<void>;
  /** Writes text to standard error. */
  err(text: string): Promise<void>;
  /** Standard output as a stream, for large downloads; left open afterwards. */
  stdout: WritableStream<Uint8Array>;
  /** Everything on standard input, or one line when it is a terminal. */
  readInput(prompt: string): Promise<string>;
  env(name: string): string | undefined;
}

const encoder = new TextEncoder();

async function writeAll(writer: { write(p: Uint8Array): Promise<number> }, text: string): Promise<void> {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(await writer.write(bytes));
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text.split("\n")[0];
}

export function terminalIo(): Io {
  return {
    out: (text) => writeAll(Deno.stdout, text),
    err: (text) => writeAll(Deno.stderr, text),
    stdout: Deno.stdout.writable,
    async readInput(prompt) {
      if (Deno.stdin.isTerminal()) {
        await writeAll(Deno.stderr, prompt);
        return await readLine(Deno.stdin.readable);
      }
      return await readAll(Deno.stdin.readable);
    },
    env: (name) => Deno.env.get(name),
  };
}

/** Text given as an argument, or read from stdin when it is "-". */
export async function textArgument(io: Io, value: string, what: string): Promise<string> {
  if (value !== "-") return value;
  const text = (await io.readInput(`Type the ${what}, then press Enter:\n`)).replace(/\r?\n$/, "");
  if (text.trim() === "") throw new CliError(`no ${what} on standard input`);
  return text;
}

/** Lines of columns, each padded to its widest cell. */
export function table(header: string[], rows: string[][]): string {
  const width = (s: string) => [...s].length;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell + " ".repeat(widths[i] - width(cell)))
      .join("  ").trimEnd() + "\n";
  return line(header) + rows.map(line).join("");
}

/** "did:key:z6MkpTHR…Ed6x": enough to tell people apart. */
export function shortDid(did: string): string {
  const key = did.replace(/^did:key:/, "");
  return key.length > 14 ? `${key.slice(0, 8)}…${key.slice(-4)}` : key;
}

/** Local time as "2026-01-31 14:05". */
export function localTime(iso: string | null): string {
  if (!iso) return "never";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${
    two(d.getMinutes())
  }`;
}
