/**
 * A grouped dependency update as Dependabot writes it (its title and body, CRLF line ends as
 * GitHub delivers them): semver 7.3.8 → 7.5.2 and word-wrap 1.2.3 → 1.2.4. Written from
 * Dependabot's pull requests; the fixture set has no grouped update.
 */
export const dependabotGroup = {
  title: "Bump the npm_and_yarn group across 1 directory with 2 updates",
  body: [
    "Bumps the npm_and_yarn group with 2 updates in the / directory: [semver](https://github.com/npm/node-semver) and [word-wrap](https://github.com/jonschlinkert/word-wrap).",
    "",
    "Updates `semver` from 7.3.8 to 7.5.2",
    "- [Release notes](https://github.com/npm/node-semver/releases)",
    "",
    "Updates `word-wrap` from 1.2.3 to 1.2.4",
    "- [Release notes](https://github.com/jonschlinkert/word-wrap/releases)",
  ].join("\r\n"),
};
