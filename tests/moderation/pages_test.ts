/** The moderation pages: who sees them, and what they show. */
import assert from "node:assert/strict";
import { claimedInstance, memberOf } from "../helpers/instance.ts";
import { cookieSession, http } from "../http/support.ts";

Deno.test({
  name: "moderators get the moderation page, members the moderation log, admins the settings section",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const moderator = await memberOf(instance, owner);
    const alice = await memberOf(instance, owner);
    await owner.assignRole(moderator.did, "moderator");
    await moderator.timeout(alice.did, 600, "<b>loud</b>");
    await owner.moderationSettings({ raidProtection: { joins: 5, seconds: 60 } });
    const page = async (client: typeof owner, path: string) => {
      const session = await cookieSession(client);
      return await http(instance.origin, "GET", path, { headers: { cookie: session.cookie } });
    };

    const moderation = await page(moderator, "/moderation");
    assert.equal(moderation.status, 200, moderation.text);
    assert.match(moderation.text, /data-action="kick"/);
    assert.match(moderation.text, /data-action="ban"/);
    assert.match(moderation.text, /Lift timeout/, "alice's running timeout can be lifted");
    assert.doesNotMatch(
      moderation.text,
      /data-action="moderation-settings"/,
      "moderators do not change limits",
    );
    assert.equal((await page(alice, "/moderation")).status, 403);

    const log = await page(alice, "/moderation/log");
    assert.equal(log.status, 200, log.text);
    assert.match(log.text, /timed .* out for 10 min/);
    assert.match(log.text, /“&lt;b&gt;loud&lt;\/b&gt;”/, "reasons are escaped");
    assert.match(log.text, /changed moderation settings/);
    const verified = await page(alice, "/ui/audit/verify");
    assert.match(verified.text, /The log verifies: 3 entries/);

    const settings = await page(owner, "/settings");
    assert.match(settings.text, /hx-get="\/ui\/moderation\/panel"/);
    const panel = await page(owner, "/ui/moderation/panel");
    assert.equal(panel.status, 200);
    assert.match(panel.text, /data-action="moderation-settings"/);
    assert.match(panel.text, /name="raidJoins"[^>]*value="5"/);
    assert.match(
      panel.text,
      /href="\/settings#s-community"/,
      "required credentials: a link to the admission policy",
    );
    assert.equal((await page(moderator, "/ui/moderation/panel")).status, 403);
  },
});
