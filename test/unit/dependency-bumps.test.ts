import { bumpsIn } from "@flick/server/security-agent";
import { describe, expect, it } from "vitest";
import { dependabotGroup } from "../helpers/dependency-bots.ts";

// What a dependency bot's pull request updates, read as the bots write it: the pull request agent
// matches these against open Dependabot alerts to tell a routine bump from a vulnerability's fix.
describe("dependency updates in a bot's pull request", () => {
  it("reads Dependabot's and Renovate's titles", () => {
    expect(bumpsIn("Bump semver from 7.3.8 to 7.5.2 in /frontend")).toEqual([{ pkg: "semver", to: "7.5.2" }]);
    expect(bumpsIn("chore(deps): update dependency semver to v7.5.2")).toEqual([
      { pkg: "semver", to: "7.5.2" },
    ]);
    expect(bumpsIn("Refactor the parser")).toEqual([]);
  });

  it("reads a grouped update's body: Dependabot's lines and Renovate's table", () => {
    expect(bumpsIn(dependabotGroup.title, dependabotGroup.body)).toEqual([
      { pkg: "semver", to: "7.5.2" },
      { pkg: "word-wrap", to: "1.2.4" },
    ]);
    const renovate = [
      "This PR contains the following updates:",
      "",
      "| Package | Change | Age | Confidence |",
      "|---|---|---|---|",
      "| [semver](https://github.com/npm/node-semver) | [`7.3.8` -> `7.5.2`](https://renovatebot.com/diffs/npm/semver/7.3.8/7.5.2) | ![age](x) | ![confidence](y) |",
      "| @types/node | devDependencies | patch | `20.1.0` -> `20.1.4` |",
    ].join("\n");
    expect(bumpsIn("chore(deps): update all non-major dependencies", renovate)).toEqual([
      { pkg: "semver", to: "7.5.2" },
      { pkg: "@types/node", to: "20.1.4" },
    ]);
    // Dependabot's single update names the package in its body as a link.
    expect(
      bumpsIn("Bump it", "Bumps [semver](https://github.com/npm/node-semver) from 7.3.8 to 7.5.2.\n"),
    ).toEqual([{ pkg: "semver", to: "7.5.2" }]);
  });
});
