/**
 * File names as uploaders send them are data, never paths: they are cleaned
 * for display, and only ever reach a header through contentDisposition
 * (RFC 6266, with RFC 5987 `filename*` and an ASCII fallback). Storage keys
 * are random and never derived from them.
 */

/** Longest name kept, in UTF-8 bytes (common file-system limit). */
export const MAX_NAME_BYTES = 255;

// C0 and C1 controls, DEL, and the invisible characters that change how text reads:
// bidirectional embeddings, overrides and isolates, marks, zero-width characters, BOM.
// deno-lint-ignore no-control-regex
const invisible = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const size = encoder.encode(ch).length;
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/**
 * A display name for an uploaded file: no path (the last segment of either
 * kind of slash), no control or direction-changing characters, no leading
 * dots, at most 255 UTF-8 bytes keeping the extension; "file" when nothing
 * is left.
 */
export function cleanFileName(raw: string): string {
  let name = raw.normalize("NFC").replace(invisible, "");
  name = name.split(/[/\\]/).pop() ?? "";
  name = name.replace(/\s+/g, " ").trim().replace(/^[.\s]+/, "").replace(/[.\s]+$/, "");
  if (!name) return "file";
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) {
    const dot = name.lastIndexOf(".");
    const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
    name = truncateUtf8(name.slice(0, name.length - extension.length), MAX_NAME_BYTES - extension.length)
      .trimEnd() + extension;
  }
  return name || "file";
}

/** The name as an ASCII token for `filename=`: no quotes, slashes, percent signs or controls. */
export function asciiFallback(name: string): string {
  const ascii = name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\x20-\x7e]/g, "_")
    .replace(/["\\/%;]/g, "_")
    .replace(/^[.\s]+/, "")
    .trim();
  return ascii || "file";
}

/** RFC 5987 ext-value: UTF-8, percent-encoding everything but attr-chars. */
export function rfc5987(name: string): string {
  return "UTF-8''" + encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A Content-Disposition header value (RFC 6266) that no file name can break out of. */
export function contentDisposition(kind: "inline" | "attachment", name: string): string {
  const clean = cleanFileName(name);
  return `${kind}; filename="${asciiFallback(clean)}"; filename*=${rfc5987(clean)}`;
}

/** The name as the last segment of the file's URL (decorative: the server reads only the id). */
export function urlSegment(name: string): string {
  return encodeURIComponent(cleanFileName(name)).replace(/'/g, "%27");
}
