/** How a request fails: the server refused it (ApiError) or never answered (ServerUnreachableError). */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before trying again (429 refusals: slow mode, rate limits). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * The server did not answer at all (refused connection, unknown host, TLS
 * failure). A TypeError, as the failed fetch itself was.
 */
export class ServerUnreachableError extends TypeError {
  constructor(readonly server: string, cause: unknown) {
    super(`cannot reach ${server}: ${reasonOf(cause)}`, { cause });
    this.name = "ServerUnreachableError";
  }
}

/** The most specific part of a fetch error ("tcp connect error: Connection refused"). */
function reasonOf(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const text = inner instanceof Error ? inner.message : String(inner);
  const reason = text
    .replace(/^.*?\((?:Connect|SendRequest)\):\s*/, "")
    .replace(/^error sending request for url \([^)]*\):\s*/, "")
    .replace(/^fetch failed:\s*/i, "")
    .replace(/\s*\(os error \d+\)$/, "")
    .trim();
  return reason || "no answer";
}
