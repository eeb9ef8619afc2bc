import { invalid } from "./errors.ts";

export interface TextRules {
  field: string;
  max: number;
  min?: number;
  /** Allow line breaks (message content); names and topics are one line. */
  multiline?: boolean;
}

// C0/C1 controls, bidi overrides and isolates (used to disguise text).
// deno-lint-ignore no-control-regex
const forbiddenSingleLine = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
// deno-lint-ignore no-control-regex
const forbiddenMultiline = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** Length in user-visible code points, not UTF-16 units. */
export function characterCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Whether text holds characters Harmony never stores (line breaks allowed when multiline). */
export function hasForbiddenCharacters(text: string, multiline: boolean): boolean {
  return (multiline ? forbiddenMultiline : forbiddenSingleLine).test(text);
}

/** Validates and normalises user text; throws a 422 naming the field. */
export function cleanText(value: unknown, rules: TextRules): string {
  if (typeof value !== "string") throw invalid("invalid_text", `${rules.field} must be text`);
  const text = value.normalize("NFC").trim();
  const min = rules.min ?? 1;
  const length = characterCount(text);
  if (length < min) {
    throw invalid("text_too_short", `${rules.field} must not be empty`);
  }
  if (length > rules.max) {
    throw invalid(
      "text_too_long",
      `${rules.field} is ${length} characters long; the limit is ${rules.max}`,
    );
  }
  if (hasForbiddenCharacters(text, rules.multiline ?? false)) {
    throw invalid("invalid_characters", `${rules.field} contains control characters`);
  }
  return text;
}
