import { diffPaths, renderTemplate, unsafeDiffReason } from "@flick/server/executors";
import { describe, expect, it } from "vitest";

const diff = (from: string, to = from) =>
  `diff --git a/${from} b/${to}\n--- a/${from}\n+++ b/${to}\n@@ -1 +1 @@\n-a\n+b\n`;

describe("patch safety", () => {
  it("lists every path a diff touches, renames included", () => {
    expect(diffPaths(`${diff("src/a.ts")}diff --git a/x b/y\nrename from x\nrename to y\n`).sort()).toEqual([
      "src/a.ts",
      "x",
      "y",
    ]);
  });
  it("accepts an ordinary diff", () => {
    expect(unsafeDiffReason(diff("src/app.ts"))).toBeNull();
  });
  it.each([
    [diff("../etc/passwd"), "points outside"],
    [diff("src/../../x"), "points outside"],
    [diff("/etc/passwd"), "absolute path"],
    [diff(".git/config"), "inside .git/"],
    [diff("sub/.GIT/hooks/x"), "inside .git/"],
    [
      `diff --git a/l b/l\nnew file mode 120000\n--- /dev/null\n+++ b/l\n@@ -0,0 +1 @@\n+/etc/passwd\n`,
      "symlink",
    ],
    [`diff --git a/bin b/bin\nGIT binary patch\nliteral 0\n`, "binary"],
    [`${diff("a")}${"x".repeat(1024 * 1024)}`, "larger than"],
    ["just some text", "touches no file"],
  ])("refuses %#", (text, reason) => {
    expect(unsafeDiffReason(text)).toContain(reason);
  });
});

describe("webhook body templates", () => {
  it("fills placeholders with JSON-escaped text", () => {
    const body = renderTemplate(
      '{"t": "{{card.title}}", "n": "{{params.n}}", "missing": "{{params.nope}}"}',
      {
        card: { title: 'He said "roll back"\n' },
        params: { n: 3 },
      },
    );
    expect(JSON.parse(body)).toEqual({ t: 'He said "roll back"\n', n: "3", missing: "" });
  });
});
