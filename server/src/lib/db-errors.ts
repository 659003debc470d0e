/** Postgres unique_violation, looked for through drizzle's wrapping. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    if ((e as { code?: unknown }).code === "23505") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  // postgres.js
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  // PostgreSQL: shutting down, starting up, too many connections
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/** The database cannot be reached right now (down, restarting, connection lost): worth a 503. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
    if (/PGlite is closed/i.test(String((e as { message?: unknown }).message ?? ""))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * A database error refusing text it cannot hold — a NUL (in text: 22021; in jsonb: 22P05) or half a
 * surrogate pair in jsonb (22P02, "Unicode low surrogate must follow…") — looked for through
 * drizzle's wrapping.
 */
export function isTextRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    const said = `${(e as { message?: unknown }).message ?? ""} ${(e as { detail?: unknown }).detail ?? ""}`;
    if (
      (code === "22021" && /0x00/.test(said)) ||
      code === "22P05" ||
      (code === "22P02" && /surrogate/i.test(said))
    )
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
