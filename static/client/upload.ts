/**
 * Attaching files in the composer: each chosen file uploads at once
 * (POST /api/files, the raw bytes, the name in X-File-Name); the server
 * answers with its descriptor, which the next message signs in its
 * `attachment` (static/client/chat.ts).
 */
import type { Attachment } from "../../server/documents/signed.ts";
import { RequestError } from "./http.ts";

interface Pending {
  id: number;
  name: string;
  descriptor: Attachment | null;
  done: Promise<void>;
  item: HTMLLIElement;
}

export interface Uploads {
  /** Descriptors of the files uploaded so far (waits for uploads still running). */
  ready(): Promise<Attachment[]>;
  /** Forgets the sent files. */
  clear(): void;
  count(): number;
}

function csrfToken(): string | null {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? null;
}

export async function uploadFile(channelId: string, file: File): Promise<Attachment> {
  const headers: Record<string, string> = {
    accept: "application/json",
    "content-type": "application/octet-stream",
    "x-file-name": encodeURIComponent(file.name),
  };
  const csrf = csrfToken();
  if (csrf) headers["x-csrf-token"] = csrf;
  let response: Response;
  try {
    response = await fetch(`/api/files?channel=${encodeURIComponent(channelId)}`, {
      method: "POST",
      headers,
      body: file,
      credentials: "same-origin",
    });
  } catch {
    throw new RequestError(0, "network", `${file.name}: the upload did not reach the server`);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new RequestError(
      response.status,
      data?.error ?? "http_error",
      `${file.name}: ${data?.message ?? "upload failed"}`,
    );
  }
  return data as Attachment;
}

export function initUploads(form: HTMLFormElement, onError: (message: string) => void): Uploads {
  const input = form.querySelector<HTMLInputElement>("#composer-files");
  const list = form.querySelector<HTMLUListElement>("#pending-files");
  const pending: Pending[] = [];
  let next = 0;
  const remove = (entry: Pending) => {
    const at = pending.indexOf(entry);
    if (at >= 0) pending.splice(at, 1);
    entry.item.remove();
  };
  input?.addEventListener("change", () => {
    for (const file of input.files ?? []) {
      const item = document.createElement("li");
      item.className = "pending-file uploading";
      const label = document.createElement("span");
      label.textContent = file.name;
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "link-button";
      cancel.textContent = "×";
      cancel.setAttribute("aria-label", `Remove ${file.name}`);
      item.append(label, cancel);
      list?.append(item);
      const entry: Pending = { id: next++, name: file.name, descriptor: null, done: Promise.resolve(), item };
      entry.done = uploadFile(form.dataset.channelId!, file).then(
        (descriptor) => {
          entry.descriptor = descriptor;
          item.classList.remove("uploading");
          item.dataset.fileId = descriptor.id;
        },
        (error) => {
          remove(entry);
          onError((error as Error).message);
        },
      );
      cancel.addEventListener("click", () => remove(entry));
      pending.push(entry);
    }
    input.value = "";
  });
  return {
    async ready() {
      await Promise.all(pending.map((p) => p.done));
      return pending.flatMap((p) => (p.descriptor ? [p.descriptor] : []));
    },
    clear() {
      for (const entry of [...pending]) remove(entry);
    },
    count: () => pending.length,
  };
}
