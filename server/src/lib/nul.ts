/**
 * PostgreSQL's text and jsonb cannot hold the NUL character: one "\u0000" in any string fails the
 * whole write (a batch of signals, a card, an agent's state). Text from outside (a sender's JSON, a
 * CSV, a CI log, a model's reply) can carry one, so it is replaced by U+FFFD before it is stored.
 */
const NUL = "\u0000";
const REPLACEMENT = "\uFFFD";

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** `value` with every NUL in its strings and keys replaced by U+FFFD; `value` itself when it has none. */
export function withoutNul<T>(value: T): T {
  return scrub(value) as T;
}

function scrub(v: unknown): unknown {
  if (typeof v === "string") return v.includes(NUL) ? v.replaceAll(NUL, REPLACEMENT) : v;
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const s = scrub(v[i]);
      if (s !== v[i]) {
        out ??= v.slice();
        out[i] = s;
      }
    }
    return out ?? v;
  }
  // Dates, byte arrays and the like hold no text the database reads as such.
  if (!isPlainObject(v)) return v;
  let out: Record<string, unknown> | null = null;
  for (const [k, x] of Object.entries(v)) {
    const s = scrub(x);
    const key = k.includes(NUL) ? k.replaceAll(NUL, REPLACEMENT) : k;
    if (s !== x || key !== k) {
      out ??= { ...v };
      if (key !== k) delete out[k];
      out[key] = s;
    }
  }
  return out ?? v;
}

/** Where in `value` the first string (or key) holding a NUL is, as a dotted path; null when none. */
export function nulAt(value: unknown, path: string[] = []): string | null {
  if (typeof value === "string") return value.includes(NUL) ? path.join(".") || "body" : null;
  if (value === null || typeof value !== "object") return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = nulAt(value[i], [...path, String(i)]);
      if (at !== null) return at;
    }
    return null;
  }
  if (!isPlainObject(value)) return null;
  for (const [k, x] of Object.entries(value)) {
    if (k.includes(NUL)) return [...path, k.replaceAll(NUL, "\\0")].join(".");
    const at = nulAt(x, [...path, k]);
    if (at !== null) return at;
  }
  return null;
}
