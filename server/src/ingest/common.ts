import type { ZodType } from "zod";
import { safeEqual } from "../lib/crypto.ts";
import { AppError, validationError } from "../lib/errors.ts";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../lib/storable-text.ts";
import type { IngestRequest } from "./types.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as text: UTF-8, or UTF-16 when it starts with UTF-16's byte order mark (Google Play's
 * review exports and Excel's "Unicode text" are UTF-16).
 */
export function bodyText(req: IngestRequest): string {
  const [a, b] = req.body;
  const encoding = a === 0xff && b === 0xfe ? "utf-16le" : a === 0xfe && b === 0xff ? "utf-16be" : null;
  try {
    return encoding ? new TextDecoder(encoding, { fatal: true }).decode(req.body) : decoder.decode(req.body);
  } catch {
    throw new AppError("bad_request", `request body is not valid ${encoding?.toUpperCase() ?? "UTF-8"}`);
  }
}

export function parseJson(text: string, what = "request body"): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AppError("invalid_json", `${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (nestsDeeperThan(json))
    throw new AppError("validation_failed", `${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  return json;
}

/** zod parse whose failure names the field: "pull_request.number: expected number". */
export function check<T>(schema: ZodType<T>, value: unknown, prefix = ""): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(
    result.error.issues.map((issue) => ({
      path: [prefix, ...issue.path.map(String)].filter(Boolean).join("."),
      message: issue.message,
    })),
  );
}

/** `Authorization: Bearer <source secret>`, compared in constant time. */
export function verifyBearer(secret: string, req: IngestRequest): void {
  const header = req.headers.get("authorization");
  if (!header) throw new AppError("unauthorized", "Authorization: Bearer <source secret> is required");
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1] || !safeEqual(match[1], secret)) {
    throw new AppError("unauthorized", "the bearer token does not match this source's secret");
  }
}

/** A stable string for a label set: keys sorted, so {a,b} and {b,a} are the same series. */
export function labelKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",");
}

/** The last moment an ISO date (and PostgreSQL, reading one) writes with a four-digit year. */
const LATEST = Date.UTC(10000, 0, 1) - 1;

/**
 * A sender's time: Unix time (seconds unless clearly milliseconds) or an ISO date, from 1970 to
 * the year 9999; anything else (a microsecond count read as milliseconds, year 0001 for "unknown")
 * is no time at all.
 */
export function toDate(value: string | number | undefined | null): Date | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const d = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  const t = d.getTime();
  return Number.isNaN(t) || t < 0 || t > LATEST ? undefined : d;
}
