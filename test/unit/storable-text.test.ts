import { describe, expect, it } from "vitest";
import { nestsDeeperThan, storableText, unstorableAt } from "../../server/src/lib/storable-text.ts";

describe("text the database cannot hold (a NUL, half a surrogate pair)", () => {
  it("replaces every NUL and lone surrogate in strings and keys, deep, and leaves the rest as it was", () => {
    const when = new Date(0);
    const bytes = new Uint8Array([0, 1]);
    const value = {
      a: "x\u0000y\u0000",
      "k\u0000": [1, "\uD800", { when, bytes, n: null, ok: "fine \uD83D\uDE00", tail: "\uDE00 \uD83D" }],
    };
    expect(storableText(value)).toEqual({
      a: "x\uFFFDy\uFFFD",
      "k\uFFFD": [1, "\uFFFD", { when, bytes, n: null, ok: "fine \uD83D\uDE00", tail: "\uFFFD \uFFFD" }],
    });
    // The caller's value is not changed; nor copied where there is nothing to replace.
    expect(value.a).toBe("x\u0000y\u0000");
    const clean = { a: ["b", { c: 1 }], d: "e \uD83D\uDE00" };
    expect(storableText(clean)).toBe(clean);
  });

  it("names where the first such text is, as a field path, and what it holds", () => {
    expect(unstorableAt({ name: "ok", tags: ["a", "b\u0000"] })).toEqual({
      path: "tags.1",
      holds: "a NUL character (\\u0000)",
    });
    expect(unstorableAt({ settings: { "x\uDC00": 1 } })).toEqual({
      path: "settings.x\uFFFD",
      holds: "half of a surrogate pair",
    });
    expect(unstorableAt("a\u0000")?.path).toBe("body");
    expect(unstorableAt({ name: "ok \uD83D\uDE00", n: 3, when: new Date(0) })).toBeNull();
  });

  it("tells JSON nested deeper than a limit, however deep, without recursing", () => {
    const nest = (n: number) => JSON.parse(`${"[".repeat(n)}${"]".repeat(n)}`);
    expect(nestsDeeperThan(nest(100), 100)).toBe(false);
    expect(nestsDeeperThan(nest(101), 100)).toBe(true);
    expect(nestsDeeperThan(nest(200_000), 100)).toBe(true);
    expect(nestsDeeperThan({ a: [{ b: { c: 1 } }], d: "x" }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: { c: [] } }] }, 4)).toBe(true);
    expect(nestsDeeperThan("text", 0)).toBe(false);
  });
});
