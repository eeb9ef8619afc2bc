/** Search in a real browser: the header box, the results page and its htmx refresh, the jump to the message. */
import assert from "node:assert/strict";
import { launchBrowser, skipBrowser } from "../browser/browser.ts";
import { claimedInstance } from "../helpers/instance.ts";

Deno.test({
  name: "a visitor searches from the chat header, refines the search in place and opens a hit's permalink",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const [general] = await owner.channels();
    await owner.post(general.id, "Welcome aboard, the wiki lives at https://wiki.example.org");
    const target = await owner.post(general.id, "The quarterly <em>roadmap</em> review is on Friday");
    await owner.post(general.id, "roadmap draft attached later");
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${instance.origin}/channels/${general.id}`);
      const box = page.getByRole("searchbox", { name: "Search messages" });
      await box.fill("roadmap");
      await box.press("Enter");
      await page.waitForURL(/\/search\?q=roadmap$/);
      const hits = page.locator("#search-results .search-hit");
      assert.equal(await hits.count(), 2);
      assert.equal(await page.locator("#search-results mark").first().textContent(), "roadmap");
      // The text is shown as typed: the <em> is text, not markup.
      assert.equal(await page.locator("#search-results em").count(), 0);
      assert.match(await hits.nth(1).textContent() ?? "", /<em>roadmap<\/em>/);

      // Refine on the results page: htmx replaces the results and pushes the URL.
      const searchBox = page.locator("main form.search-box input[name=q]");
      await page.evaluate(() => document.body.setAttribute("data-before-refine", "yes"));
      await searchBox.fill(`"the quarterly" in:general`);
      await searchBox.press("Enter");
      await page.waitForURL(/\/search\?q=%22the/);
      await page.locator("#search-results .search-hit").first().waitFor();
      assert.equal(await page.locator("#search-results .search-hit").count(), 1);
      // The page was not reloaded: htmx swapped the results in (the marker survives).
      assert.equal(await page.evaluate(() => document.body.getAttribute("data-before-refine")), "yes");

      // A syntax error shows its sentence in place.
      await searchBox.fill("subject:roadmap");
      await searchBox.press("Enter");
      await page.locator("#search-results .search-error").waitFor();
      assert.match(
        await page.locator("#search-results .search-error").textContent() ?? "",
        /no "subject:" filter/,
      );

      await searchBox.fill("quarterly");
      await searchBox.press("Enter");
      await page.locator("#search-results .search-hit").first().waitFor();
      await page.locator("#search-results .search-hit a").first().click();
      await page.waitForURL(`**/channels/${general.id}/messages/${target.id.replace("urn:uuid:", "")}`);
      assert.equal(
        new URL(page.url()).pathname,
        `/channels/${general.id}/messages/${target.id.replace("urn:uuid:", "")}`,
      );
      await context.close();
    } finally {
      await browser.close();
    }
  },
});
