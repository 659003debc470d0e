import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** git in `cwd` with extra environment and standard input when given; its output, trimmed. */
export function runGit(
  cwd: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    input: options.input,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", ...options.env },
  }).trim();
}

export function git(cwd: string, ...args: string[]): string {
  return runGit(cwd, args);
}

/** A real repository made for a test: these files in one commit on main. */
export function makeRepo(prefix: string, files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.email", "dev@example.com");
  git(dir, "config", "user.name", "Dev");
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "initial");
  return dir;
}
