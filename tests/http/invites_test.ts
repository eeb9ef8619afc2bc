import assert from "node:assert/strict";
import { quadStore } from "../../db/quadstore.ts";
import { dateTime, iri } from "../../db/terms.ts";
import { inviteState } from "../../server/community/members.ts";
import type { InviteInfo } from "../../server/shared/model.ts";
import { H } from "../../server/rdf/vocab.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { assertRefused, http, quickClient } from "./support.ts";

const invite = (over: Partial<InviteInfo> = {}): InviteInfo => ({
  iri: "https://harmony.test/invites/abc",
  code: "abc",
  createdBy: "did:key:z6Mkexample",
  created: "2024-01-01T00:00:00.000Z",
  expires: null,
  maxUses: null,
  uses: 0,
  revoked: false,
  ...over,
});

Deno.test("invite state: expiry, use limit and revocation", () => {
  const created = Date.parse("2024-01-01T00:00:00.000Z");
  const expiring = invite({ expires: new Date(created + 60_000).toISOString() });
  assert.equal(inviteState(expiring, new Date(created + 59_999)), "active");
  assert.equal(inviteState(expiring, new Date(created + 60_000)), "expired", "expired at the exact instant");
  assert.equal(inviteState(expiring, new Date(created + 61_000)), "expired");
  assert.equal(inviteState(invite({ maxUses: 1, uses: 0 })), "active");
  assert.equal(inviteState(invite({ maxUses: 1, uses: 1 })), "used up");
  assert.equal(inviteState(invite({ maxUses: 3, uses: 5 })), "used up");
  assert.equal(inviteState(invite({ uses: 1_000_000 })), "active", "no limit means unlimited");
  assert.equal(inviteState(invite({ revoked: true, maxUses: 1, uses: 1 })), "revoked", "revocation wins");
});

Deno.test("invites and membership: joining, limits, revocation and leaving", async (t) => {
  const { instance, owner } = await claimedInstance();
  await using _ = instance;
  const origin = instance.origin;
  const adminToken = owner.token!;
  const createInvite = async (body: Record<string, unknown>) => {
    const reply = await http(origin, "POST", "/api/invites", { body, token: adminToken });
    assert.equal(reply.status, 201, reply.text);
    return reply.json as InviteInfo & { state: string; url: string };
  };
  const join = (token: string, code?: string) =>
    http(origin, "POST", "/api/join", { body: code === undefined ? {} : { invite: code }, token });
  const memberDids = async () =>
    ((await http(origin, "GET", "/api/members", { token: adminToken })).json as Array<{ did: string }>).map((
      m,
    ) => m.did);

  await t.step("an invite created with expiresIn 60 expires a minute later", async () => {
    const before = Date.now();
    const created = await createInvite({ expiresIn: 60 });
    assert.equal(created.state, "active");
    assert.equal(created.url, `${origin}/invite/${created.code}`);
    const expires = Date.parse(created.expires!);
    assert.ok(expires >= before + 60_000 - 1000 && expires <= Date.now() + 60_000, created.expires!);
    assert.equal(inviteState(created, new Date(expires - 1)), "active");
    assert.equal(inviteState(created, new Date(expires + 1)), "expired");
  });

  await t.step("refuses joining with an expired invite (410)", async () => {
    const created = await createInvite({ expiresIn: 60 });
    // Move the stored expiry into the past, as if the minute had gone by.
    await instance.harmony.writeCommunity((tx) =>
      quadStore.set(
        tx,
        instance.harmony.iris.community,
        iri(created.iri),
        H.expires,
        dateTime(new Date(Date.now() - 1000)),
      )
    );
    assert.equal((await http(origin, "GET", `/api/invites/${created.code}`)).json.state, "expired");
    const late = await quickClient(origin);
    assertRefused(await join(late.token!, created.code), 410, "invite_expired");
    assert.ok(!(await memberDids()).includes(late.did));
  });

  await t.step("refuses an invite beyond its use limit (410)", async () => {
    const created = await createInvite({ maxUses: 1 });
    const first = await quickClient(origin);
    const second = await quickClient(origin);
    assert.equal((await join(first.token!, created.code)).status, 201);
    assertRefused(await join(second.token!, created.code), 410, "invite_used_up");
    const dids = await memberDids();
    assert.ok(dids.includes(first.did));
    assert.ok(!dids.includes(second.did));
    assert.equal((await http(origin, "GET", `/api/invites/${created.code}`)).json.state, "used up");
  });

  await t.step("two joins racing for the last use: exactly one gets in", async () => {
    const created = await createInvite({ maxUses: 1 });
    const a = await quickClient(origin);
    const b = await quickClient(origin);
    const replies = await Promise.all([join(a.token!, created.code), join(b.token!, created.code)]);
    assert.deepEqual(replies.map((r) => r.status).sort(), [201, 410]);
    const dids = await memberDids();
    assert.equal([a.did, b.did].filter((d) => dids.includes(d)).length, 1);
  });

  await t.step("refuses a revoked invite (410)", async () => {
    const created = await createInvite({});
    assert.equal(
      (await http(origin, "DELETE", `/api/invites/${created.code}`, { token: adminToken })).status,
      204,
    );
    assert.equal((await http(origin, "GET", `/api/invites/${created.code}`)).json.state, "revoked");
    const someone = await quickClient(origin);
    assertRefused(await join(someone.token!, created.code), 410, "invite_revoked");
  });

  await t.step("refuses an unknown invite code (404)", async () => {
    const someone = await quickClient(origin);
    assertRefused(await join(someone.token!, "doesnotexist"), 404);
  });

  await t.step("refuses invalid invite settings (422) and invites from non-admins (403)", async () => {
    for (
      const body of [{ expiresIn: 59 }, { expiresIn: 1.5 }, { expiresIn: "60" }, { expiresIn: 366 * 86400 }]
    ) {
      assertRefused(
        await http(origin, "POST", "/api/invites", { body, token: adminToken }),
        422,
        "invalid_expiry",
      );
    }
    for (const body of [{ maxUses: 0 }, { maxUses: 10001 }, { maxUses: "1" }]) {
      assertRefused(
        await http(origin, "POST", "/api/invites", { body, token: adminToken }),
        422,
        "invalid_max_uses",
      );
    }
    const created = await createInvite({ maxUses: 1 });
    const member = await quickClient(origin);
    assert.equal((await join(member.token!, created.code)).status, 201);
    assertRefused(await http(origin, "POST", "/api/invites", { body: {}, token: member.token! }), 403);
    assertRefused(await http(origin, "GET", "/api/invites", { token: member.token! }), 403);
    assertRefused(
      await http(origin, "DELETE", `/api/invites/${created.code}`, { token: member.token! }),
      403,
    );
    assertRefused(await http(origin, "POST", "/api/invites", { body: {} }), 401);
  });

  await t.step("refuses joining an invite-only community without an invite (403)", async () => {
    assert.equal((await http(origin, "GET", "/api/community")).json.openJoin, false);
    const someone = await quickClient(origin);
    assertRefused(await join(someone.token!), 403, "forbidden");
    assertRefused(
      await http(origin, "POST", "/api/join", { token: someone.token!, headers: { "content-length": "0" } }),
      403,
    );
    assertRefused(await http(origin, "POST", "/api/join", { body: {} }), 401, "unauthenticated");
    assert.ok(!(await memberDids()).includes(someone.did));
  });

  await t.step("an open community lets anyone signed in join without an invite", async () => {
    const opened = await http(origin, "PATCH", "/api/community", {
      body: { openJoin: true },
      token: adminToken,
    });
    assert.equal(opened.status, 200, opened.text);
    const someone = await quickClient(origin);
    const reply = await join(someone.token!);
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.json.role, "member");
    assert.ok((await memberDids()).includes(someone.did));
    // Joining twice is harmless.
    assert.equal((await join(someone.token!)).status, 201);
    assert.equal((await memberDids()).filter((d) => d === someone.did).length, 1);
    await http(origin, "PATCH", "/api/community", { body: { openJoin: false }, token: adminToken });
  });

  await t.step("a member can leave, and is no longer a member", async () => {
    const created = await createInvite({});
    const leaver = await quickClient(origin);
    assert.equal((await join(leaver.token!, created.code)).status, 201);
    assert.equal((await http(origin, "POST", "/api/leave", { token: leaver.token! })).status, 204);
    assert.ok(!(await memberDids()).includes(leaver.did));
    assert.equal((await http(origin, "GET", "/api/me", { token: leaver.token! })).json.member, null);
    assertRefused(await http(origin, "POST", "/api/leave", { token: leaver.token! }), 403);
  });

  await t.step("refuses the owner leaving (409)", async () => {
    assertRefused(await http(origin, "POST", "/api/leave", { token: adminToken }), 409, "owner_cannot_leave");
    assert.ok((await memberDids()).includes(owner.did));
  });
});
