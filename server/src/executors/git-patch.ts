import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Change } from "@flick/shared";
import { runGit } from "../lib/git.ts";
import { type Executor, ExecutorError } from "./types.ts";

type PatchChange = Extract<Change, { type: "patch" }>;

const MAX_DIFF_BYTES = 1024 * 1024;

/** Every path a unified diff touches, from its headers (diff --git, ---/+++, renames and copies). */
export function diffPaths(diff: string): string[] {
  const paths = new Set<string>();
  const unquote = (p: string) => (p.startsWith('"') ? (JSON.parse(p) as string) : p);
  for (const line of diff.split("\n")) {
    let m = /^diff --git (\S+|"[^"]+") (\S+|"[^"]+")/.exec(line);
    if (m) {
      paths.add(unquote(m[1] as string).replace(/^a\//, ""));
      paths.add(unquote(m[2] as string).replace(/^b\//, ""));
      continue;
    }
    m = /^(?:---|\+\+\+) (\S+|"[^"]+")/.exec(line);
    if (m && m[1] !== "/dev/null") {
      paths.add(unquote(m[1] as string).replace(/^[ab]\//, ""));
      continue;
    }
    m = /^(?:rename|copy) (?:from|to) (.+)$/.exec(line);
    if (m) paths.add(unquote(m[1] as string));
  }
  return [...paths];
}

/** Why a diff may not be applied, or null when it is safe to try. */
export function unsafeDiffReason(diff: string): string | null {
  if (Buffer.byteLength(diff) > MAX_DIFF_BYTES) return `the diff is larger than ${MAX_DIFF_BYTES} bytes`;
  if (diff.includes("\u0000")) return "the diff contains a NUL byte";
  if (/^GIT binary patch/m.test(diff)) return "binary patches are not applied";
  if (/^(?:new file mode|new mode|old mode|deleted file mode) 120000/m.test(diff))
    return "the diff creates or changes a symlink";
  if (/^(?:new file mode|new mode) 160000/m.test(diff)) return "the diff changes a submodule";
  const paths = diffPaths(diff);
  if (paths.length === 0) return "the diff touches no file";
  for (const p of paths) {
    const normal = path.posix.normalize(p);
    if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return `"${p}" is an absolute path`;
    if (normal.startsWith("../") || normal === ".." || p.split("/").includes(".."))
      return `"${p}" points outside the repository`;
    if (p.split("/").some((part) => part.toLowerCase() === ".git")) return `"${p}" is inside .git/`;
  }
  return null;
}

function git(cwd: string, args: string[], input?: string): Promise<string> {
  return runGit(cwd, args, { input }).then((out) => out.trim());
}

/**
 * Applies a card's unified diff to a configured repository: a fresh worktree on a new branch
 * (flick/<card id>), `git apply --check` first, then a commit naming the card, optionally pushed.
 * The main checkout is never touched. Diffs reaching outside the repository or into .git/,
 * symlinks, binaries and oversized diffs are refused before git sees them.
 */
export const gitPatchExecutor: Executor<PatchChange> = {
  name: "git-patch",
  // The branch name is fixed per card, so a second run finds the first one's commit.
  resumable: () => true,
  async run(ctx, change) {
    const repo = ctx.config.GIT_REPOS?.[change.repository];
    if (!repo)
      throw new ExecutorError(`repository "${change.repository}" is not configured (GIT_REPOS)`, false);
    const unsafe = unsafeDiffReason(change.diff);
    if (unsafe) throw new ExecutorError(`refused: ${unsafe}`, false);

    const branch = `flick/${ctx.card.id}`;
    const trailer = `Flick-Card: ${ctx.card.id}`;
    const existing = await git(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]).catch(
      () => "",
    );
    if (existing) {
      const message = await git(repo, ["log", "-1", "--format=%B", existing]);
      if (message.includes(trailer)) {
        ctx.log(`branch ${branch} already has the commit ${existing}`);
        return { branch, sha: existing, note: "already applied" };
      }
      await git(repo, ["branch", "-D", branch]);
    }

    const dir = mkdtempSync(path.join(tmpdir(), "flick-worktree-"));
    let worktreeAdded = false;
    try {
      await git(repo, ["worktree", "add", "--quiet", "-b", branch, dir, "HEAD"]);
      worktreeAdded = true;
      try {
        await git(dir, ["apply", "--check", "--index", "--whitespace=nowarn", "-"], change.diff);
      } catch (err) {
        throw new ExecutorError(`the diff does not apply: ${(err as Error).message.slice(0, 500)}`, false);
      }
      if (ctx.dryRun) {
        ctx.log("dry run: the diff applies cleanly");
        return { dryRun: true, applies: true };
      }
      await git(dir, ["apply", "--index", "--whitespace=nowarn", "-"], change.diff);
      const subject = (change.message ?? ctx.card.title).split("\n")[0]?.slice(0, 120) ?? ctx.card.title;
      await git(dir, [
        "-c",
        "user.name=Flick",
        "-c",
        "user.email=flick@localhost",
        "commit",
        "--quiet",
        "-m",
        `${subject}\n\n${trailer}`,
      ]);
      const sha = await git(dir, ["rev-parse", "HEAD"]);
      ctx.log(`committed ${sha} on ${branch}`);
      if (ctx.config.GIT_PUSH) {
        try {
          await git(dir, ["push", "--quiet", "origin", `${branch}:${branch}`]);
          ctx.log(`pushed ${branch}`);
        } catch (err) {
          throw new ExecutorError(
            `committed ${sha} but the push failed: ${(err as Error).message.slice(0, 300)}`,
            true,
          );
        }
      }
      return { branch, sha, pushed: ctx.config.GIT_PUSH };
    } finally {
      if (worktreeAdded) await git(repo, ["worktree", "remove", "--force", dir]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      if (ctx.dryRun) await git(repo, ["branch", "-D", branch]).catch(() => {});
    }
  },
};
