import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as schema from "@flick/server/schema";
import type { Card, DecisionResult, Execution } from "@flick/shared";
import { describeOutcome } from "@flick/shared/outcome";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertCard } from "../helpers/db.ts";
import { git, makeRepo } from "../helpers/git.ts";
import { gitDataApi } from "../helpers/github-git.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { type RecordedRequest, startRecorder } from "../helpers/http-recorder.ts";

/**
 * A real history to revert in: the suspect commit changes cart.js, adds tax.js and deletes
 * legacy.js; main moved on with an unrelated commit; "hotfix" also changed cart.js after it.
 */
function makeHistoryRepo(): { dir: string; suspect: string; tip: string } {
  const dir = makeRepo("flick-history-", {
    "cart.js": "export const total = (items) => items.length;\n",
    "legacy.js": "module.exports = {};\n",
    "README.md": "# shop\n",
  });
  writeFileSync(
    path.join(dir, "cart.js"),
    "import { tax } from './tax.js';\nexport const total = (items) => tax(items.length);\n",
  );
  writeFileSync(path.join(dir, "tax.js"), "export const tax = (n) => n * 1.2;\n");
  git(dir, "rm", "-q", "legacy.js");
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "Cart: totals with tax");
  const suspect = git(dir, "rev-parse", "HEAD");
  writeFileSync(path.join(dir, "README.md"), "# shop\n\nTotals include tax.\n");
  git(dir, "commit", "-q", "-am", "Docs");
  const tip = git(dir, "rev-parse", "HEAD");
  git(dir, "checkout", "-q", "-b", "hotfix");
  writeFileSync(path.join(dir, "cart.js"), "export const total = (items) => items.length * 1.2;\n");
  git(dir, "commit", "-q", "-am", "Hotfix cart");
  git(dir, "checkout", "-q", "main");
  return { dir, suspect, tip };
}

/** The tree `git revert` leaves on `branch` of a clone of the history, reverting `what` (a commit or a range). */
function revertedByGit(history: { dir: string }, branch: string, what: string): string {
  const clone = mkdtempSync(path.join(tmpdir(), "flick-clone-"));
  try {
    git(clone, "clone", "-q", "-b", branch, history.dir, ".");
    git(clone, "-c", "user.name=T", "-c", "user.email=t@example.com", "revert", "--no-edit", what);
    return git(clone, "rev-parse", "HEAD^{tree}");
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}

/** A real repository with one commit, made for the test. */
function makeShopRepo(): string {
  return makeRepo("flick-repo-", {
    "app.js": "export function total(items) {\n  return items.reduce((s, i) => s + i.price, 0);\n}\n",
  });
}

const goodDiff = `diff --git a/app.js b/app.js
--- a/app.js
+++ b/app.js
@@ -1,3 +1,3 @@
 export function total(items) {
-  return items.reduce((s, i) => s + i.price, 0);
+  return items.reduce((s, i) => s + i.price * (i.quantity ?? 1), 0);
 }
`;

describe.each(drivers)("executors on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let rita: string;
  let repo: string;
  let github: Awaited<ReturnType<typeof startRecorder>>;
  let history: ReturnType<typeof makeHistoryRepo>;
  let queued9 = false;

  beforeAll(async () => {
    repo = makeShopRepo();
    history = makeHistoryRepo();
    const historyApi = gitDataApi(history.dir, "acme/history");
    github = await startRecorder((req) => {
      const fromGit = historyApi(req);
      if (fromGit) return fromGit;
      if (req.method === "PUT" && /\/repos\/acme\/shop\/pulls\/7\/merge$/.test(req.path)) {
        return {
          status: 200,
          body: { merged: true, sha: "abc123", message: "Pull Request successfully merged" },
        };
      }
      if (req.method === "PUT" && /\/pulls\/8\/merge$/.test(req.path)) {
        return { status: 405, body: { message: "Pull Request is not mergeable" } };
      }
      // GitHub Enterprise's GraphQL (beside /api/v3): a merge queue takes the pull request only at
      // the head the card saw; otherwise GraphQL's way of saying no, a 200 with errors.
      // (#9's head is aaaa…; the queue remembers it once it took it.)
      if (req.method === "POST" && req.path === "/api/graphql") {
        const { query, variables } = JSON.parse(req.body) as {
          query: string;
          variables?: { id?: string; sha?: string };
        };
        const refused = (message: string) => ({
          status: 200,
          body: { data: { enqueuePullRequest: null }, errors: [{ type: "UNPROCESSABLE", message }] },
        });
        if (query.startsWith("query"))
          return {
            status: 200,
            body: {
              data: {
                node: {
                  headRefOid: "a".repeat(40),
                  merged: false,
                  isInMergeQueue: queued9,
                  mergeQueueEntry: queued9 ? { position: 1 } : null,
                },
              },
            },
          };
        if (variables?.sha !== "a".repeat(40))
          return refused("Expected head oid does not match the head of the pull request");
        if (queued9) return refused("Pull request is already in the merge queue");
        queued9 = true;
        return { status: 200, body: { data: { enqueuePullRequest: { mergeQueueEntry: { position: 1 } } } } };
      }
      // GitHub's "Update branch": only while the head is the one the card saw.
      if (req.method === "PUT" && req.path === "/api/v3/repos/acme/shop/pulls/9/update-branch") {
        const { expected_head_sha } = JSON.parse(req.body) as { expected_head_sha?: string };
        return expected_head_sha === "a".repeat(40)
          ? {
              status: 202,
              body: {
                message: "Updating pull request branch.",
                url: "https://github.example/acme/shop/pull/9",
              },
            }
          : { status: 422, body: { message: "expected head sha didn't match current head ref." } };
      }
      if (req.method === "POST" && req.path === "/api/v3/repos/acme/shop/issues") {
        return { status: 201, body: { number: 42, html_url: "https://github.example/acme/shop/issues/42" } };
      }
      if (req.method === "POST" && /\/actions\/runs\/99\/rerun-failed-jobs$/.test(req.path))
        return { status: 201, body: {} };
      // The git data API, for reverting the tip of a branch.
      const tip = "c".repeat(40);
      if (req.method === "GET" && req.path === "/api/v3/repos/acme/shop/git/ref/heads/main")
        return { status: 200, body: { object: { sha: tip } } };
      if (req.method === "GET" && req.path === "/api/v3/repos/acme/shop/git/ref/heads/moved")
        return { status: 200, body: { object: { sha: "e".repeat(40) } } };
      if (req.method === "GET" && req.path === `/api/v3/repos/acme/shop/git/commits/${tip}`)
        return {
          status: 200,
          body: {
            sha: tip,
            message: "Cart: totals on the server\n\nbody",
            parents: [{ sha: "p".repeat(40) }],
          },
        };
      if (req.method === "GET" && req.path === `/api/v3/repos/acme/shop/git/commits/${"p".repeat(40)}`)
        return { status: 200, body: { sha: "p".repeat(40), tree: { sha: "tree-of-parent" } } };
      if (req.method === "POST" && req.path === "/api/v3/repos/acme/shop/git/commits")
        return { status: 201, body: { sha: "d".repeat(40) } };
      if (req.method === "POST" && req.path === "/api/v3/repos/acme/shop/git/refs")
        return { status: 201, body: {} };
      if (req.method === "POST" && req.path === "/api/v3/repos/acme/shop/pulls")
        return { status: 201, body: { number: 5, html_url: "https://github.example/acme/shop/pull/5" } };
      if (req.method === "GET" && req.path.startsWith("/api/v3/repos/acme/shop/pulls?"))
        return { status: 200, body: [] };
      return { status: 404, body: { message: "Not Found" } };
    });
    t = await startTestApp(driver, {
      UNDO_WINDOW_SECONDS: "1",
      GITHUB_TOKEN: "ghp_test_token_value",
      GITHUB_API_URL: `${github.url}/api/v3`,
      GIT_REPOS: `shop=${repo}`,
    });
    admin = await t.setupAdmin();
    rita = await t.addUser(admin, "reviewer", "rita@example.com");
  });
  afterAll(async () => {
    await github?.close();
    await t?.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(history.dir, { recursive: true, force: true });
  });

  async function acceptAndRun(change: Card["change"]): Promise<{ card: Card; execution: Execution }> {
    const card = await insertCard(t.database.db, { change });
    const res = await t.request<DecisionResult>(`/api/cards/${card.id}/decisions`, {
      cookie: rita,
      json: { verdict: "accept", cardVersion: card.version, idempotencyKey: `k-${randomUUID()}` },
    });
    expect(res.status, res.text).toBe(201);
    t.clock.advance(1_001);
    const runner = t.executions();
    while ((await runner.runNext()) !== null) {
      // run until nothing is due
    }
    const history = await t.request<{ executions: Execution[] }>(`/api/cards/${card.id}/history`, {
      cookie: rita,
    });
    const after = await t.request<{ card: Card }>(`/api/cards/${card.id}`, { cookie: rita });
    return { card: after.body.card, execution: history.body.executions[0] as Execution };
  }

  describe("GitHub (a local server speaking GitHub's REST routes)", () => {
    it("merges a pull request with the token, the API version and the merge method", async () => {
      const before = github.requests.length;
      const { card, execution } = await acceptAndRun({
        type: "github",
        operation: "merge_pr",
        repository: "acme/shop",
        params: { number: 7, method: "squash" },
      });
      expect(execution, JSON.stringify(execution)).toMatchObject({
        state: "succeeded",
        result: { merged: true, sha: "abc123" },
      });
      expect(card.status).toBe("applied");
      // What the card's history says came of it.
      expect(describeOutcome(card.change, execution.result)).toEqual({ text: "merged as abc123" });
      // The card keeps them, to say what was done.
      expect(card.evidence.outcome).toEqual({ text: "merged as abc123" });
      const req = github.requests[before] as RecordedRequest;
      expect(req.method).toBe("PUT");
      expect(req.path).toBe("/api/v3/repos/acme/shop/pulls/7/merge");
      expect(req.headers.authorization).toBe("Bearer ghp_test_token_value");
      expect(req.headers["x-github-api-version"]).toBe("2022-11-28");
      expect(JSON.parse(req.body)).toEqual({ merge_method: "squash" });
    });

    it("creates an issue and records its URL", async () => {
      const { card, execution } = await acceptAndRun({
        type: "github",
        operation: "create_issue",
        repository: "acme/shop",
        params: { title: "TypeError in checkout", body: "stack…", labels: ["bug"] },
      });
      expect(execution.result).toMatchObject({
        url: "https://github.example/acme/shop/issues/42",
        number: 42,
      });
      expect(card.evidence.outcome).toEqual({
        text: "opened acme/shop#42",
        url: "https://github.example/acme/shop/issues/42",
      });
      const req = github.requests.at(-1) as RecordedRequest;
      expect(JSON.parse(req.body)).toEqual({
        title: "TypeError in checkout",
        body: "stack…",
        labels: ["bug"],
      });
    });

    it("reverts the tip of a branch as a pull request: a commit with the parent's tree", async () => {
      const before = github.requests.length;
      const { card, execution } = await acceptAndRun({
        type: "github",
        operation: "revert_commit",
        repository: "acme/shop",
        params: { sha: "c".repeat(40), branch: "main", reason: "CI fails since this commit" },
      });
      expect(execution, JSON.stringify(execution)).toMatchObject({
        state: "succeeded",
        result: { url: "https://github.example/acme/shop/pull/5", sha: "d".repeat(40) },
      });
      expect(describeOutcome(card.change, execution.result)).toEqual({
        text: "opened pull request acme/shop#5",
        url: "https://github.example/acme/shop/pull/5",
      });
      const calls = github.requests.slice(before);
      const commit = calls.find((r) => r.method === "POST" && r.path.endsWith("/git/commits"));
      expect(JSON.parse(commit?.body ?? "{}")).toEqual({
        message: `Revert "Cart: totals on the server"\n\nThis reverts commit ${"c".repeat(40)}.`,
        tree: "tree-of-parent",
        parents: ["c".repeat(40)],
      });
      const ref = calls.find((r) => r.path.endsWith("/git/refs"));
      expect(JSON.parse(ref?.body ?? "{}")).toEqual({
        ref: "refs/heads/flick/revert-ccccccc-main",
        sha: "d".repeat(40),
      });
      const pr = calls.find((r) => r.method === "POST" && r.path.endsWith("/pulls"));
      expect(JSON.parse(pr?.body ?? "{}")).toMatchObject({ head: "flick/revert-ccccccc-main", base: "main" });
    });

    it("reverts a commit the branch has moved past: exactly what git revert makes, on top of the tip", async () => {
      const revert = { sha: history.suspect, branch: "main", reason: "CI fails since this commit" };
      const { card, execution } = await acceptAndRun({
        type: "github",
        operation: "revert_commit",
        repository: "acme/history",
        params: revert,
      });
      expect(execution, JSON.stringify(execution)).toMatchObject({
        state: "succeeded",
        result: { url: "https://github.example/acme/history/pull/1" },
      });
      expect(card.status).toBe("applied");
      const branch = `flick/revert-${history.suspect.slice(0, 7)}-main`;
      const made = git(history.dir, "rev-parse", branch);
      expect(made).toBe((execution.result as { sha: string }).sha);
      expect(git(history.dir, "rev-parse", `${made}^`)).toBe(history.tip);
      expect(git(history.dir, "log", "-1", "--format=%s", made)).toBe('Revert "Cart: totals with tax"');
      // The same revert made by git itself, in a clone.
      expect(git(history.dir, "rev-parse", `${made}^{tree}`)).toBe(
        revertedByGit(history, "main", history.suspect),
      );
      expect(git(history.dir, "show", `${made}:cart.js`)).toBe(
        "export const total = (items) => items.length;",
      );
      expect(git(history.dir, "show", `${made}:README.md`)).toContain("Totals include tax.");
      expect(git(history.dir, "ls-tree", "--name-only", made).split("\n").sort()).toEqual([
        "README.md",
        "cart.js",
        "legacy.js",
      ]);
      // main itself is untouched: the change waits in the pull request.
      expect(git(history.dir, "rev-parse", "main")).toBe(history.tip);

      // Accepting the same revert again finds the open pull request instead of opening a second.
      const again = await acceptAndRun({
        type: "github",
        operation: "revert_commit",
        repository: "acme/history",
        params: revert,
      });
      expect(again.execution.result).toMatchObject({
        number: 1,
        note: "revert pull request already open",
      });
    });

    it("reverts a push of several commits, on a branch moved past them: what git reverting the range makes", async () => {
      // A push brought "Cart: totals with tax" and "Docs" (CI ran at the last only); "later" moved
      // on from it with a commit of its own.
      const since = git(history.dir, "rev-parse", `${history.suspect}^`);
      git(history.dir, "checkout", "-q", "-b", "later", history.tip);
      writeFileSync(path.join(history.dir, "notes.md"), "later\n");
      git(history.dir, "add", "notes.md");
      git(history.dir, "commit", "-q", "-m", "Notes");
      const later = git(history.dir, "rev-parse", "HEAD");
      git(history.dir, "checkout", "-q", "main");
      const { card, execution } = await acceptAndRun({
        type: "github",
        operation: "revert_commit",
        repository: "acme/history",
        params: { sha: history.tip, since, branch: "later", reason: "CI fails since this push" },
      });
      expect(execution, JSON.stringify(execution)).toMatchObject({ state: "succeeded" });
      expect(card.status).toBe("applied");
      const range = `${since.slice(0, 7)}..${history.tip.slice(0, 7)}`;
      const made = git(history.dir, "rev-parse", `flick/revert-${range.replace("..", "-")}-later`);
      expect(git(history.dir, "rev-parse", `${made}^`)).toBe(later);
      expect(git(history.dir, "log", "-1", "--format=%B", made)).toBe(
        [
          `Revert 2 commits, ${range}`,
          "",
          `This reverts commits ${since}..${history.tip}:`,
          `- ${history.suspect.slice(0, 7)} Cart: totals with tax`,
          `- ${history.tip.slice(0, 7)} Docs`,
        ].join("\n"),
      );
      expect(git(history.dir, "rev-parse", `${made}^{tree}`)).toBe(
        revertedByGit(history, "later", `${since}..${history.tip}`),
      );
      expect(git(history.dir, "show", `${made}:notes.md`)).toBe("later");

      // A range the wrong way round (a force-push rewrote it) reverts nothing.
      const backwards = await acceptAndRun({
        type: "github",
        operation: "revert_commit",
        repository: "acme/history",
        params: { sha: since, since: history.tip, branch: "main" },
      });
      expect(backwards.execution.state).toBe("failed");
      expect(backwards.execution.error).toContain(
        `${history.tip.slice(0, 7)} does not come before ${since.slice(0, 7)} (GitHub compares them as "behind"): there is no range to revert`,
      );
    });

    it("refuses to revert when a later commit changed the same files, naming them", async () => {
      const before = github.requests.length;
      const { card, execution } = await acceptAndRun({
        type: "github",
        operation: "revert_commit",
        repository: "acme/history",
        params: { sha: history.suspect, branch: "hotfix" },
      });
      expect(execution.state).toBe("failed");
      expect(execution.error).toMatch(
        new RegExp(
          `hotfix has moved past ${history.suspect.slice(0, 7)} .*later commits changed cart\\.js; reverting it needs a merge`,
        ),
      );
      expect(card.status).toBe("failed");
      expect(github.requests.slice(before).filter((r) => r.method !== "GET")).toEqual([]);
      expect(git(history.dir, "branch", "--list", "flick/*")).not.toContain("hotfix");
    });

    it("re-runs failed jobs of a workflow run", async () => {
      const { execution } = await acceptAndRun({
        type: "github",
        operation: "rerun_workflow",
        repository: "acme/shop",
        params: { runId: 99 },
      });
      expect(execution.state).toBe("succeeded");
      expect(github.requests.at(-1)?.path).toBe("/api/v3/repos/acme/shop/actions/runs/99/rerun-failed-jobs");
    });

    it("fails the card with GitHub's reason when the PR cannot be merged", async () => {
      const { card, execution } = await acceptAndRun({
        type: "github",
        operation: "merge_pr",
        repository: "acme/shop",
        params: { number: 8 },
      });
      expect(card.status).toBe("failed");
      expect(execution.error).toContain("GitHub answered 405");
      expect(execution.error).toContain("not mergeable");
      expect(execution.attempts).toBe(1);
      // The card says why, as its history does.
      expect(card.evidence.outcome).toEqual({ text: execution.error });
    });

    it("updates a pull request's branch with its base, only at the head the card saw", async () => {
      const update = (sha: string) =>
        acceptAndRun({
          type: "github",
          operation: "update_branch",
          repository: "acme/shop",
          params: { number: 9, sha },
        });
      const done = await update("a".repeat(40));
      expect(done.execution.state).toBe("succeeded");
      expect(done.card.status).toBe("applied");
      const req = github.requests.at(-1) as RecordedRequest;
      expect(`${req.method} ${req.path}`).toBe("PUT /api/v3/repos/acme/shop/pulls/9/update-branch");
      expect(JSON.parse(req.body)).toEqual({ expected_head_sha: "a".repeat(40) });
      // Someone pushed since the card: GitHub refuses, and the card says why (no retry).
      const moved = await update("b".repeat(40));
      expect(moved.card.status).toBe("failed");
      expect(moved.execution.error).toContain("GitHub answered 422");
      expect(moved.execution.error).toContain("expected head sha didn't match");
      expect(moved.execution.attempts).toBe(1);
    });

    it("adds a pull request to its merge queue through GraphQL, only at the head the card saw", async () => {
      const enqueue = (sha: string) =>
        acceptAndRun({
          type: "github",
          operation: "enqueue_pr",
          repository: "acme/shop",
          params: { number: 9, sha, nodeId: "PR_kwDOshop9" },
        });
      const done = await enqueue("a".repeat(40));
      expect(done.execution.state).toBe("succeeded");
      expect(describeOutcome(done.card.change, done.execution.result)).toEqual({
        text: "added to the merge queue (position 1)",
      });
      expect(done.card.status).toBe("applied");
      const req = github.requests.at(-1) as RecordedRequest;
      expect(`${req.method} ${req.path}`).toBe("POST /api/graphql");
      expect(req.headers.authorization).toMatch(/^Bearer /);
      expect((JSON.parse(req.body) as { variables: unknown }).variables).toEqual({
        id: "PR_kwDOshop9",
        sha: "a".repeat(40),
      });
      // Pushed to since: GitHub says no, and the card says why (no retry).
      const moved = await enqueue("b".repeat(40));
      expect(moved.card.status).toBe("failed");
      expect(moved.execution.error).toBe(
        "GitHub refused adding it to the merge queue: Expected head oid does not match the head of the pull request",
      );
      expect(moved.execution.attempts).toBe(1);
      // Queued already at the head the card saw (an earlier try got there, its answer lost): done,
      // not a refusal.
      const again = await enqueue("a".repeat(40));
      expect(again.execution.state).toBe("succeeded");
      expect(again.execution.result).toMatchObject({
        queued: true,
        position: 1,
        note: "already in the merge queue",
      });
      expect(again.card.status).toBe("applied");
      expect(describeOutcome(again.card.change, again.execution.result)).toEqual({
        text: "already in the merge queue (position 1)",
      });
    });

    it("names a bad parameter instead of calling GitHub", async () => {
      const before = github.requests.length;
      const { execution } = await acceptAndRun({
        type: "github",
        operation: "comment",
        repository: "acme/shop",
        params: { number: "seven", body: "hi" },
      });
      expect(execution.error).toMatch(/^comment: number: /);
      expect(github.requests.length).toBe(before);
    });
  });

  describe("git patch (a real repository made in the test)", () => {
    it("commits the diff on a new branch in a worktree, leaving the main checkout alone", async () => {
      const headBefore = git(repo, "rev-parse", "HEAD");
      const { card, execution } = await acceptAndRun({
        type: "patch",
        repository: "shop",
        diff: goodDiff,
        message: "Count quantities in totals",
      });
      expect(execution, JSON.stringify(execution)).toMatchObject({ state: "succeeded" });
      expect(card.status).toBe("applied");
      const result = execution.result as { branch: string; sha: string };
      expect(result.branch).toBe(`flick/${card.id}`);
      expect(git(repo, "rev-parse", result.branch)).toBe(result.sha);
      expect(git(repo, "log", "-1", "--format=%B", result.sha)).toContain(`Flick-Card: ${card.id}`);
      expect(git(repo, "show", `${result.sha}:app.js`)).toContain("i.quantity ?? 1");
      // The person's checkout did not move and its files did not change.
      expect(git(repo, "rev-parse", "HEAD")).toBe(headBefore);
      expect(readFileSync(path.join(repo, "app.js"), "utf8")).not.toContain("quantity");
      expect(git(repo, "worktree", "list")).not.toContain("flick-worktree");
      expect(describeOutcome(card.change, execution.result)).toEqual({
        text: `committed ${result.sha.slice(0, 7)} on flick/${card.id}`,
      });
    });

    it("fails with the reason when the diff does not apply", async () => {
      const stale = goodDiff.replace("s + i.price, 0", "s + i.cost, 0");
      const { card, execution } = await acceptAndRun({ type: "patch", repository: "shop", diff: stale });
      expect(card.status).toBe("failed");
      expect(execution.error).toMatch(/^the diff does not apply: /);
    });

    it("refuses a diff that climbs out of the repository or writes into .git, before running git", async () => {
      const climbing = goodDiff
        .replaceAll("a/app.js", "a/../outside.js")
        .replaceAll("b/app.js", "b/../outside.js");
      const first = await acceptAndRun({ type: "patch", repository: "shop", diff: climbing });
      expect(first.execution.error).toBe('refused: "../outside.js" points outside the repository');
      const hooks = goodDiff.replaceAll("app.js", ".git/hooks/pre-commit");
      const second = await acceptAndRun({ type: "patch", repository: "shop", diff: hooks });
      expect(second.execution.error).toBe('refused: ".git/hooks/pre-commit" is inside .git/');
      const unknown = await acceptAndRun({ type: "patch", repository: "elsewhere", diff: goodDiff });
      expect(unknown.execution.error).toContain('repository "elsewhere" is not configured');
    });

    it("refuses a diff that would write through a symlink the repository holds", async () => {
      const outside = mkdtempSync(path.join(tmpdir(), "flick-outside-"));
      try {
        symlinkSync(outside, path.join(repo, "vendor"));
        git(repo, "add", "vendor");
        git(repo, "commit", "-q", "-m", "vendor link");
        const through = `diff --git a/vendor/evil.js b/vendor/evil.js
new file mode 100644
--- /dev/null
+++ b/vendor/evil.js
@@ -0,0 +1 @@
+console.log("written outside the repository");
`;
        const { card, execution } = await acceptAndRun({ type: "patch", repository: "shop", diff: through });
        expect(card.status).toBe("failed");
        expect(execution.error).toMatch(/beyond a symbolic link/);
        expect(readdirSync(outside)).toEqual([]);
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });

    it("answers 'what would accept do' with a dry run through the API, touching nothing", async () => {
      const card = await insertCard(t.database.db, {
        change: { type: "patch", repository: "shop", diff: goodDiff },
      });
      const branchesBefore = git(repo, "branch", "--list");
      const res = await t.request<{ ok: boolean; executor: string; result: unknown }>(
        `/api/cards/${card.id}/dry-run`,
        {
          cookie: rita,
          method: "POST",
        },
      );
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ ok: true, executor: "git-patch", result: { applies: true } });
      expect(git(repo, "branch", "--list")).toBe(branchesBefore);
      const gh = await insertCard(t.database.db, {
        change: { type: "github", operation: "merge_pr", repository: "acme/shop", params: { number: 7 } },
      });
      const before = github.requests.length;
      const planned = await t.request<{ ok: boolean; result: { method: string; path: string } }>(
        `/api/cards/${gh.id}/dry-run`,
        {
          cookie: rita,
          method: "POST",
        },
      );
      expect(planned.body.result).toMatchObject({ method: "PUT", path: "/repos/acme/shop/pulls/7/merge" });
      expect(github.requests.length).toBe(before);
      const bad = await insertCard(t.database.db, {
        change: { type: "patch", repository: "shop", diff: goodDiff.replaceAll("app.js", "../x.js") },
      });
      const refused = await t.request<{ ok: boolean; error: string }>(`/api/cards/${bad.id}/dry-run`, {
        cookie: rita,
        method: "POST",
      });
      expect(refused.body).toMatchObject({
        ok: false,
        error: 'refused: "../x.js" points outside the repository',
      });
    });

    it("rehearses a demo card's change on accept, even where it could be carried out for real", async () => {
      // This install has the demo's repository ("shop"), a GitHub token that reaches acme/shop and
      // a "rollback" action: accepting the sample cards must still touch none of them.
      const made = await t.request(`/api/actions`, {
        cookie: admin,
        json: { name: "rollback", url: `${github.url}/rollback` },
      });
      expect(made.status, made.text).toBe(201);
      expect((await t.request("/api/admin/demo", { cookie: admin, method: "POST" })).status).toBe(201);
      const feed = await t.request<{ cards: Card[] }>("/api/feed?agent=demo", { cookie: rita });
      const demo = feed.body.cards;
      expect(demo.map((c) => c.change?.type).sort()).toEqual(["github", "github", "patch", "webhook"]);
      const requestsBefore = github.requests.length;
      const branchesBefore = git(repo, "branch", "--list");
      const preview = await t.request<{ ok: boolean; result: unknown }>(`/api/cards/${demo[0]?.id}/dry-run`, {
        cookie: rita,
        method: "POST",
      });
      expect(preview.body).toMatchObject({ ok: true, result: { rehearsal: true } });
      for (const card of demo) {
        const res = await t.request<DecisionResult>(`/api/cards/${card.id}/decisions`, {
          cookie: rita,
          json: { verdict: "accept", cardVersion: card.version, idempotencyKey: `k-${randomUUID()}` },
        });
        expect(res.status, res.text).toBe(201);
        expect(res.body.execution?.dryRun).toBe(true);
      }
      t.clock.advance(1_001);
      const runner = t.executions();
      while ((await runner.runNext()) !== null) {
        // run until nothing is due
      }
      for (const card of demo) {
        const history = await t.request<{ executions: Execution[] }>(`/api/cards/${card.id}/history`, {
          cookie: rita,
        });
        const run = history.body.executions[0];
        expect(run, card.title).toMatchObject({
          state: "succeeded",
          dryRun: true,
          result: { rehearsal: true },
        });
        expect(run?.log).toContain("nothing outside Flick was changed");
        const after = await t.request<{ card: Card }>(`/api/cards/${card.id}`, { cookie: rita });
        expect(after.body.card.status).toBe("applied");
        // A rehearsal did nothing: the card says nothing was done.
        expect(after.body.card.evidence.outcome).toBeUndefined();
      }
      const words = await t.request<{ executions: Execution[] }>(
        `/api/cards/${demo.find((c) => c.change?.type === "webhook")?.id}/history`,
        { cookie: rita },
      );
      expect(words.body.executions[0]?.result).toEqual({
        rehearsal: true,
        wouldDo: 'Run the "rollback" action for checkout, back to 9f8e7d',
      });
      expect(github.requests.length).toBe(requestsBefore);
      expect(git(repo, "branch", "--list")).toBe(branchesBefore);
    });

    it("does a dry run that checks the diff applies and changes nothing", async () => {
      const card = await insertCard(t.database.db, {
        change: { type: "patch", repository: "shop", diff: goodDiff },
      });
      const res = await t.request<DecisionResult>(`/api/cards/${card.id}/decisions`, {
        cookie: rita,
        json: { verdict: "accept", cardVersion: card.version, idempotencyKey: `k-${randomUUID()}` },
      });
      await t.database.db
        .update(schema.executions)
        .set({ dryRun: true })
        .where(eq(schema.executions.id, res.body.execution?.id ?? ""));
      t.clock.advance(1_001);
      const branchesBefore = git(repo, "branch", "--list");
      expect(await t.executions().runNext()).toMatchObject({ state: "succeeded" });
      const [row] = await t.database.db
        .select()
        .from(schema.executions)
        .where(eq(schema.executions.id, res.body.execution?.id ?? ""));
      expect(row?.result).toEqual({ dryRun: true, applies: true });
      expect(git(repo, "branch", "--list")).toBe(branchesBefore);
    });
  });
});
