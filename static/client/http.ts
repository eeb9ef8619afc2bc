/** JSON calls to our own API from pages, with the session's CSRF token. */

export class RequestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function csrfToken(): string | null {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? null;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const csrf = csrfToken();
  if (csrf) headers["x-csrf-token"] = csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new RequestError(0, "network", "the server cannot be reached; check your connection");
  }
  if (response.status === 204) return undefined as T;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new RequestError(
      response.status,
      data?.error ?? "http_error",
      data?.message ?? `request failed (${response.status})`,
    );
  }
  return data as T;
}

export function toast(message: string, error = true): void {
  const box = document.getElementById("toast");
  if (!box) return;
  const p = document.createElement("p");
  p.className = error ? "toast error" : "toast";
  p.textContent = message;
  box.replaceChildren(p);
  setTimeout(() => p.remove(), 6000);
}
