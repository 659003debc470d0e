import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Card } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  desktop,
  type E2E,
  githubFixture,
  githubSource,
  greenDependabotPr,
  startE2E,
} from "../helpers/e2e.ts";
import { startRecorder } from "../helpers/http-recorder.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

/** The pull request's diff as GitHub serves it with `Accept: application/vnd.github.diff`. */
const PR_DIFF = `diff --git a/package.json b/package.json
index 1111111..2222222 100644
--- a/package.json
+++ b/package.json
@@ -10,7 +10,7 @@
   "dependencies": {
     "express": "^4.18.2",
-    "semver": "^7.3.8",
+    "semver": "^7.5.2",
     "zod": "^3.22.0"
   }
 }
`;

describe("a merge card's diff on the desktop, in Chromium", () => {
  let e2e: E2E;
  let github: Awaited<ReturnType<typeof startRecorder>>;
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    // A local server speaking GitHub's REST routes: the pull request (as JSON, which the agent asks
    // before its card, and as its diff) and its base branch's rules (none), nothing else.
    const pull = githubFixture("pull_request/opened.payload.json").pull_request as { head: object };
    github = await startRecorder((req) =>
      req.path.startsWith("/repos/wolfy1339/pika-pack/rules/branches/")
        ? { status: 200, body: [] }
        : req.path !== "/repos/wolfy1339/pika-pack/pulls/5"
          ? { status: 404, body: { message: "Not Found" } }
          : req.headers.accept === "application/vnd.github.diff"
            ? { status: 200, text: PR_DIFF }
            : {
                status: 200,
                body: {
                  ...pull,
                  number: 5,
                  head: { ...pull.head, sha: "5".repeat(40) },
                  mergeable: true,
                  mergeable_state: "clean",
                },
              },
    );
    e2e = await startE2E({ env: { GITHUB_TOKEN: "ghp_test", GITHUB_API_URL: github.url } });
  });
  afterAll(async () => {
    await e2e?.close();
    await github?.close();
  });

  it("shows the pull request's changes, read from GitHub, when d is pressed", async () => {
    // Dependabot's pull request through the real ingest and agents (GitHub's fixtures, moved to
    // one repository), its checks green: a merge card.
    const send = await githubSource(e2e);
    const { repository } = githubFixture("dependabot_alert/created.payload.json");
    await greenDependabotPr(send, repository, {
      number: 5,
      title: "Bump semver from 7.3.8 to 7.5.2",
      sha: "5".repeat(40),
    });
    await expect
      .poll(async () => (await e2e.api<{ cards: Card[] }>("/api/feed")).cards.map((c) => c.title), {
        timeout: 15_000,
      })
      .toContain("Merge #5: Bump semver from 7.3.8 to 7.5.2");

    const context = await e2e.context(desktop);
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    const card = page.locator("[data-card-id]").first();
    await card.getByRole("heading", { name: "Merge #5: Bump semver from 7.3.8 to 7.5.2" }).waitFor();
    await page.keyboard.press("d");
    // The changed lines, each on its side; the token went to GitHub, not to the browser.
    await card.getByText('"semver": "^7.5.2",').first().waitFor();
    expect(await card.getByText('"semver": "^7.3.8",').count()).toBeGreaterThan(0);
    expect(await card.getByText("Hide the diff").count()).toBe(1);
    expect(github.requests.map((r) => [r.path, r.headers.accept, r.headers.authorization])).toEqual([
      ["/repos/wolfy1339/pika-pack/pulls/5", "application/vnd.github+json", "Bearer ghp_test"],
      [
        "/repos/wolfy1339/pika-pack/rules/branches/master?per_page=100",
        "application/vnd.github+json",
        "Bearer ghp_test",
      ],
      ["/repos/wolfy1339/pika-pack/pulls/5", "application/vnd.github.diff", "Bearer ghp_test"],
    ]);
    await page.screenshot({ path: path.join(shots, "github-diff-desktop.png") });
    await context.close();
  });
});
