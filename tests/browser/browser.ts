/**
 * Launches the system's Chromium for browser tests. A missing browser is a
 * test failure with a clear message, unless HARMONY_SKIP_BROWSER=1.
 */
import { type Browser, chromium, type Page } from "playwright-core";

export const skipBrowser = Deno.env.get("HARMONY_SKIP_BROWSER") === "1";

const candidates = [
  Deno.env.get("CHROMIUM_PATH"),
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
].filter((p): p is string => Boolean(p));

function findChromium(): string | null {
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* try the next one */ }
  }
  return null;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      "Chromium was not found (looked at " + candidates.join(", ") +
        "). Install it (apt-get install -y chromium), set CHROMIUM_PATH, or run with HARMONY_SKIP_BROWSER=1 to skip browser tests.",
    );
  }
  return await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Restores an identity from its recovery phrase on the identity page: signs in and lands on `returnTo`. */
export async function restoreIdentity(
  page: Page,
  origin: string,
  mnemonic: string,
  returnTo: string,
): Promise<void> {
  await page.goto(`${origin}/identity?return=${encodeURIComponent(returnTo)}`);
  await page.locator("#restore-words").fill(mnemonic);
  await page.getByRole("button", { name: "Restore" }).click();
  await page.waitForURL((url) => url.pathname === returnTo);
}
