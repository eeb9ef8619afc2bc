/**
 * At 360 px (a small phone) every page fits the screen: nothing scrolls
 * sideways, the channel header keeps its controls, long DIDs wrap; in
 * high-contrast mode the icon-only controls stay visible.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { launchBrowser, restoreIdentity, skipBrowser } from "./browser.ts";
import { newPerson, startTestInstance } from "../helpers/instance.ts";

Deno.test({
  name: "pages fit a 360 px wide screen without scrolling sideways, signed in as the owner",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using instance = await startTestInstance();
    const { mnemonic, client: owner } = await newPerson(instance);
    await owner.request("POST", "/claim", { token: instance.claimUrl!.split("/claim/")[1] });
    await owner.setProfile("Ada");
    const [general] = await owner.channels();
    await owner.post(general.id, "a message long enough to need a line of its own on a narrow screen");

    let browser: Browser | null = null;
    try {
      browser = await launchBrowser();
      const page = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
      await restoreIdentity(page, instance.origin, mnemonic, "/profile");

      for (
        const path of [
          `/channels/${general.id}`,
          "/profile",
          "/settings",
          "/identity",
          "/dms",
          "/search?q=message",
        ]
      ) {
        await page.goto(`${instance.origin}${path}`);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 360, `${path} is ${width} px wide at 360 px`);
      }
      await page.goto(`${instance.origin}/channels/${general.id}`);
      for (const name of ["Show channels", "Show members", "Search messages"]) {
        assert.ok(
          await page.getByRole(name === "Search messages" ? "link" : "button", { name }).isVisible(),
          name,
        );
      }
      assert.ok(await page.getByRole("link", { name: "Threads" }).isVisible());

      // High-contrast mode repaints backgrounds; the icons (masks over a background) must stay visible.
      await page.emulateMedia({ forcedColors: "active" });
      const colours = await page.evaluate(() => ({
        page: getComputedStyle(document.body).backgroundColor,
        icons: [...document.querySelectorAll(".icon")].map((icon) => getComputedStyle(icon).backgroundColor),
      }));
      assert.ok(colours.icons.length >= 3, "bell, attach and search icons");
      for (const colour of colours.icons) assert.notEqual(colour, colours.page);
    } finally {
      await browser?.close();
    }
  },
});
