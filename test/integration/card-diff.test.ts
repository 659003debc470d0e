import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CardDiff } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertCard } from "../helpers/db.ts";
import { git, makeRepo, runGit } from "../helpers/git.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { startRecorder } from "../helpers/http-recorder.ts";

/** The diff of a pull request adding a file of `rows` lines (`rows` × 50 bytes). */
const newFile = (name: string, rows: number) => [
  `diff --git a/${name} b/${name}`,
  "new file mode 100644",
  "--- /dev/null",
  `+++ b/${name}`,
  `@@ -0,0 +1,${rows} @@`,
  ...Array.from({ length: rows }, (_, i) => `+row ${String(i).padStart(5, "0")},${"x".repeat(38)}`),
];
/** A pull request adding a 30,000-line file: a diff of about 1.5 MB. */
const HUGE_DIFF = [...newFile("data.csv", 30_000), ""].join("\n");
/** A pull request adding two files of 700 KB each. */
const TWO_FILES = [...newFile("a.csv", 14_000), ...newFile("b.csv", 14_000), ""].join("\n");

/** Whether git would apply `diff` to an empty repository (so it is a whole diff, not a cut one). */
function applies(diff: string): boolean {
  const dir = makeRepo("flick-cut-", { "README.md": "empty\n" });
  try {
    runGit(dir, ["apply", "--check", "-"], { input: diff });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * "Show the diff" on a merge or revert card: the server reads the diff from GitHub (a local server
 * speaking GitHub's diff media type, serving what `git` itself diffs in a real repository) and, for
 * a revert, turns it around. Applying what it answers to the pushed commit must give back the
 * commit before it.
 */
describe.each(drivers)("a GitHub card's diff on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let repo: string;
  let pushed: string;
  let github: Awaited<ReturnType<typeof startRecorder>>;

  beforeAll(async () => {
    repo = makeRepo("flick-diff-", {
      "cart.py": "def total(items):\n    return sum(i.price for i in items)\n",
      "old.txt": "to be deleted\n",
      "script.sh": "echo hi\n",
      "notes.txt": "a\nb\nc\nd\ne\nf\n",
    });
    // The push the rollback card would revert: a change, a new file, a deleted one, a mode change,
    // a rename.
    writeFileSync(
      path.join(repo, "cart.py"),
      "def total(items):\n    return sum(i.price * i.quantity for i in items)\n",
    );
    mkdirSync(path.join(repo, "docs"), { recursive: true });
    writeFileSync(path.join(repo, "docs/new.md"), "# New\n");
    unlinkSync(path.join(repo, "old.txt"));
    git(repo, "mv", "notes.txt", "docs/notes.txt");
    git(repo, "update-index", "--chmod=+x", "script.sh");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "Cart: count quantities");
    pushed = git(repo, "rev-parse", "HEAD");
    github = await startRecorder((req) => {
      if (req.headers.accept !== "application/vnd.github.diff") return { status: 415, body: {} };
      if (req.path === `/repos/acme/shop/commits/${pushed}`)
        // What GitHub serves for a commit as a diff: git's own patch of it.
        return { status: 200, text: `${runGit(repo, ["show", "--format=", "--full-index", pushed])}\n` };
      const compare = /^\/repos\/acme\/shop\/compare\/([0-9a-f]{40})\.\.\.([0-9a-f]{40})$/.exec(req.path);
      if (compare)
        return {
          status: 200,
          text: `${runGit(repo, ["diff", "--full-index", `${compare[1]}...${compare[2]}`])}\n`,
        };
      if (req.path === "/repos/acme/shop/pulls/58") return { status: 200, text: HUGE_DIFF };
      if (req.path === "/repos/acme/shop/pulls/59") return { status: 200, text: TWO_FILES };
      if (req.path === "/repos/acme/shop/pulls/57")
        return { status: 200, text: `${runGit(repo, ["diff", "--full-index", `${pushed}~1`, pushed])}\n` };
      return { status: 404, body: { message: "Not Found" } };
    });
    t = await startTestApp(driver, { GITHUB_TOKEN: "ghp_test", GITHUB_API_URL: github.url });
    admin = await t.setupAdmin();
  });
  afterAll(async () => {
    await t?.close();
    await github?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  const diffOf = (id: string) => t.request<CardDiff>(`/api/cards/${id}/diff`, { cookie: admin });

  it("a revert card's diff undoes the pushed commit: applied to it, the commit before comes back", async () => {
    const card = await insertCard(t.database.db, {
      change: {
        type: "github",
        operation: "revert_commit",
        repository: "acme/shop",
        params: { sha: pushed, branch: "main" },
      },
    });
    const res = await diffOf(card.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body.of).toBe(`reverting ${pushed.slice(0, 7)}`);
    expect(res.body.diff).toContain("-    return sum(i.price * i.quantity for i in items)");
    expect(res.body.diff).toContain("+    return sum(i.price for i in items)");
    expect(res.body.diff).toContain("rename from docs/notes.txt\nrename to notes.txt");
    // The token went to GitHub, asking for the diff media type.
    expect(github.requests.at(-1)?.headers.authorization).toBe("Bearer ghp_test");
    runGit(repo, ["apply", "--index", "-"], { input: res.body.diff });
    expect(git(repo, "write-tree")).toBe(git(repo, "rev-parse", `${pushed}~1^{tree}`));
    expect(readFileSync(path.join(repo, "old.txt"), "utf8")).toBe("to be deleted\n");
    git(repo, "reset", "-q", "--hard", pushed);
  });

  it("a card reverting a push of several commits shows what they changed together, turned around", async () => {
    const before = git(repo, "rev-parse", `${pushed}~1`);
    writeFileSync(path.join(repo, "docs/new.md"), "# New\n\nAnd more.\n");
    git(repo, "commit", "-q", "-am", "Docs: more");
    const last = git(repo, "rev-parse", "HEAD");
    try {
      const card = await insertCard(t.database.db, {
        change: {
          type: "github",
          operation: "revert_commit",
          repository: "acme/shop",
          params: { sha: last, since: before, branch: "main" },
        },
      });
      const res = await diffOf(card.id);
      expect(res.status, res.text).toBe(200);
      expect(res.body.of).toBe(`reverting ${before.slice(0, 7)}..${last.slice(0, 7)}`);
      expect(github.requests.at(-1)?.path).toBe(`/repos/acme/shop/compare/${before}...${last}`);
      runGit(repo, ["apply", "--index", "-"], { input: res.body.diff });
      expect(git(repo, "write-tree")).toBe(git(repo, "rev-parse", `${before}^{tree}`));
    } finally {
      git(repo, "reset", "-q", "--hard", pushed);
    }
  });

  it("a merge card's diff is the pull request's, as GitHub diffs it", async () => {
    const card = await insertCard(t.database.db, {
      change: { type: "github", operation: "merge_pr", repository: "acme/shop", params: { number: 57 } },
    });
    const res = await diffOf(card.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ of: "pull request #57", truncated: false });
    expect(res.body.diff).toContain("+    return sum(i.price * i.quantity for i in items)");
    expect(res.body.diff).toContain("new file mode 100644");
  });

  it("a card queueing a pull request for merging shows the same diff", async () => {
    const card = await insertCard(t.database.db, {
      change: {
        type: "github",
        operation: "enqueue_pr",
        repository: "acme/shop",
        params: { number: 57, sha: "a".repeat(40), nodeId: "PR_kwDOshop57" },
      },
    });
    const res = await diffOf(card.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ of: "pull request #57", truncated: false });
    expect(res.body.diff).toContain("+    return sum(i.price * i.quantity for i in items)");
  });

  it("cuts a huge diff under a megabyte, and says so, keeping what it shows a diff that applies", async () => {
    const merge = (number: number) =>
      insertCard(t.database.db, {
        change: { type: "github", operation: "merge_pr", repository: "acme/shop", params: { number } },
      });
    expect(applies(HUGE_DIFF)).toBe(true);
    // One huge file: cut at a line, its hunk closed at the rows kept.
    const res = await diffOf((await merge(58)).id);
    expect(res.status, res.text).toBe(200);
    expect(res.body.truncated).toBe(true);
    expect(Buffer.byteLength(res.body.diff)).toBeLessThanOrEqual(1_000_000);
    expect(Buffer.byteLength(res.body.diff)).toBeGreaterThan(900_000);
    const lines = res.body.diff.trimEnd().split("\n");
    // Whole lines only: the last one kept is a row as it was sent.
    expect(lines.at(-1)).toMatch(/^\+row \d{5},x{38}$/);
    const rows = lines.filter((l) => l.startsWith("+row")).length;
    expect(lines).toContain(`@@ -0,0 +1,${rows} @@`);
    expect(applies(res.body.diff)).toBe(true);
    // Two files: the first whole, the second left out.
    const two = await diffOf((await merge(59)).id);
    expect(two.body.truncated).toBe(true);
    expect(two.body.diff).toBe([...newFile("a.csv", 14_000), ""].join("\n"));
    expect(applies(two.body.diff)).toBe(true);
  });

  it("says why there is none: no GitHub change, a demo card, an unknown pull request", async () => {
    const plain = await insertCard(t.database.db);
    expect((await diffOf(plain.id)).body).toMatchObject({
      error: { code: "not_found", message: "this card's change has no diff to read from GitHub" },
    });
    const demo = await insertCard(t.database.db, {
      agent: "demo",
      change: { type: "github", operation: "merge_pr", repository: "acme/shop", params: { number: 57 } },
    });
    const refused = await diffOf(demo.id);
    expect(refused.status).toBe(409);
    expect(refused.text).toContain("a demo card names a sample repository");
    const gone = await insertCard(t.database.db, {
      change: { type: "github", operation: "merge_pr", repository: "acme/shop", params: { number: 99 } },
    });
    const missing = await diffOf(gone.id);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain("GitHub answered 404 for /repos/acme/shop/pulls/99: Not Found");
    // Signed out: nothing.
    expect((await t.request(`/api/cards/${gone.id}/diff`)).status).toBe(401);
  });
});

describe("a GitHub card's diff without a token", () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp("pglite");
    admin = await t.setupAdmin();
  });
  afterAll(async () => t?.close());

  it("says the token is what is missing", async () => {
    const card = await insertCard(t.database.db, {
      change: { type: "github", operation: "merge_pr", repository: "acme/shop", params: { number: 57 } },
    });
    const res = await t.request(`/api/cards/${card.id}/diff`, { cookie: admin });
    expect(res.status).toBe(409);
    expect(res.text).toContain("Flick reads diffs from GitHub with GITHUB_TOKEN, which is not set");
  });
});
