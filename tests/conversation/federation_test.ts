/**
 * Reactions reach fediverse followers of a public channel: the default
 * reaction as `Like`, any other emoji as `EmojiReact` with the emoji as
 * `content`, and a removal as `Undo` of what was sent, each announced by
 * the channel's Group and dereferenceable at its id. Replies go out as
 * Notes with `inReplyTo`.
 */
import assert from "node:assert/strict";
import { MastodonPeer } from "../federation/mastodon_peer.ts";
import { channelNamed, federatedInstance, getAp, groupOf } from "../federation/support.ts";
import { memberOf } from "../helpers/instance.ts";

Deno.test({
  name: "reactions federate as Like and EmojiReact, their removal as Undo; replies carry inReplyTo",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, owner } = await federatedInstance();
    await using _instance = instance;
    await using lemmy = await MastodonPeer.start({ name: "lemmings", software: "lemmy" });
    const origin = instance.origin;
    const general = await channelNamed(origin, "general");
    const group = groupOf(origin, general.id);
    await lemmy.follow(group);
    await lemmy.waitFor((b) => b.type === "Accept", "an Accept");
    const alice = await memberOf(instance, owner);

    const message = await owner.post("general", "react to this");
    const key = message.id.replace("urn:uuid:", "");
    const noteId = `${origin}/ap/notes/${key}`;
    await lemmy.waitFor((b) => b.type === "Announce" && b.object?.type === "Create", "the post");

    await alice.react(message, "🎉");
    // Announced by reference: embedded, its type would compact to a full IRI in the Announce's context.
    const emoji = await lemmy.waitFor(
      (b) =>
        b.type === "Announce" && typeof b.object === "string" && b.object.startsWith(`${origin}/ap/reacts/`),
      "Announce(EmojiReact)",
    );
    const react = (await getAp(emoji.body.object)).json;
    assert.equal(react.type, "EmojiReact");
    assert.equal(react.content, "🎉");
    assert.equal(react.object, noteId);
    assert.equal(react.actor, `${origin}/ap/actors/${alice.did.replace("did:key:", "")}`);
    assert.equal(emoji.body.actor, group);
    assert.equal(react.id, emoji.body.object);

    await alice.react(message, "❤️");
    const like = await lemmy.waitFor(
      (b) => b.type === "Announce" && b.object?.type === "Like",
      "Announce(Like)",
    );
    assert.equal(like.body.object.object, noteId);
    assert.equal((await getAp(like.body.object.id)).json.type, "Like");

    await alice.unreact(message, "🎉");
    const undo = await lemmy.waitFor(
      (b) => b.type === "Announce" && b.object?.type === "Undo",
      "Announce(Undo)",
    );
    assert.equal(undo.body.object.object, react.id);
    assert.equal((await getAp(undo.body.object.id)).json.type, "Undo");

    await alice.reply(message, "a reply");
    const reply = await lemmy.waitFor(
      (b) =>
        b.type === "Announce" && b.object?.type === "Create" && b.object.object?.content?.includes("a reply"),
      "the reply",
    );
    assert.equal(reply.body.object.object.inReplyTo, noteId);

    // Pins stay local: nothing is sent for them.
    const before = lemmy.find((b) => b.type === "Announce").length;
    await owner.pin(message);
    await alice.post("general", "after the pin");
    await lemmy.waitFor(
      (b) => b.type === "Announce" && b.object?.object?.content?.includes("after the pin"),
      "the next post",
    );
    assert.equal(lemmy.find((b) => b.type === "Announce").length, before + 1);
  },
});
