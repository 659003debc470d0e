/**
 * The small JSONPath subset generic webhooks need: `$.a.b`, `$.items[0].id`, `$['odd key']`,
 * and the same without the leading `$`. Returns undefined for anything missing.
 */
const steps: { pattern: RegExp; token: (m: RegExpExecArray) => string | number }[] = [
  { pattern: /^\.?([A-Za-z_$][\w$-]*)/, token: (m) => m[1] as string },
  { pattern: /^\[(\d+)\]/, token: (m) => Number(m[1]) },
  { pattern: /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]/, token: (m) => (m[1] as string).replace(/\\(.)/g, "$1") },
  { pattern: /^\[\s*"((?:[^"\\]|\\.)*)"\s*\]/, token: (m) => (m[1] as string).replace(/\\(.)/g, "$1") },
];

export function parsePath(path: string): (string | number)[] {
  const tokens: (string | number)[] = [];
  let rest = path.trim().replace(/^\$/, "");
  outer: while (rest.length > 0) {
    for (const step of steps) {
      const m = step.pattern.exec(rest);
      if (!m) continue;
      tokens.push(step.token(m));
      rest = rest.slice(m[0].length);
      continue outer;
    }
    throw new Error(`cannot read the path "${path}" at "${rest}"`);
  }
  return tokens;
}

export function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const token of parsePath(path)) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[token];
  }
  return current;
}

/** A path's value as short text for titles and ids; objects and arrays are not text. */
export function readText(value: unknown, path: string | undefined, max = 300): string | undefined {
  if (!path) return undefined;
  const v = readPath(value, path);
  if (typeof v === "string") return v.slice(0, max) || undefined;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}
