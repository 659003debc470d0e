/**
 * PostgreSQL's text and jsonb hold neither the NUL character nor half of a UTF-16 surrogate pair
 * (JSON's "\ud800" on its own): one in any string fails the whole write (a batch of signals, a
 * card, an agent's state). Text from outside (a sender's JSON, a CSV, a CI log, a model's reply)
 * can carry either, so it is replaced by U+FFFD before it is stored.
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const SUSPECT = /[\0\uD800-\uDFFF]/;
const REPLACEMENT = "\uFFFD";

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function cleanString(s: string): string {
  return SUSPECT.test(s) ? s.replace(UNSTORABLE, REPLACEMENT) : s;
}

/**
 * `value` with every NUL and lone surrogate in its strings and keys replaced by U+FFFD; `value`
 * itself when it has none (nothing copied).
 */
export function storableText<T>(value: T): T {
  return scrub(value) as T;
}

function scrub(v: unknown): unknown {
  if (typeof v === "string") return cleanString(v);
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
    const key = cleanString(k);
    if (s !== x || key !== k) {
      out ??= { ...v };
      if (key !== k) delete out[k];
      out[key] = s;
    }
  }
  return out ?? v;
}

/** What in `s` cannot be stored, in words; null when all of it can. */
function unstorable(s: string): string | null {
  if (!SUSPECT.test(s)) return null;
  const found = s.match(UNSTORABLE)?.[0];
  return found === undefined
    ? null
    : found === "\0"
      ? "a NUL character (\\u0000)"
      : "half of a surrogate pair";
}

/**
 * Where in `value` the first string (or key) that cannot be stored is, as a dotted path, and
 * what it holds; null when every string can be.
 */
export function unstorableAt(value: unknown, path: string[] = []): { path: string; holds: string } | null {
  if (typeof value === "string") {
    const holds = unstorable(value);
    return holds === null ? null : { path: path.join(".") || "body", holds };
  }
  if (value === null || typeof value !== "object") return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = unstorableAt(value[i], [...path, String(i)]);
      if (at !== null) return at;
    }
    return null;
  }
  if (!isPlainObject(value)) return null;
  for (const [k, x] of Object.entries(value)) {
    const holds = unstorable(k);
    if (holds !== null) return { path: [...path, cleanString(k)].join("."), holds };
    const at = unstorableAt(x, [...path, k]);
    if (at !== null) return at;
  }
  return null;
}

/**
 * How deep JSON a sender or a client may nest: JSON.stringify (every write of it to the database)
 * overflows the stack some thousands of levels down, and no real event nests past a few dozen.
 */
export const MAX_JSON_DEPTH = 100;

/** Whether `value` nests objects and arrays deeper than `max` levels (walked without recursion). */
export function nestsDeeperThan(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: { v: object; depth: number }[] = [];
  if (value !== null && typeof value === "object") stack.push({ v: value, depth: 1 });
  for (let top = stack.pop(); top; top = stack.pop()) {
    if (top.depth > max) return true;
    for (const x of Array.isArray(top.v) ? top.v : Object.values(top.v))
      if (x !== null && typeof x === "object") stack.push({ v: x, depth: top.depth + 1 });
  }
  return false;
}
