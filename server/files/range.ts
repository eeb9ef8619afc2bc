/**
 * HTTP Range requests on downloads (RFC 9110, section 14): one byte range
 * per request. A Range header we do not serve (another unit, several
 * ranges, bad syntax) is ignored and the whole file is sent, as the RFC
 * allows; a range that starts past the end is refused with 416.
 */

/** Bytes `start` to `end`, inclusive. */
export interface ByteSpan {
  start: number;
  end: number;
}

const single = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i;

/**
 * The span a Range header asks for in a file of `size` bytes: null to send
 * the whole file, "unsatisfiable" for a 416.
 */
export function requestedSpan(header: string | undefined, size: number): ByteSpan | null | "unsatisfiable" {
  if (header === undefined) return null;
  const match = single.exec(header);
  if (!match) return null;
  const [, first, last] = match;
  if (first === "" && last === "") return null;
  if (first === "") {
    // The last N bytes.
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix)) return null;
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  if (!Number.isSafeInteger(start) || (last !== "" && !Number.isSafeInteger(end)) || end < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}
