/**
 * Over a bridge, files travel inside the signed Message as descriptors that
 * point at the origin instance; the peer shows them as links there.
 */
import assert from "node:assert/strict";
import { bridge, claimNode, eventually, joinNode, startNode } from "../bridges/support.ts";
import { PNG } from "./support.ts";

Deno.test({
  name:
    "a bridged message keeps its signed attachments; the peer links to the origin's file and drops them on deletion",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = await startNode("a");
    await using b = await startNode("b");
    const ownerA = await claimNode(a);
    const ownerB = await claimNode(b);
    const here = await ownerA.createChannel("shared", { visibility: "public" });
    const there = await ownerB.createChannel("shared", { visibility: "public" });
    await bridge({ node: a, owner: ownerA, channel: here }, { node: b, owner: ownerB, channel: there });
    const alice = await joinNode(a, ownerA);

    const image = await alice.upload(here.id, PNG, "dot.png");
    assert.ok(image.url.startsWith(`${a.link.origin}/files/`));
    const message = await alice.post(here.id, "a picture", [image]);
    const arrived = await eventually("the message to reach b", async () => {
      const page = await ownerB.history(there.id);
      return page.messages.find((m) => m.id === message.id);
    });
    assert.deepEqual(arrived.attachments, [image], "the descriptor arrives as signed");
    const signed = await ownerB.message(message.id);
    assert.deepEqual(signed.signed.message?.attachment, [image]);

    // b's page links to the file on a (its own CSP keeps other origins' images out of the page).
    const page = await (await fetch(`${b.direct}/channels/${there.id}`)).text();
    assert.ok(page.includes(`href="${image.url}"`), "a link to the origin's file");
    assert.doesNotMatch(page, /<img src="[^"]*\/files\//);
    assert.match(page, new RegExp(`on ${a.link.origin.replace(/^https?:\/\//, "").replace(/\./g, "\\.")}`));

    // The file is served by its origin (public channel).
    const download = await fetch(`${a.direct}${new URL(image.url).pathname}`);
    assert.equal(download.status, 200);
    await download.body?.cancel();

    // Deleted at the origin: gone on both sides.
    await alice.delete(message);
    await eventually("the deletion to reach b", async () => {
      const page = await ownerB.history(there.id);
      return !page.messages.some((m) => m.id === message.id);
    });
    assert.equal((await fetch(`${a.direct}${new URL(image.url).pathname}`)).status, 404);
  },
});
