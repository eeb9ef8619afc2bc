/**
 * An error a request can explain to its sender: the HTTP status, a stable
 * machine-readable code and a sentence for people.
 */
export class HarmonyError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 408 | 409 | 410 | 413 | 415 | 422 | 429 | 500 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HarmonyError";
  }
}

export const badRequest = (code: string, message: string) => new HarmonyError(400, code, message);
export const unauthorized = (message = "sign in first") => new HarmonyError(401, "unauthenticated", message);
export const forbidden = (message: string) => new HarmonyError(403, "forbidden", message);
export const notFound = (message: string) => new HarmonyError(404, "not_found", message);
export const conflict = (code: string, message: string) => new HarmonyError(409, code, message);
export const invalid = (code: string, message: string) => new HarmonyError(422, code, message);
