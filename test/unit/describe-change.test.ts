import { describeChange } from "@flick/shared";
import { describe, expect, it } from "vitest";

describe("what accepting a card does, in words", () => {
  const revert = (params: Record<string, unknown>) =>
    describeChange({ type: "github", operation: "revert_commit", repository: "acme/shop", params });

  it("a revert names the commit, or the whole push it reverts", () => {
    expect(revert({ sha: "f".repeat(40), branch: "main" })).toBe(
      "Open a pull request reverting fffffff on main in acme/shop",
    );
    // A push of several commits: "ACCEPT WILL" must not read as if only the last were reverted.
    expect(revert({ sha: "f".repeat(40), since: "c".repeat(40), branch: "main" })).toBe(
      "Open a pull request reverting the commits after ccccccc up to fffffff on main in acme/shop",
    );
  });
});
