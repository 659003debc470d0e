import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Verification } from "@flick/shared";
import { unsafeDiffReason } from "../../executors/git-patch.ts";
import { runGit } from "../../lib/git.ts";

const OUTPUT_TAIL = 3000;

export interface VerifyResult {
  ok: boolean;
  checks: Verification;
  /** What failed, for the model's next try: the reason or the test output's tail. */
  failure?: string;
}

/** git seeing none of the server's environment: a hook in the repository cannot read its secrets. */
function git(cwd: string, args: string[], input?: string): Promise<string> {
  return runGit(cwd, args, { input, inheritEnv: false });
}

let isolation: boolean | undefined;
/** Whether tests can run in a network namespace of their own (`unshare -rn`: no network at all). */
function canIsolateNetwork(): boolean {
  isolation ??= spawnSync("unshare", ["-rn", "true"], { stdio: "ignore" }).status === 0;
  return isolation;
}

/**
 * Runs the repository's test command in `dir`: through `sh -c`, with no network where the machine
 * allows a network namespace, none of the server's environment (keys and tokens stay out), a time
 * limit that kills the whole process group, and the output's tail kept.
 */
function runTests(
  dir: string,
  command: string,
  timeoutMs: number,
): Promise<{ passed: boolean; output: string; note: string }> {
  const isolated = canIsolateNetwork();
  const [bin, args] = isolated ? ["unshare", ["-rn", "sh", "-c", command]] : ["sh", ["-c", command]];
  return new Promise((resolve) => {
    const child = spawn(bin, args as string[], {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, CI: "1", LC_ALL: "C" },
    });
    let output = "";
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-OUTPUT_TAIL * 4);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    const note = isolated ? "no network" : "network not isolated: unshare is not available here";
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ passed: false, output: err.message, note });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const tail = output.slice(-OUTPUT_TAIL).trim();
      if (timedOut)
        resolve({ passed: false, output: `timed out after ${timeoutMs / 1000} s\n${tail}`, note });
      else resolve({ passed: code === 0, output: code === 0 ? tail : `exit ${code}\n${tail}`, note });
    });
  });
}

/**
 * Checks a proposed diff the way a careful person would before asking anyone: it must be safe to
 * apply (no paths outside the repository, no .git/, no symlinks), apply cleanly to HEAD in a
 * throw-away worktree, and then the repository's tests must pass on it. The main checkout is never
 * touched.
 */
export async function verifyPatch(
  repo: string,
  diff: string,
  testCommand: string | undefined,
  timeoutMs: number,
): Promise<VerifyResult> {
  const unsafe = unsafeDiffReason(diff);
  if (unsafe) {
    const detail = `refused: ${unsafe}`;
    return { ok: false, checks: [{ check: "diff applies", status: "failed", detail }], failure: detail };
  }
  const dir = mkdtempSync(path.join(tmpdir(), "flick-verify-"));
  let added = false;
  try {
    await git(repo, ["worktree", "add", "--quiet", "--detach", dir, "HEAD"]);
    added = true;
    try {
      await git(dir, ["apply", "--whitespace=nowarn", "-"], diff);
    } catch (err) {
      const detail = (err as Error).message.slice(0, 1000);
      return {
        ok: false,
        checks: [{ check: "diff applies", status: "failed", detail }],
        failure: `the diff does not apply to HEAD: ${detail}`,
      };
    }
    const checks: Verification = [
      { check: "diff applies", status: "passed", detail: "applies cleanly to HEAD" },
    ];
    if (!testCommand) {
      checks.push({
        check: "tests",
        status: "skipped",
        detail: "no test command is configured (FIXER_TEST_COMMAND)",
      });
      return { ok: true, checks };
    }
    const run = await runTests(dir, testCommand, timeoutMs);
    checks.push({
      check: `tests: ${testCommand}`,
      status: run.passed ? "passed" : "failed",
      detail: `${run.note}\n${run.output}`.trim().slice(-OUTPUT_TAIL),
    });
    return run.passed
      ? { ok: true, checks }
      : { ok: false, checks, failure: `the tests failed:\n${run.output}` };
  } finally {
    if (added) await git(repo, ["worktree", "remove", "--force", dir]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Read-only views of a repository's HEAD for the model's tools; nothing here writes. */
export const repoView = {
  safePath(p: string): string | null {
    const clean = path.posix.normalize(p.trim().replace(/^\.?\//, ""));
    if (clean === "." || clean === "") return "";
    if (
      clean.startsWith("/") ||
      clean.startsWith("..") ||
      clean.split("/").some((s) => s.toLowerCase() === ".git")
    )
      return null;
    return clean;
  },
  async list(repo: string, dir: string): Promise<string> {
    const out = await git(repo, ["ls-tree", "-r", "--name-only", "HEAD", ...(dir ? ["--", dir] : [])]);
    const files = out.split("\n").filter(Boolean);
    return files.length > 500
      ? `${files.slice(0, 500).join("\n")}\n… ${files.length - 500} more`
      : files.join("\n");
  },
  async read(repo: string, file: string): Promise<string> {
    const text = await git(repo, ["show", `HEAD:${file}`]);
    const numbered = text
      .split("\n")
      .map((l, i) => `${i + 1}: ${l}`)
      .join("\n");
    return numbered.length > 20_000 ? `${numbered.slice(0, 20_000)}\n… (cut at 20,000 characters)` : numbered;
  },
  async search(repo: string, query: string): Promise<string> {
    // git grep exits 1 when nothing matches.
    const out = await git(repo, ["grep", "-n", "-I", "-F", "--max-count", "20", "-e", query, "HEAD"]).catch(
      (err: Error & { exitCode?: unknown }) => (err.exitCode === 1 ? "" : Promise.reject(err)),
    );
    const lines = out
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^HEAD:/, ""));
    return lines.length === 0 ? "no matches" : lines.slice(0, 100).join("\n");
  },
};
