/** Files in messages (images inline, other files as cards) and the file limits in the settings. */
import type { MessageView } from "../server/shared/model.ts";
import type { Attachment } from "../server/documents/signed.ts";

/** Raster images a page shows inline (the same set the download route serves inline). */
const INLINE_IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return `${value >= 10 || Number.isInteger(value) ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** A short label for a media type: "PNG image", "PDF", "text"... */
function kindOf(mediaType: string): string {
  const [top, sub] = mediaType.split("/");
  if (mediaType === "application/octet-stream") return "file";
  if (mediaType === "text/plain") return "text";
  if (top === "application") return sub.toUpperCase();
  return `${sub.toUpperCase()} ${top}`;
}

// Bidirectional overrides and other invisible characters are already removed from names uploaded
// here; names in messages from bridged instances are cleaned again for display.
// deno-lint-ignore no-control-regex
const invisible = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const shown = (name: string) => name.replace(invisible, "") || "file";

function FileCard(props: { file: Attachment; local: boolean }) {
  const { file, local } = props;
  const host = local ? null : originOf(file.url)?.replace(/^https?:\/\//, "");
  return (
    <a
      class="file-card"
      href={file.url}
      download={local ? shown(file.name) : undefined}
      rel="noopener noreferrer nofollow"
      title={shown(file.name)}
    >
      <span class="file-icon" aria-hidden="true">📄</span>
      <span class="file-name">{shown(file.name)}</span>
      <span class="file-meta">
        {formatSize(file.size)} · {kindOf(file.mediaType)}
        {host ? ` · on ${host}` : ""}
      </span>
    </a>
  );
}

/**
 * A message's files: images stored here inline at a bounded size (width
 * and height from the image header, so the page does not jump), everything
 * else, and every file held by another instance, as a download card.
 */
export function Attachments(props: { message: MessageView }) {
  const list = props.message.attachments ?? [];
  if (list.length === 0) return null;
  const here = originOf(props.message.channel);
  return (
    <ul class="attachments" aria-label="Attached files">
      {list.map((file) => {
        const local = here !== null && originOf(file.url) === here;
        return (
          <li>
            {local && INLINE_IMAGES.has(file.mediaType)
              ? (
                <a class="attachment-image" href={file.url} target="_blank" rel="noopener noreferrer">
                  <img
                    src={file.url}
                    alt={shown(file.name)}
                    width={file.width}
                    height={file.height}
                    loading="lazy"
                    decoding="async"
                  />
                </a>
              )
              : <FileCard file={file} local={local} />}
          </li>
        );
      })}
    </ul>
  );
}

export interface FileLimitsView {
  maxFileSize: number;
  maxFilesPerMessage: number;
}

/** The settings page's files section: a placeholder the panel replaces (admins only). */
export function FilesSection() {
  return (
    <section
      aria-labelledby="s-files"
      id="files-settings"
      hx-get="/ui/files/settings"
      hx-trigger="load"
      hx-swap="innerHTML"
    >
      <h2 id="s-files">Files</h2>
      <p class="muted">Loading…</p>
    </section>
  );
}

export function FilesSettingsPanel(props: { limits: FileLimitsView; notice?: string }) {
  const mb = props.limits.maxFileSize / (1024 * 1024);
  return (
    <>
      <h2 id="s-files">Files</h2>
      {props.notice ? <p class="notice-line" role="status">{props.notice}</p> : null}
      <form hx-post="/ui/files/settings" hx-target="#files-settings" hx-swap="innerHTML" class="row">
        <label for="max-file-size">Largest file (MB)</label>
        <input
          id="max-file-size"
          name="maxFileSizeMb"
          type="number"
          min="0.01"
          max="1024"
          step="any"
          value={String(Number.isInteger(mb) ? mb : Number(mb.toFixed(2)))}
          required
        />
        <label for="max-files">Files per message</label>
        <input
          id="max-files"
          name="maxFilesPerMessage"
          type="number"
          min="1"
          max="20"
          value={String(props.limits.maxFilesPerMessage)}
          required
        />
        <button type="submit">Save file limits</button>
      </form>
      <p class="muted">Files are stored encrypted; images show inline, other files as downloads.</p>
    </>
  );
}
