/**
 * Routes of moderation and the audit log: the JSON API (mounted under
 * /api, docs/api.md) and the pages (mounted at /).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { invalid } from "../shared/errors.ts";
import type { AppEnv } from "../http/env.ts";
import { getCommunity } from "../community/community.ts";
import { communityKey } from "../capabilities/communityKey.ts";
import { readEntries, requireAuditReader, verifyLog } from "../audit/log.ts";
import type { AuditEntry } from "../audit/chain.ts";
import {
  type AuditEntryView,
  AuditLogPage,
  AuditVerification,
  ModerationPage,
  ModerationPanel,
} from "../../views/moderation.tsx";
import { moderate } from "./actions.ts";
import { moderationOverview, moderationPageData } from "./overview.ts";
import { fediverseReplies } from "./fediverse.ts";
import type { Harmony } from "../harmony.ts";
import { authorize } from "../authority/authorize.ts";
import { jsonBody } from "../http/body.ts";

function pageQuery(c: Context<AppEnv>): { after: number; limit: number } {
  const after = Number(c.req.query("after") ?? 0);
  const limit = Number(c.req.query("limit") ?? 100);
  if (!Number.isSafeInteger(after) || after < 0) {
    throw invalid("invalid_after", "after must be a sequence number");
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw invalid("invalid_limit", "limit must be an integer from 1 to 500");
  }
  return { after, limit };
}

export function moderationApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.post("/moderation/actions", async (c) => {
    const body = await jsonBody(c);
    return c.json(await moderate(c.get("harmony"), c.get("actor"), body.action), 201);
  });
  api.get("/moderation", async (c) => c.json(await moderationOverview(c.get("harmony"), c.get("actor"))));
  api.get(
    "/moderation/replies",
    async (c) => c.json(await fediverseReplies(c.get("harmony"), c.get("actor"))),
  );
  api.get("/moderation/alerts", async (c) => {
    const overview = await moderationOverview(c.get("harmony"), c.get("actor"));
    return c.json(overview.alerts);
  });
  api.get("/audit", async (c) => {
    const h = c.get("harmony");
    await requireAuditReader(h, c.get("actor"));
    return c.json(await readEntries(h.db, pageQuery(c)));
  });
  api.get("/audit/verify", async (c) => {
    const h = c.get("harmony");
    await requireAuditReader(h, c.get("actor"));
    return c.json(await verifyLog(h));
  });
  return api;
}

async function names(h: Harmony): Promise<Record<string, string>> {
  const { profiles } = await h.snapshot();
  const out: Record<string, string> = {};
  for (const [did, profile] of profiles) if (profile.name) out[did] = profile.name;
  out[(await communityKey(h)).did] = "the community";
  return out;
}

function entryView(entry: AuditEntry): AuditEntryView {
  return {
    seq: entry.seq,
    action: entry.action,
    target: entry.target,
    actor: entry.actor,
    capability: entry.capability,
    at: entry.at,
    arguments: entry.arguments,
    hash: entry.hash,
  };
}

export function moderationWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  const csrfOf = (c: Context<AppEnv>) => c.get("session")?.csrfToken ?? null;

  web.get("/moderation", async (c) => {
    const h = c.get("harmony");
    if (!c.get("actor").did) return c.redirect("/identity?return=/moderation");
    const data = await moderationPageData(h, c.get("actor"));
    return c.html(
      <ModerationPage
        {...data}
        communityName={(await getCommunity(h)).name}
        csrfToken={csrfOf(c)}
        names={await names(h)}
      />,
    );
  });

  web.get("/moderation/log", async (c) => {
    const h = c.get("harmony");
    if (!c.get("actor").did) return c.redirect("/identity?return=/moderation/log");
    await requireAuditReader(h, c.get("actor"));
    const { after } = pageQuery(c);
    const page = await readEntries(h.db, { after, limit: 100 });
    return c.html(
      <AuditLogPage
        communityName={(await getCommunity(h)).name}
        csrfToken={csrfOf(c)}
        me={c.get("actor").did}
        entries={page.entries.map(entryView)}
        next={page.next}
        after={after}
        head={page.head}
        names={await names(h)}
      />,
    );
  });

  web.get("/ui/audit/verify", async (c) => {
    const h = c.get("harmony");
    await requireAuditReader(h, c.get("actor"));
    return c.html(<AuditVerification {...await verifyLog(h)} />);
  });

  // The moderation section of the settings page (admins), loaded on demand.
  web.get("/ui/moderation/panel", async (c) => {
    const h = c.get("harmony");
    await authorize(h, c.get("actor"), "manage-community");
    return c.html(<ModerationPanel {...await moderationOverview(h, c.get("actor"))} />);
  });
  return web;
}
