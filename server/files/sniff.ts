/**
 * What a file really is, from its first bytes (never from its name or the
 * type the uploader claimed), and the pixel size of images from their
 * headers. Anything unrecognised is application/octet-stream.
 */

export interface Sniffed {
  mediaType: string;
  width?: number;
  height?: number;
}

/** The types a browser may show inline: raster images only (never SVG, HTML or PDF). */
export const INLINE_TYPES: ReadonlySet<string> = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
]);

export const OCTET_STREAM = "application/octet-stream";
export const PLAIN_TEXT = "text/plain";

/** How many leading bytes sniffing looks at. */
export const SNIFF_BYTES = 64 * 1024;

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  bytes.length >= at + text.length && [...text].every((ch, i) => bytes[at + i] === ch.charCodeAt(0));

const u16be = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u24le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
const u32be = (b: Uint8Array, at: number) =>
  ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];

/** Plausible pixel sizes only (a header may lie; the browser decodes the real image). */
function sized(mediaType: string, width: number, height: number): Sniffed {
  const ok = (n: number) => Number.isInteger(n) && n > 0 && n <= 65535;
  return ok(width) && ok(height) ? { mediaType, width, height } : { mediaType };
}

function jpegSize(b: Uint8Array): Sniffed {
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return { mediaType: "image/jpeg" };
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    // Markers without a length: TEM, RSTn, SOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2;
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return sized("image/jpeg", u16be(b, at + 7), u16be(b, at + 5));
    if (marker === 0xd9 || marker === 0xda) break;
    at += 2 + u16be(b, at + 2);
  }
  return { mediaType: "image/jpeg" };
}

function webpSize(b: Uint8Array): Sniffed {
  if (ascii(b, 12, "VP8 ") && b.length >= 30) {
    return sized("image/webp", u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  }
  if (ascii(b, 12, "VP8L") && b.length >= 25 && b[20] === 0x2f) {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return sized("image/webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (ascii(b, 12, "VP8X") && b.length >= 30) return sized("image/webp", u24le(b, 24) + 1, u24le(b, 27) + 1);
  return { mediaType: "image/webp" };
}

/** A binary format recognised by its signature, or null (perhaps text: see TextCheck). */
export function sniffBinary(b: Uint8Array): Sniffed | null {
  if (ascii(b, 0, "\x89PNG\r\n\x1a\n")) {
    return ascii(b, 12, "IHDR") && b.length >= 24
      ? sized("image/png", u32be(b, 16), u32be(b, 20))
      : { mediaType: "image/png" };
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegSize(b);
  if (ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a")) {
    return b.length >= 10 ? sized("image/gif", u16le(b, 6), u16le(b, 8)) : { mediaType: "image/gif" };
  }
  if (ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP")) return webpSize(b);
  if (ascii(b, 0, "RIFF") && ascii(b, 8, "WAVE")) return { mediaType: "audio/wav" };
  if (ascii(b, 0, "%PDF-")) return { mediaType: "application/pdf" };
  if (ascii(b, 0, "PK\x03\x04") || ascii(b, 0, "PK\x05\x06")) return { mediaType: "application/zip" };
  if (ascii(b, 4, "ftyp")) return { mediaType: ascii(b, 8, "M4A ") ? "audio/mp4" : "video/mp4" };
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    return { mediaType: "video/webm" };
  }
  if (ascii(b, 0, "OggS")) return { mediaType: "audio/ogg" };
  if (ascii(b, 0, "ID3")) return { mediaType: "audio/mpeg" };
  return null;
}

/** Control characters that do not occur in text (tab, newlines and form feed do). */
// deno-lint-ignore no-control-regex
const binaryControl = /[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]/;

/**
 * Follows a whole upload to decide whether it is plain UTF-8 text: valid
 * UTF-8 from the first byte to the last, without control characters.
 */
export class TextCheck {
  #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  #text = true;

  push(chunk: Uint8Array): void {
    if (!this.#text) return;
    try {
      if (binaryControl.test(this.#decoder.decode(chunk, { stream: true }))) this.#text = false;
    } catch {
      this.#text = false;
    }
  }

  end(): boolean {
    if (!this.#text) return false;
    try {
      this.#decoder.decode();
      return true;
    } catch {
      return false;
    }
  }
}

/** The type of a whole file: its signature, else text if it is all UTF-8 text, else octet-stream. */
export function sniff(head: Uint8Array, isText: boolean): Sniffed {
  return sniffBinary(head) ?? { mediaType: isText ? PLAIN_TEXT : OCTET_STREAM };
}
