import type { AppType } from "@flick/server/app";
import type { ErrorBody } from "@flick/shared";
import { isErrorBody } from "@flick/shared/error-body";
import { hc } from "hono/client";

/** The typed API client; same origin, so the session cookie rides along. */
export const api = hc<AppType>("/", { init: { credentials: "same-origin" } });

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
  ) {
    super(body?.error.message ?? `the server answered ${status}`);
  }
  get code(): string {
    return this.body?.error.code ?? "unknown";
  }
}

/** Reads a JSON reply, turning the server's error model into an ApiError with its message. */
export async function unwrap<T>(
  request: Promise<{ ok: boolean; status: number; json(): Promise<T> }>,
): Promise<T> {
  let res: Awaited<typeof request>;
  try {
    res = await request;
  } catch {
    throw new ApiError(0, null);
  }
  if (res.ok) return res.json();
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: fall through with no body
  }
  throw new ApiError(res.status, isErrorBody(body) ? body : null);
}

/**
 * fetch for the endpoints hono/client does not type (multipart uploads, replayed offline bodies):
 * same origin, JSON or FormData in, and the server's error model out as an ApiError (status 0
 * when the network is down).
 */
export async function request<T>(
  url: string,
  init: { method?: string; json?: unknown; form?: FormData } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? (init.json !== undefined || init.form ? "POST" : "GET"),
      credentials: "same-origin",
      headers: init.json !== undefined ? { "content-type": "application/json" } : undefined,
      body: init.form ?? (init.json !== undefined ? JSON.stringify(init.json) : undefined),
    });
  } catch {
    throw new ApiError(0, null);
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, isErrorBody(body) ? body : null);
  return body as T;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return "Can't reach the server. Check your connection.";
    // The API writes its messages to follow "error:" ("a source named "CI" already exists"); shown
    // alone, they start a sentence. A field's name ("snoozeUntil: …") keeps its case.
    return err.message.replace(/^[a-z]+(?=[ ,])/, (w) => w.charAt(0).toUpperCase() + w.slice(1));
  }
  return "Something went wrong.";
}
