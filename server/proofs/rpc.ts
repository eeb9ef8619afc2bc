/**
 * What crosses between the proof worker and the thread that calls it.
 *
 * Arguments are structured-cloned, except functions: a signer's `sign`, a
 * resolver. Those stay where they were made (a private key never crosses);
 * the other side gets a stand-in that calls back and awaits the answer.
 * Errors cross as their name, message and stack (not their class).
 */

/** A function left behind, named by its number in the call's table. */
export interface FunctionHandle {
  "harmony:function": number;
}

export interface CrossedError {
  name: string;
  message: string;
  stack?: string;
}

/** Calling thread to worker. */
export type ToWorker =
  | { type: "call"; id: number; op: string; args: unknown[] }
  | { type: "answer"; id: number; callback: number; value?: unknown; error?: CrossedError };

/** Worker to calling thread. */
export type FromWorker =
  | { type: "ready" }
  | { type: "done"; id: number; value: unknown }
  | { type: "failed"; id: number; error: CrossedError }
  | { type: "callback"; id: number; callback: number; fn: number; args: unknown[] };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isHandle(value: unknown): value is FunctionHandle {
  return isPlainObject(value) && typeof value["harmony:function"] === "number" &&
    Object.keys(value).length === 1;
}

/** Replaces every function inside plain objects and arrays by a handle into `functions`. */
export function withHandles(value: unknown, functions: Array<(...args: unknown[]) => unknown>): unknown {
  if (typeof value === "function") {
    functions.push(value as (...args: unknown[]) => unknown);
    return { "harmony:function": functions.length - 1 } satisfies FunctionHandle;
  }
  if (Array.isArray(value)) return value.map((item) => withHandles(item, functions));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = withHandles(item, functions);
    return out;
  }
  return value;
}

/** The inverse of `withHandles`: each handle becomes `stand-in(number)`. */
export function withStandIns(
  value: unknown,
  standIn: (fn: number) => (...args: unknown[]) => unknown,
): unknown {
  if (isHandle(value)) return standIn(value["harmony:function"]);
  if (Array.isArray(value)) return value.map((item) => withStandIns(item, standIn));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = withStandIns(item, standIn);
    return out;
  }
  return value;
}

export function crossedError(error: unknown): CrossedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: "Error", message: String(error) };
}

/** The error on this side; its stack is where it was thrown, then where it arrived. */
export function errorFrom(crossed: CrossedError): Error {
  const error = new Error(crossed.message);
  error.name = crossed.name;
  if (crossed.stack) {
    const here = (error.stack ?? "").split("\n").slice(1).join("\n");
    error.stack = `${crossed.stack}\n    (crossed from the other thread)\n${here}`;
  }
  return error;
}
