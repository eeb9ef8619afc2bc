/** Tokens the server hands out can be pasted after a CLI command; the CLI reads words after `--` as words. */
import assert from "node:assert/strict";
import { randomToken } from "../../server/shared/ids.ts";
import { parseArgs } from "../../cli/commands/args.ts";

Deno.test("tokens are base64url, of the asked size, distinct, and never start with a dash", () => {
  // Without the redraw, about 78 of 5,000 tokens would start with "-".
  const tokens = Array.from({ length: 5_000 }, () => randomToken());
  for (const token of tokens) {
    assert.match(token, /^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/);
  }
  assert.equal(new Set(tokens).size, tokens.length);
  assert.match(randomToken(24), /^[A-Za-z0-9_][A-Za-z0-9_-]{31}$/);
});

Deno.test("a word that starts with a dash is refused as an unknown option, and read as a word after --", () => {
  assert.throws(
    () => parseArgs(["claim", "-UJP5Db0"]),
    /unknown option "-UJP5Db0" \(put a word that starts with "-" after --\)/,
  );
  assert.deepEqual(parseArgs(["claim", "--", "-UJP5Db0"]).words, ["claim", "-UJP5Db0"]);
});
