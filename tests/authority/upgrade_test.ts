/**
 * A release that adds an action to the owner's or the member role (like
 * "pin") reaches root grants made before it: at start-up their holders get a
 * new root grant with the role's current actions.
 */
import assert from "node:assert/strict";
import { BUILT_IN_ROLES } from "../../server/authority/actions.ts";
import { allowed } from "../../server/authority/authorize.ts";
import { rootGrant, upgradeRootGrants, writeAuthority } from "../../server/authority/grants.ts";
import { authorityState, markRevoked, storeHeld } from "../../server/authority/store.ts";
import { communityKey } from "../../server/capabilities/communityKey.ts";
import { findChannel } from "../../server/channels/channels.ts";
import { claimedInstance } from "../helpers/instance.ts";

Deno.test({
  name:
    "root grants made before an action existed are widened at start-up, without breaking chains through them",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await claimedInstance();
    await using _ = instance;
    const h = instance.harmony;
    const key = await communityKey(h);
    const ownerRole = h.iris.role("owner");
    const general = await findChannel(h, "general");
    const can = async (action: "pin" | "post") => (await allowed(h, owner.did!, action, general)) !== null;

    // The owner's grant as an older release made it: every owner action but "pin".
    const older = BUILT_IN_ROLES.owner.actions.filter((a) => a !== "pin");
    const state = await authorityState(h);
    const current = [...state.byId.values()].filter((c) => c.holder === owner.did && c.role === ownerRole);
    const legacy = await rootGrant(h, owner.did!, older);
    await writeAuthority(h, async (tx) => {
      for (const c of current) await markRevoked(h, tx, c.id, key.did);
      await storeHeld(h, tx, legacy, { delegatedBy: key.did, role: ownerRole });
    });
    assert.equal(await can("pin"), false, "the legacy grant lacks pin");
    assert.equal(await can("post"), true);

    assert.equal(await upgradeRootGrants(h), 1);
    assert.equal(await can("pin"), true, "the new grant carries pin");
    const after = await authorityState(h);
    assert.equal(
      after.byId.get(legacy.id)?.revoked,
      false,
      "the old grant stays valid for chains through it",
    );
    assert.equal(await upgradeRootGrants(h), 0, "nothing left to upgrade");
  },
});
