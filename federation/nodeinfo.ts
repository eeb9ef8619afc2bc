/** NodeInfo 2.1 (at /ap/nodeinfo/2.1, linked from /.well-known/nodeinfo). */
import { and, count, eq, inArray, like, not } from "drizzle-orm";
import { messageIndex } from "../db/schema.ts";
import type { Harmony } from "../server/harmony.ts";
import { type HarmonyFederation, SOFTWARE } from "./federation.ts";
import { paths } from "./uris.ts";

export function registerNodeInfo(federation: HarmonyFederation, h: Harmony): void {
  federation.setNodeInfoDispatcher(paths.nodeInfo, async () => {
    const { community, members, channels } = await h.snapshot();
    // Messages written here (fediverse replies have URL ids) that the outside can see: those of
    // public channels. Members-only channels do not exist for the outside, their volume included.
    const open = channels.filter((c) => c.visibility === "public").map((c) => c.iri);
    const [posts] = open.length === 0
      ? [{ n: 0 }]
      : await h.db.select({ n: count() }).from(messageIndex).where(
        and(
          inArray(messageIndex.channel, open),
          eq(messageIndex.deleted, false),
          not(like(messageIndex.id, "http%")),
        ),
      );
    return {
      software: { name: SOFTWARE.name, version: SOFTWARE.version },
      protocols: ["activitypub"],
      openRegistrations: community?.openJoin ?? false,
      usage: { users: { total: members.size }, localPosts: posts?.n ?? 0, localComments: 0 },
      metadata: { nodeName: community?.name ?? "Harmony" },
    };
  });
}
