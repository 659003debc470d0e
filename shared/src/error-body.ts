import type { ErrorBody } from "./errors.ts";

/**
 * A zod-free check, so the web bundle does not carry zod just to read error replies.
 * (The web app imports this file alone through "@flick/shared/error-body".)
 */
export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  if (typeof error !== "object" || error === null) return false;
  const e = error as Record<string, unknown>;
  return typeof e.code === "string" && typeof e.message === "string" && typeof e.requestId === "string";
}
