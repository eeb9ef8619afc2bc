/**
 * Files over HTTP: upload, attach, download; limits; bad input (oversized,
 * spoofed types, path tricks in names); encryption at rest; who may attach
 * and download; the sweep of uploads no message uses.
 */
import assert from "node:assert/strict";
import { eq, sql } from "drizzle-orm";
import { ApiError } from "../../cli/client.ts";
import { messageIndex } from "../../db/schema.ts";
import { sweepFiles } from "../../server/files/files.ts";
import {
  allFileRows,
  blobsOn,
  contains,
  fileRow,
  filesInstance,
  PNG,
  rawFileKey,
  rawUpload,
} from "./support.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const text = (s: string) => new TextEncoder().encode(s);

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  assert.fail("expected the server to refuse");
}

Deno.test({
  ...opts,
  name: "an image uploads, is attached by a signed message, shows its size, and downloads inline for readers",
  async fn() {
    const { instance, owner, member, general } = await filesInstance();
    await using _ = instance;
    const descriptor = await member.upload(general.id, PNG, "red dot.png");
    assert.equal(descriptor.mediaType, "image/png");
    assert.equal(descriptor.size, PNG.length);
    assert.equal(descriptor.width, 3);
    assert.equal(descriptor.height, 2);
    assert.match(descriptor.digest, /^sha256-[A-Za-z0-9+/]{43}=$/);
    assert.ok(descriptor.url.startsWith(`${instance.origin}/files/`));
    const expectedDigest = `sha256-${
      btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", PNG))))
    }`;
    assert.equal(descriptor.digest, expectedDigest);

    const message = await member.post(general.id, "look", [descriptor]);
    assert.deepEqual(message.attachments, [descriptor]);
    const [row] = await instance.harmony.db.select().from(messageIndex).where(
      eq(messageIndex.id, message.id),
    );
    assert.deepEqual(
      JSON.parse(row.attachments!),
      [descriptor],
      "message_index.attachments holds the descriptors",
    );
    const page = await owner.history(general.id);
    assert.deepEqual(page.messages.at(-1)!.attachments, [descriptor]);

    // A visitor of the public channel downloads it; it is shown inline, as an image only.
    const response = await fetch(descriptor.url);
    assert.equal(response.status, 200);
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), PNG);
    assert.equal(response.headers.get("content-type"), "image/png");
    assert.match(
      response.headers.get("content-disposition")!,
      /^inline; filename="red dot.png"; filename\*=UTF-8''red%20dot.png$/,
    );
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.match(response.headers.get("content-security-policy")!, /default-src 'none'.*sandbox/);
    const etag = response.headers.get("etag")!;
    const again = await fetch(descriptor.url, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    await again.body?.cancel();

    // The page shows it inline at a bounded size, lazily.
    const html = await (await fetch(`${instance.origin}/channels/${general.id}`)).text();
    assert.match(
      html,
      /<img src="[^"]+\/files\/[^"]+" alt="red dot.png" width="3" height="2" loading="lazy"/,
    );
  },
});

Deno.test({
  ...opts,
  name: "an upload over the limit is refused with 413 and leaves no row and no blob (declared or streamed)",
  async fn() {
    const { instance, owner, member, general } = await filesInstance();
    await using _ = instance;
    await owner.setFileLimits({ maxFileSize: 64 * 1024 });
    const big = new Uint8Array(200 * 1024).fill(65);

    // Declared by Content-Length: refused before reading.
    const declared = await rawUpload(member, general.id, big, { "x-file-name": "big.txt" });
    assert.equal(declared.status, 413);
    assert.equal((await declared.json()).error, "file_too_large");

    // Streamed without a length: counted while it streams, stopped when it passes the limit.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64 * 1024 * 1024) return controller.close();
        sent += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024).fill(66));
      },
    });
    const streamed = await rawUpload(member, general.id, stream, { "x-file-name": "big.bin" }).catch((e) =>
      e
    );
    if (streamed instanceof Response) {
      assert.equal(streamed.status, 413);
      await streamed.body?.cancel();
    }
    // (What the client sent beyond the limit sat in socket buffers when the server answered.)
    assert.ok(sent < 16 * 1024 * 1024, `the server stopped reading long before the end (${sent} bytes sent)`);

    assert.equal((await allFileRows(instance)).length, 0, "no row");
    assert.deepEqual(await blobsOn(instance.harmony.config.filesDir!), [], "no blob, not even a partial one");
    // Just under the limit is fine.
    await member.upload(general.id, big.slice(0, 64 * 1024), "fits.txt");
  },
});

Deno.test({
  ...opts,
  name:
    "the type comes from the content: HTML named .png and sent as image/png is stored as text and never served inline",
  async fn() {
    const { instance, member, general } = await filesInstance();
    await using _ = instance;
    const html = "<html><body><script>alert(document.cookie)</script></body></html>";
    const response = await rawUpload(member, general.id, text(html), {
      "x-file-name": "cat.png",
      "content-type": "image/png",
    });
    assert.equal(response.status, 201);
    const descriptor = await response.json();
    assert.equal(descriptor.mediaType, "text/plain");
    assert.equal(descriptor.width, undefined);
    await member.post(general.id, "", [descriptor]);
    const download = await fetch(descriptor.url);
    assert.equal(download.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.match(download.headers.get("content-disposition")!, /^attachment;/);
    assert.equal(download.headers.get("x-content-type-options"), "nosniff");
    assert.match(download.headers.get("content-security-policy")!, /sandbox/);
    assert.equal(await download.text(), html);

    // SVG (script-capable) is never an image here; binary junk is application/octet-stream.
    const svg = await member.upload(
      general.id,
      text('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
      "x.svg",
    );
    assert.equal(svg.mediaType, "text/plain");
    const junk = await member.upload(general.id, new Uint8Array([0, 1, 2, 3, 255, 254]), "photo.jpg");
    assert.equal(junk.mediaType, "application/octet-stream");
    // Real signatures are recognised whatever the name.
    const pdf = await member.upload(general.id, text("%PDF-1.7\n%…"), "notes.txt");
    assert.equal(pdf.mediaType, "application/pdf");
    const gif = await member.upload(
      general.id,
      new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 5, 0, 7, 0, 0, 0, 0]),
      "a",
    );
    assert.deepEqual([gif.mediaType, gif.width, gif.height], ["image/gif", 5, 7]);
    // The page never renders a non-image inline.
    const page = await (await fetch(`${instance.origin}/channels/${general.id}`)).text();
    assert.doesNotMatch(page, /<img[^>]+cat\.png/);
    assert.match(page, /class="file-card"[^>]*href="[^"]+cat.png"/);
  },
});

Deno.test({
  ...opts,
  name: "path tricks in file names give a clean name, a safe Content-Disposition and a random storage key",
  async fn() {
    const { instance, member, general } = await filesInstance();
    await using _ = instance;
    const cases: Array<[string, string]> = [
      ["../../etc/passwd", "passwd"],
      ["..\\..\\windows\\system.ini", "system.ini"],
      ["evil\u0000.txt", "evil.txt"],
      ["invoice\u202Efdp.exe", "invoicefdp.exe"],
      ['say "hi"; filename=owned.html', 'say "hi"; filename=owned.html'],
      ["line\r\nSet-Cookie: a=b", "lineSet-Cookie: a=b"],
      ["..", "file"],
      ["   ", "file"],
      ["é😀/名前.txt", "名前.txt"],
      [`${"a".repeat(400)}.txt`, `${"a".repeat(251)}.txt`],
    ];
    const dir = instance.harmony.config.filesDir!;
    for (const [raw, expected] of cases) {
      const descriptor = await member.upload(general.id, text("content"), raw);
      assert.equal(descriptor.name, expected, `name of ${JSON.stringify(raw)}`);
      await member.post(general.id, "file", [descriptor]);
      const response = await fetch(descriptor.url);
      assert.equal(response.status, 200);
      await response.body?.cancel();
      const disposition = response.headers.get("content-disposition")!;
      const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''([A-Za-z0-9%!._~-]+)$/.exec(
        disposition,
      );
      assert.ok(match, `a well-formed header for ${JSON.stringify(raw)}: ${disposition}`);
      assert.doesNotMatch(
        match[1],
        // deno-lint-ignore no-control-regex
        /["\\/%\x00-\x1f\x7f]/,
        "the ASCII fallback has no quotes, slashes or controls",
      );
      assert.equal(decodeURIComponent(match[2]), expected, "filename* carries the clean name exactly");
      const row = (await fileRow(instance, descriptor.id))!;
      assert.match(row.storageKey, /^[0-9a-f]{32}$/, "the storage key is random hex, never from the name");
      assert.ok(await Deno.stat(`${dir}/${row.storageKey.slice(0, 2)}/${row.storageKey}`));
    }
    // Nothing was written outside the files directory.
    for (const blob of await blobsOn(dir)) {
      assert.match(blob.slice(dir.length), /^\/[0-9a-f]{2}\/[0-9a-f]{32}$/);
    }
    await assert.rejects(Deno.stat(`${dir}/../etc/passwd`), Deno.errors.NotFound);
    // A name in the URL is decoration: the id alone finds the file.
    const one = await member.upload(general.id, text("x"), "a.txt");
    const other = await fetch(one.url.replace(/\/[^/]+$/, "/..%2F..%2Fsecret"), {
      headers: { authorization: `Bearer ${member.token}` },
    });
    assert.equal(other.status, 200);
    assert.match(other.headers.get("content-disposition")!, /filename="a.txt"/);
    await other.body?.cancel();
  },
});

Deno.test({
  ...opts,
  name: "files are encrypted at rest: the blob holds no plaintext and the database holds no key in the clear",
  async fn() {
    const { instance, member, general } = await filesInstance();
    await using _ = instance;
    const secret = text("TOP-SECRET-PLAINTEXT ".repeat(5000)); // several chunks
    const descriptor = await member.upload(general.id, secret, "secret.txt");
    await member.post(general.id, "here", [descriptor]);
    const row = (await fileRow(instance, descriptor.id))!;
    const dir = instance.harmony.config.filesDir!;
    const blob = await Deno.readFile(`${dir}/${row.storageKey.slice(0, 2)}/${row.storageKey}`);
    assert.ok(blob.length > secret.length, "the blob is the sealed file");
    assert.equal(contains(blob, text("TOP-SECRET")), false, "no plaintext in the blob");

    const keyFile = instance.harmony.config.filesKeyFile!;
    assert.equal((await Deno.stat(keyFile)).mode! & 0o077, 0, "the key file is private to its owner");
    const fileKey = await rawFileKey(keyFile, row);
    assert.equal(fileKey.length, 32);
    const kekText = (await Deno.readTextFile(keyFile)).trim();
    await instance.harmony.database.client.execute("PRAGMA wal_checkpoint(FULL)");
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    for (const path of [instance.databaseUrl.slice(5), `${instance.databaseUrl.slice(5)}-wal`]) {
      const bytes = await Deno.readFile(path).catch(() => new Uint8Array());
      for (
        const needle of [
          fileKey,
          text(btoa(String.fromCharCode(...fileKey))),
          text(hex(fileKey)),
          text(kekText),
        ]
      ) {
        assert.equal(contains(bytes, needle), false, `${path} holds no key in the clear`);
      }
      assert.equal(contains(bytes, text("TOP-SECRET")), false, `${path} holds no file content`);
    }
    // The download still gives the plaintext back.
    assert.deepEqual(new Uint8Array(await (await fetch(descriptor.url)).arrayBuffer()), secret);
  },
});

Deno.test({
  ...opts,
  name: "with another files key the stored files cannot be opened (the database alone reveals nothing)",
  async fn() {
    const key = "11".repeat(32);
    const { instance, member, general } = await filesInstance({ HARMONY_FILES_KEY: key });
    await using _ = instance;
    const descriptor = await member.upload(general.id, text("hello"), "a.txt");
    await member.post(general.id, "f", [descriptor]);
    const row = (await fileRow(instance, descriptor.id))!;
    // The env key was used: the key file was never written.
    await assert.rejects(Deno.stat(instance.harmony.config.filesKeyFile!), Deno.errors.NotFound);
    const { unwrapFileKey, loadKek } = await import("../../server/files/cipher.ts");
    const wrong = await loadKek({ keyText: "22".repeat(32), keyFile: "/nonexistent" });
    await assert.rejects(
      unwrapFileKey(wrong, row.kekId, `urn:uuid:${row.id}`, row.wrappedKey),
      /another files key/,
    );
    await assert.rejects(
      unwrapFileKey({ ...wrong, id: row.kekId }, row.kekId, `urn:uuid:${row.id}`, row.wrappedKey),
      /cannot be unwrapped/,
    );
  },
});

Deno.test({
  ...opts,
  name: "a message can only attach its author's own unchanged uploads to that channel",
  async fn() {
    const { instance, owner, member, general } = await filesInstance();
    await using _ = instance;
    const other = await owner.createChannel("other");
    const ownersFile = await owner.upload(general.id, PNG, "owner.png");
    const stolen = await refusal(member.post(general.id, "mine now", [ownersFile]));
    assert.equal(stolen.status, 403);
    assert.match(stolen.message, /only attach files you uploaded/);

    const elsewhere = await member.upload(other.id, PNG, "other.png");
    assert.equal((await refusal(member.post(general.id, "x", [elsewhere]))).code, "wrong_channel");

    const mine = await member.upload(general.id, PNG, "mine.png");
    for (
      const tampered of [
        { ...mine, size: mine.size + 1 },
        { ...mine, mediaType: "text/html" },
        { ...mine, name: "other.png" },
        { ...mine, digest: `sha256-${"A".repeat(43)}=` },
        { ...mine, url: "https://evil.example/x.png" },
      ]
    ) {
      assert.equal((await refusal(member.post(general.id, "x", [tampered]))).code, "attachment_mismatch");
    }
    const unknown = { ...mine, id: "urn:uuid:00000000-0000-4000-8000-000000000000" };
    assert.equal((await refusal(member.post(general.id, "x", [unknown]))).code, "unknown_file");
    // A refused post claims nothing: the file can still be attached, once.
    await member.post(general.id, "ok", [mine]);
    assert.equal((await refusal(member.post(general.id, "again", [mine]))).code, "file_attached");
    const history = (await owner.history(general.id)).messages;
    assert.deepEqual(history.map((m) => m.content), ["ok"]);
  },
});

Deno.test({
  ...opts,
  name:
    "downloads follow the channel: visitors are refused on members-only channels, uploads stay private until posted",
  async fn() {
    const { instance, owner, member, general } = await filesInstance();
    await using _ = instance;
    const secretChannel = await owner.createChannel("staff", { visibility: "members" });
    const descriptor = await member.upload(secretChannel.id, PNG, "plan.png");
    // Before a message carries it, only the uploader can fetch it.
    assert.equal((await member.download(descriptor.url)).status, 200);
    assert.equal((await owner.download(descriptor.url)).status, 404);
    assert.equal((await fetch(descriptor.url)).status, 404);
    await member.post(secretChannel.id, "plan", [descriptor]);
    const visitor = await fetch(descriptor.url);
    assert.ok([401, 403, 404].includes(visitor.status), `a visitor gets ${visitor.status}`);
    assert.doesNotMatch(await visitor.text(), /PNG/);
    const reader = await owner.download(descriptor.url);
    assert.equal(reader.status, 200);
    assert.deepEqual(new Uint8Array(await reader.arrayBuffer()), PNG);
    // Unknown and malformed ids are plain 404s.
    assert.equal((await fetch(`${instance.origin}/files/not-a-uuid/x`)).status, 404);
    assert.equal(
      (await fetch(`${instance.origin}/files/00000000-0000-4000-8000-000000000000/x`)).status,
      404,
    );
    // The general channel is public: a visitor may read what is posted there.
    const open = await member.upload(general.id, PNG, "open.png");
    await member.post(general.id, "open", [open]);
    assert.equal((await (await fetch(open.url)).arrayBuffer()).byteLength, PNG.length);
  },
});

Deno.test({
  ...opts,
  name: "limits the owner sets take effect at once; members cannot change them",
  async fn() {
    const { instance, owner, member, general } = await filesInstance();
    await using _ = instance;
    assert.deepEqual(await member.fileLimits(), { maxFileSize: 10 * 1024 * 1024, maxFilesPerMessage: 10 });
    assert.equal((await refusal(member.setFileLimits({ maxFileSize: 1 << 30 }))).status, 403);
    assert.equal((await refusal(owner.setFileLimits({ maxFileSize: 5 }))).code, "invalid_max_file_size");
    assert.equal(
      (await refusal(owner.setFileLimits({ maxFilesPerMessage: 0 }))).code,
      "invalid_max_files_per_message",
    );

    // A body that is not one JSON object is refused, and the limits stay as they were.
    for (const raw of ["{not json", "[1,2]", ""]) {
      const response = await fetch(`${instance.origin}/api/files/limits`, {
        method: "PUT",
        headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/json" },
        body: raw,
      });
      assert.equal(response.status, 400, raw);
      assert.equal((await response.json()).error, "malformed_json", raw);
    }
    assert.deepEqual(await owner.fileLimits(), { maxFileSize: 10 * 1024 * 1024, maxFilesPerMessage: 10 });

    await member.upload(general.id, new Uint8Array(3000), "ok.bin");
    await owner.setFileLimits({ maxFileSize: 2048, maxFilesPerMessage: 1 });
    assert.equal((await refusal(member.upload(general.id, new Uint8Array(3000), "big.bin"))).status, 413);
    const a = await member.upload(general.id, new Uint8Array(100), "a.bin");
    const b = await member.upload(general.id, new Uint8Array(100), "b.bin");
    assert.equal((await refusal(member.post(general.id, "two", [a, b]))).code, "too_many_files");
    await member.post(general.id, "one", [a]);
    // The settings page form changes them too.
    const panel = await fetch(`${instance.origin}/ui/files/settings`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    assert.match(await panel.text(), /name="maxFilesPerMessage"[^>]*value="1"/);
    const saved = await fetch(`${instance.origin}/ui/files/settings`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${owner.token}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "maxFileSizeMb=1&maxFilesPerMessage=3",
    });
    assert.match(await saved.text(), /File limits saved/);
    assert.deepEqual(await member.fileLimits(), { maxFileSize: 1024 * 1024, maxFilesPerMessage: 3 });
  },
});

Deno.test({
  ...opts,
  name: "uploads no message uses are swept after the window; deleting a message removes its files",
  async fn() {
    const { instance, member, general, owner } = await filesInstance();
    await using _ = instance;
    const h = instance.harmony;
    const dir = h.config.filesDir!;
    const unattached = await member.upload(general.id, text("forgotten"), "forgotten.txt");
    const kept = await member.upload(general.id, PNG, "kept.png");
    const message = await member.post(general.id, "kept", [kept]);

    assert.equal((await sweepFiles(h)).removed, 0, "nothing is due yet");
    const later = Date.now() + 25 * 3600_000;
    assert.equal((await sweepFiles(h, later)).removed, 1);
    assert.equal(await fileRow(instance, unattached.id), null, "the unattached upload is gone");
    assert.ok(await fileRow(instance, kept.id), "the attached one stays");
    assert.equal((await blobsOn(dir)).length, 1);

    // Deleting the message: the file is unreachable and leaves storage at once.
    await owner.delete(message);
    assert.equal((await fetch(kept.url)).status, 404);
    assert.equal(await fileRow(instance, kept.id), null);
    assert.deepEqual(await blobsOn(dir), []);

    // A deletion that arrived another way (a bridge) is caught by the sweep.
    const third = await member.upload(general.id, PNG, "third.png");
    const m3 = await member.post(general.id, "third", [third]);
    await h.database.writeSql((tx) => tx.run("UPDATE message_index SET deleted = 1 WHERE id = ?", [m3.id]));
    assert.equal((await fetch(third.url)).status, 404, "unreachable as soon as the message is deleted");
    assert.equal((await sweepFiles(h)).removed, 1);
    const count = await h.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM files`);
    assert.equal(Number(count[0].n), 0);

    // A claim whose message never got stored (a crash between the two) is swept after a grace period.
    const claimed = await member.upload(general.id, PNG, "claimed.png");
    const ghost = "urn:uuid:00000000-0000-4000-8000-00000000abcd";
    await h.database.writeSql((tx) =>
      tx.run("UPDATE files SET message = ?, attached_at = ? WHERE id = ?", [
        ghost,
        Date.now(),
        claimed.id.slice(9),
      ])
    );
    assert.equal((await sweepFiles(h)).removed, 0, "within the grace period");
    assert.equal((await sweepFiles(h, Date.now() + 11 * 60_000)).removed, 1);
    assert.deepEqual(await blobsOn(dir), []);
  },
});

Deno.test({
  ...opts,
  name: "a timed-out member cannot upload",
  async fn() {
    const { instance, owner, member, general } = await filesInstance();
    await using _ = instance;
    await owner.timeout(member.did, 600);
    const refused = await refusal(member.upload(general.id, PNG, "x.png"));
    assert.deepEqual([refused.status, refused.code], [403, "timed_out"]);
    assert.equal((await allFileRows(instance)).length, 0);
  },
});

Deno.test({
  ...opts,
  name:
    "downloads serve byte ranges (resumed downloads, media seeking), refuse ranges past the end, and ignore stale If-Range",
  async fn() {
    const { instance, member, general } = await filesInstance();
    await using _ = instance;
    // Three and a bit sealed chunks of random bytes.
    const size = 3 * 65536 + 1234;
    const data = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536) {
      data.set(crypto.getRandomValues(new Uint8Array(Math.min(65536, size - at))), at);
    }
    const descriptor = await member.upload(general.id, data, "data.bin");
    await member.post(general.id, "data", [descriptor]);

    const whole = await fetch(descriptor.url);
    assert.equal(whole.headers.get("accept-ranges"), "bytes");
    const etag = whole.headers.get("etag")!;
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), data);

    const ranged = async (range: string, extra: Record<string, string> = {}) => {
      const response = await fetch(descriptor.url, { headers: { range, ...extra } });
      return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
    };
    for (
      const [range, start, end] of [
        ["bytes=0-99", 0, 99],
        ["bytes=65530-65545", 65530, 65545],
        ["bytes=70000-", 70000, size - 1],
        ["bytes=-100", size - 100, size - 1],
        ["bytes=196000-999999", 196000, size - 1],
      ] as const
    ) {
      const { response, bytes } = await ranged(range);
      assert.equal(response.status, 206, range);
      assert.equal(response.headers.get("content-range"), `bytes ${start}-${end}/${size}`, range);
      assert.equal(response.headers.get("content-length"), String(end - start + 1), range);
      assert.equal(response.headers.get("content-type"), "application/octet-stream");
      assert.deepEqual(bytes, data.slice(start, end + 1), range);
    }

    const past = await ranged(`bytes=${size}-`);
    assert.equal(past.response.status, 416);
    assert.equal(past.response.headers.get("content-range"), `bytes */${size}`);
    assert.equal(past.bytes.length, 0);

    // Several ranges or a bad header: the whole file, as the RFC allows.
    for (const range of ["bytes=0-1,5-6", "bytes=9-3", "pages=1-2"]) {
      const { response, bytes } = await ranged(range);
      assert.equal(response.status, 200, range);
      assert.equal(bytes.length, size, range);
    }
    // HEAD gives the headers and opens nothing (no blob handle is left behind).
    const blobHandles = () =>
      [...Deno.readDirSync("/proc/self/fd")].filter((fd) => {
        try {
          return Deno.readLinkSync(`/proc/self/fd/${fd.name}`).startsWith(instance.dir);
        } catch {
          return false;
        }
      }).length;
    const handlesBefore = blobHandles();
    for (const headers of [{ range: "bytes=0-9" }, {}] as Record<string, string>[]) {
      for (let i = 0; i < 5; i++) {
        const head = await fetch(descriptor.url, { method: "HEAD", headers });
        assert.equal(head.status, headers.range ? 206 : 200);
        assert.equal(head.headers.get("content-length"), headers.range ? "10" : String(size));
        await head.body?.cancel();
      }
    }
    assert.equal(blobHandles(), handlesBefore);
    // If-Range names the version the client holds: a match gets the range, anything else the whole file.
    assert.equal((await ranged("bytes=0-9", { "if-range": etag })).response.status, 206);
    const stale = await ranged("bytes=0-9", { "if-range": '"sha256-stale"' });
    assert.equal(stale.response.status, 200);
    assert.deepEqual(stale.bytes, data);
  },
});
