/** Files reach the fediverse as the Note's attachments, addressable at their URLs (public channels). */
import assert from "node:assert/strict";
import { noteIdOf } from "../../federation/uris.ts";
import { filesInstance, PNG } from "./support.ts";

Deno.test({
  name: "a Note of a public channel carries its files as an Image and a Document at their URLs",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { instance, member, general } = await filesInstance();
    await using _ = instance;
    const image = await member.upload(general.id, PNG, "dot.png");
    const pdf = await member.upload(general.id, new TextEncoder().encode("%PDF-1.4\n"), "paper.pdf");
    const message = await member.post(general.id, "two files", [image, pdf]);
    const response = await fetch(noteIdOf(instance.origin, message.id), {
      headers: { accept: "application/activity+json" },
    });
    assert.equal(response.status, 200);
    const note = await response.json();
    const attachments = [note.attachment].flat();
    assert.equal(attachments.length, 2);
    const img = attachments.find((a: { type: string }) => a.type === "Image");
    assert.equal(img.url, image.url);
    assert.equal(img.mediaType, "image/png");
    assert.equal(img.name, "dot.png");
    assert.deepEqual([img.width, img.height], [3, 2]);
    const doc = attachments.find((a: { type: string }) => a.type === "Document");
    assert.equal(doc.url, pdf.url);
    assert.equal(doc.mediaType, "application/pdf");
    // Anyone can fetch them (a follower's server does, to show them).
    assert.equal((await fetch(img.url)).status, 200);
    assert.equal((await fetch(doc.url)).headers.get("content-type"), "application/pdf");
  },
});
