import { describe, expect, it } from "vitest";
import { nulAt, withoutNul } from "../../server/src/lib/nul.ts";

describe("text the database cannot hold (NUL)", () => {
  it("replaces every NUL in strings and keys, deep, and leaves the rest as it was", () => {
    const when = new Date(0);
    const bytes = new Uint8Array([0, 1]);
    const value = { a: "x\u0000y\u0000", "k\u0000": [1, "\u0000", { when, bytes, n: null, ok: "fine" }] };
    expect(withoutNul(value)).toEqual({
      a: "x\uFFFDy\uFFFD",
      "k\uFFFD": [1, "\uFFFD", { when, bytes, n: null, ok: "fine" }],
    });
    // The caller's value is not changed; nor copied where there is nothing to replace.
    expect(value.a).toBe("x\u0000y\u0000");
    const clean = { a: ["b", { c: 1 }], d: "e" };
    expect(withoutNul(clean)).toBe(clean);
  });

  it("names where the first NUL is, as a field path", () => {
    expect(nulAt({ name: "ok", tags: ["a", "b\u0000"] })).toBe("tags.1");
    expect(nulAt({ settings: { "x\u0000": 1 } })).toBe("settings.x\\0");
    expect(nulAt("a\u0000")).toBe("body");
    expect(nulAt({ name: "ok", n: 3, when: new Date(0) })).toBeNull();
  });
});
