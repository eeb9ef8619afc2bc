/** Request bodies of the JSON API: one object, or a clear 400. */
import { HarmonyError } from "../shared/errors.ts";

type WithJson = { req: { json: () => Promise<unknown>; header: (name: string) => string | undefined } };

export async function jsonBody(
  c: { req: { json: () => Promise<unknown> } },
): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new HarmonyError(400, "malformed_json", "the request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HarmonyError(400, "malformed_json", "the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** A JSON body if the request has one, else {} (DELETE requests may carry a signed action). */
export async function optionalBody(c: WithJson): Promise<Record<string, unknown>> {
  const hasBody = (c.req.header("content-length") ?? "0") !== "0" || c.req.header("transfer-encoding");
  return hasBody ? await jsonBody(c) : {};
}
