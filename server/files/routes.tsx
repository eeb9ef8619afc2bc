/**
 * Routes of files: the JSON API (mounted under /api, docs/api.md "Files")
 * and the downloads and settings panel (mounted at /).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { invalid } from "../shared/errors.ts";
import { jsonBody } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { FilesSettingsPanel } from "../../views/files.tsx";
import { authorize } from "../authority/authorize.ts";
import { openFile, openFileRange, readableFile, uploadFile } from "./files.ts";
import { requestedSpan } from "./range.ts";
import { fileLimits, setFileLimits } from "./limits.ts";
import { contentDisposition } from "./names.ts";
import { INLINE_TYPES, PLAIN_TEXT } from "./sniff.ts";

/** File responses can never run anything, even if a browser were talked into rendering one as a page. */
const FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

function declaredLength(c: Context<AppEnv>): number | null {
  const header = c.req.header("content-length");
  if (header === undefined) return null;
  const n = Number(header);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw invalid("invalid_length", "Content-Length must be a number of bytes");
  }
  return n;
}

/** The file name: X-File-Name (percent-encoded UTF-8) or ?name=. */
function uploadName(c: Context<AppEnv>): string {
  const header = c.req.header("x-file-name");
  if (header !== undefined) {
    try {
      return decodeURIComponent(header);
    } catch {
      return header;
    }
  }
  return c.req.query("name") ?? "file";
}

export function filesApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  // The body is the file itself (not multipart): it streams to storage, counted against the limit.
  api.post("/files", async (c) => {
    const channel = c.req.query("channel");
    if (!channel) throw invalid("missing_channel", "name the channel the file is for: ?channel=<id>");
    const descriptor = await uploadFile(c.get("harmony"), c.get("actor"), {
      channel,
      name: uploadName(c),
      body: c.req.raw.body,
      declaredLength: declaredLength(c),
    });
    return c.json(descriptor, 201);
  });
  api.get("/files/limits", async (c) => c.json(await fileLimits(c.get("harmony"))));
  api.put("/files/limits", async (c) => {
    return c.json(await setFileLimits(c.get("harmony"), c.get("actor"), await jsonBody(c)));
  });
  return api;
}

export function filesWebRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  const download = async (c: Context<AppEnv>) => {
    const h = c.get("harmony");
    const row = await readableFile(h, c.get("actor"), c.req.param("id") ?? "");
    const etag = `"${row.digest}"`;
    const inline = INLINE_TYPES.has(row.mediaType);
    const headers: Record<string, string> = {
      "content-type": row.mediaType === PLAIN_TEXT ? "text/plain; charset=utf-8" : row.mediaType,
      "content-disposition": contentDisposition(inline ? "inline" : "attachment", row.name),
      "x-content-type-options": "nosniff",
      "content-security-policy": FILE_CSP,
      "cache-control": "private, no-cache",
      "cross-origin-resource-policy": "same-origin",
      etag,
    };
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    headers["accept-ranges"] = "bytes";
    // If-Range: the range holds only for the version the client has (our validator is the ETag).
    const ifRange = c.req.header("if-range");
    const span = ifRange === undefined || ifRange === etag
      ? requestedSpan(c.req.header("range"), row.size)
      : null;
    if (span === "unsatisfiable") {
      headers["content-range"] = `bytes */${row.size}`;
      return c.body(null, 416, headers);
    }
    if (span) {
      headers["content-range"] = `bytes ${span.start}-${span.end}/${row.size}`;
      headers["content-length"] = String(span.end - span.start + 1);
      // HEAD: Hono drops a GET handler's body without cancelling it, so nothing is opened for one.
      if (c.req.method === "HEAD") return c.body(null, 206, headers);
      return c.body(await openFileRange(h, row, span.start, span.end), 206, headers);
    }
    headers["content-length"] = String(row.size);
    if (c.req.method === "HEAD") return c.body(null, 200, headers);
    return c.body(await openFile(h, row), 200, headers);
  };
  web.get("/files/:id", download);
  web.get("/files/:id/:name", download);

  // The files section of the settings page (admins), loaded on demand.
  web.get("/ui/files/settings", async (c) => {
    const h = c.get("harmony");
    await authorize(h, c.get("actor"), "manage-community");
    return c.html(<FilesSettingsPanel limits={await fileLimits(h)} />);
  });
  web.post("/ui/files/settings", async (c) => {
    const h = c.get("harmony");
    const form = await c.req.parseBody();
    const megabytes = Number(form.maxFileSizeMb);
    const limits = await setFileLimits(h, c.get("actor"), {
      maxFileSize: typeof form.maxFileSizeMb === "string" && form.maxFileSizeMb.trim() !== "" &&
          Number.isFinite(megabytes)
        ? Math.round(megabytes * 1024 * 1024)
        : form.maxFileSizeMb,
      maxFilesPerMessage: form.maxFilesPerMessage,
    });
    return c.html(<FilesSettingsPanel limits={limits} notice="File limits saved." />);
  });
  return web;
}
