/**
 * N-Quads (https://www.w3.org/TR/n-quads/) serialisation and parsing.
 * The writer emits pure ASCII: characters outside printable ASCII are
 * written as UCHAR escapes (\uXXXX, \UXXXXXXXX), quotes, backslashes and
 * line breaks as ECHAR escapes, so any export survives any transport.
 */
import { blank, iri, literal, type Quad, type SubjectTerm, type Term } from "./terms.ts";

function uchar(codePoint: number): string {
  return codePoint <= 0xffff
    ? `\\u${codePoint.toString(16).toUpperCase().padStart(4, "0")}`
    : `\\U${codePoint.toString(16).toUpperCase().padStart(8, "0")}`;
}

const echar: Record<string, string> = {
  "\t": "\\t",
  "\b": "\\b",
  "\n": "\\n",
  "\r": "\\r",
  "\f": "\\f",
  '"': '\\"',
  "\\": "\\\\",
};

function escapeLiteral(value: string): string {
  let out = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (echar[ch]) out += echar[ch];
    else if (cp < 0x20 || cp >= 0x7f) out += uchar(cp);
    else out += ch;
  }
  return out;
}

/** Characters the IRIREF production forbids unescaped. */
const iriForbidden = new Set(["<", ">", '"', "{", "}", "|", "^", "`", "\\", " "]);

function escapeIri(value: string): string {
  let out = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (cp <= 0x20 || cp >= 0x7f || iriForbidden.has(ch)) out += uchar(cp);
    else out += ch;
  }
  return out;
}

function blankLabel(value: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(value) || value.endsWith(".")) {
    throw new Error(`blank node label not serialisable: ${value}`);
  }
  return `_:${value}`;
}

function termToNQuads(term: Term): string {
  switch (term.termType) {
    case "NamedNode":
      return `<${escapeIri(term.value)}>`;
    case "BlankNode":
      return blankLabel(term.value);
    case "Literal": {
      const body = `"${escapeLiteral(term.value)}"`;
      if (term.language) return `${body}@${term.language}`;
      if (term.datatype) return `${body}^^<${escapeIri(term.datatype)}>`;
      return body;
    }
  }
}

export function quadToNQuads(q: Quad): string {
  const graph = q.graph ? ` <${escapeIri(q.graph)}>` : "";
  return `${termToNQuads(q.subject)} ${termToNQuads(q.predicate)} ${termToNQuads(q.object)}${graph} .\n`;
}

export function serializeNQuads(items: Iterable<Quad>): string {
  let out = "";
  for (const q of items) out += quadToNQuads(q);
  return out;
}

export class NQuadsSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(`N-Quads line ${line}: ${message}`);
    this.name = "NQuadsSyntaxError";
  }
}

const echarDecode: Record<string, string> = {
  t: "\t",
  b: "\b",
  n: "\n",
  r: "\r",
  f: "\f",
  '"': '"',
  "'": "'",
  "\\": "\\",
};

class LineParser {
  pos = 0;
  constructor(readonly text: string, readonly line: number) {}

  fail(message: string): never {
    throw new NQuadsSyntaxError(this.line, `${message} at column ${this.pos + 1}`);
  }
  skipSpace(): void {
    while (this.pos < this.text.length && (this.text[this.pos] === " " || this.text[this.pos] === "\t")) {
      this.pos++;
    }
  }
  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length || this.text[this.pos] === "#";
  }
  peek(): string {
    return this.text[this.pos];
  }

  readUchar(): string {
    const kind = this.text[this.pos + 1];
    const length = kind === "u" ? 4 : kind === "U" ? 8 : 0;
    if (!length) this.fail("bad escape");
    const hex = this.text.slice(this.pos + 2, this.pos + 2 + length);
    if (!new RegExp(`^[0-9A-Fa-f]{${length}}$`).test(hex)) this.fail("bad \\u escape");
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail("escape is not a code point");
    this.pos += 2 + length;
    return String.fromCodePoint(cp);
  }

  readIri(): string {
    if (this.peek() !== "<") this.fail("expected <IRI>");
    this.pos++;
    let out = "";
    while (true) {
      if (this.pos >= this.text.length) this.fail("unterminated IRI");
      const ch = this.text[this.pos];
      if (ch === ">") {
        this.pos++;
        break;
      }
      if (ch === "\\") {
        out += this.readUchar();
        continue;
      }
      const cp = ch.codePointAt(0)!;
      if (cp <= 0x20 || iriForbidden.has(ch)) this.fail(`character not allowed in IRI`);
      out += ch;
      this.pos++;
    }
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(out)) this.fail(`relative IRI <${out}>`);
    return out;
  }

  readBlank(): string {
    const match = /^_:([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)/.exec(this.text.slice(this.pos));
    if (!match) this.fail("bad blank node label");
    this.pos += match[0].length;
    return match[1];
  }

  readSubject(): SubjectTerm {
    this.skipSpace();
    return this.peek() === "_" ? blank(this.readBlank()) : iri(this.readIri());
  }

  readLiteral(): Term {
    this.pos++; // opening quote
    let value = "";
    while (true) {
      if (this.pos >= this.text.length) this.fail("unterminated literal");
      const ch = this.text[this.pos];
      if (ch === '"') {
        this.pos++;
        break;
      }
      if (ch === "\n" || ch === "\r") this.fail("raw line break in literal");
      if (ch === "\\") {
        const next = this.text[this.pos + 1];
        if (next === "u" || next === "U") value += this.readUchar();
        else if (next in echarDecode) {
          value += echarDecode[next];
          this.pos += 2;
        } else this.fail("bad escape in literal");
        continue;
      }
      value += ch;
      this.pos++;
    }
    if (this.peek() === "@") {
      const match = /^@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)/.exec(this.text.slice(this.pos));
      if (!match) this.fail("bad language tag");
      this.pos += match[0].length;
      return literal(value, "", match[1]);
    }
    if (this.text.startsWith("^^", this.pos)) {
      this.pos += 2;
      return literal(value, this.readIri());
    }
    return literal(value);
  }

  readObject(): Term {
    this.skipSpace();
    const ch = this.peek();
    if (ch === '"') return this.readLiteral();
    if (ch === "_") return blank(this.readBlank());
    return iri(this.readIri());
  }
}

export function* parseNQuads(text: string): Generator<Quad> {
  const lines = text.split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const p = new LineParser(lines[i], i + 1);
    if (p.atEnd()) continue;
    const subject = p.readSubject();
    p.skipSpace();
    const predicate = iri(p.readIri());
    const object = p.readObject();
    p.skipSpace();
    let graph = "";
    if (p.peek() === "<") graph = p.readIri();
    else if (p.peek() === "_") p.fail("blank node graph names are not supported");
    p.skipSpace();
    if (p.peek() !== ".") p.fail("expected '.'");
    p.pos++;
    if (!p.atEnd()) p.fail("unexpected text after '.'");
    yield { subject, predicate, object, graph };
  }
}
