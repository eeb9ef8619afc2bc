/**
 * Static assets, all held in memory: htmx from its npm package, our
 * stylesheet, and the browser script bundled from static/client/ when the
 * instance starts (so there is no build step to run by hand).
 */
import htmxSource from "htmx.org/dist/htmx.min.js" with { type: "text" };
import styleSource from "../static/style.css" with { type: "text" };
import { sha256Hex } from "./ids.ts";

export interface Asset {
  body: string;
  type: string;
  etag: string;
}

async function asset(body: string, type: string): Promise<Asset> {
  return { body, type, etag: `"${(await sha256Hex(body)).slice(0, 16)}"` };
}

export async function bundleClient(): Promise<string> {
  const entry = new URL("../static/client/main.ts", import.meta.url).pathname;
  const result = await Deno.bundle({
    entrypoints: [entry],
    platform: "browser",
    format: "esm",
    minify: true,
    write: false,
  });
  const file = result.outputFiles?.[0];
  if (!result.success || !file) {
    throw new Error(`bundling the browser script failed: ${JSON.stringify(result.errors)}`);
  }
  return file.text();
}

let clientBundle: Promise<string> | null = null;

export async function loadAssets(): Promise<Map<string, Asset>> {
  // One bundle per process, shared by every instance it starts (tests start many).
  clientBundle ??= bundleClient();
  return new Map([
    ["htmx.min.js", await asset(htmxSource, "text/javascript; charset=utf-8")],
    ["style.css", await asset(styleSource, "text/css; charset=utf-8")],
    ["app.js", await asset(await clientBundle, "text/javascript; charset=utf-8")],
  ]);
}
