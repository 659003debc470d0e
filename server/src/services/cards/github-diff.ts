import { type Card, type CardDiff, hasGithubDiff, isDemoCard, mergesPullRequest } from "@flick/shared";
import type { Config } from "../../config.ts";
import { AppError, conflict } from "../../lib/errors.ts";
import { githubHeaders } from "../../lib/github.ts";
import { readAtMost } from "../../lib/read-body.ts";

/** The most of a diff sent to the browser; the rest is left out and said so. */
export const MAX_DIFF_BYTES = 1_000_000;

/**
 * What a GitHub card's accept changes in code, read from GitHub when asked (a person opening "Show
 * the diff"): a merge card's pull request as GitHub diffs it, a revert card's commit (or range of
 * commits) turned around (what the revert pull request will change). Other cards have no diff here.
 */
export async function githubDiff(config: Config, card: Card): Promise<CardDiff> {
  const change = card.change;
  if (change?.type !== "github" || !hasGithubDiff(change))
    throw new AppError("not_found", "this card's change has no diff to read from GitHub");
  if (isDemoCard(card)) throw conflict("a demo card names a sample repository: there is no diff to read");
  if (!/^[\w.-]+\/[\w.-]+$/.test(change.repository))
    throw new AppError("not_found", `"${change.repository}" is not owner/name`);
  const token = config.GITHUB_TOKEN;
  if (!token) throw conflict("Flick reads diffs from GitHub with GITHUB_TOKEN, which is not set");
  const params = change.params as { number?: unknown; sha?: unknown; since?: unknown };
  const merge = mergesPullRequest(change);
  const ref = merge ? params.number : params.sha;
  if (merge ? !Number.isInteger(ref) : typeof ref !== "string" || !/^[0-9a-f]{7,40}$/.test(ref))
    throw new AppError("not_found", `the card names no ${merge ? "pull request" : "commit"}`);
  // A push of several commits reverted whole: what they changed together, turned around.
  const since =
    !merge && typeof params.since === "string" && /^[0-9a-f]{40}$/.test(params.since) ? params.since : null;
  const base = (config.GITHUB_API_URL ?? "https://api.github.com").replace(/\/$/, "");
  const path = `/repos/${change.repository}/${merge ? `pulls/${ref}` : since ? `compare/${since}...${ref}` : `commits/${ref}`}`;
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      headers: githubHeaders(token, "application/vnd.github.diff"),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new AppError("unavailable", `GitHub did not answer for ${path}: ${(err as Error).message}`);
  }
  // Read no more than is kept: a huge pull request's diff must not fill the server's memory.
  const text = (await readAtMost(res.body, MAX_DIFF_BYTES + 1)).bytes.toString("utf8");
  if (!res.ok) {
    let message = text.slice(0, 200);
    try {
      message = String((JSON.parse(text) as { message?: unknown }).message ?? message);
    } catch {
      // not JSON: the text as it came
    }
    throw new AppError(
      res.status === 404 ? "not_found" : "unavailable",
      `GitHub answered ${res.status} for ${path}: ${message}`,
    );
  }
  const { text: kept, truncated } = cut(text, MAX_DIFF_BYTES);
  return {
    diff: merge ? kept : invertDiff(kept),
    of: merge
      ? `pull request #${ref}`
      : `reverting ${since ? `${since.slice(0, 7)}..` : ""}${String(ref).slice(0, 7)}`,
    truncated,
  };
}

/**
 * A diff cut to at most `max` bytes so that what is kept is still a diff: after its last whole
 * file when that keeps at least half of it; else at a line's end, the hunk it ends in closed (its
 * header counting the lines kept), so the part shown reads and applies as a diff.
 */
export function cut(text: string, max: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(text) <= max) return { text, truncated: false };
  const decoded = Buffer.from(text).subarray(0, max).toString("utf8");
  // A character cut in two decodes as U+FFFD: the line it is on goes with the rest.
  const head = decoded.slice(0, decoded.lastIndexOf("\n") + 1);
  const file = head.lastIndexOf("\ndiff --git ");
  if (file >= 0 && Buffer.byteLength(head.slice(0, file)) >= max / 2)
    return { text: head.slice(0, file + 1), truncated: true };
  return { text: closeLastHunk(head), truncated: true };
}

/** A diff whose last hunk may be cut short, with that hunk's header counting the lines it has. */
function closeLastHunk(diff: string): string {
  const lines = diff.split("\n");
  let at = -1;
  for (let i = lines.length - 1; i >= 0 && at < 0; i--) {
    if ((lines[i] as string).startsWith("@@ ")) at = i;
    else if ((lines[i] as string).startsWith("diff --git ")) break;
  }
  const header = at < 0 ? null : /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(lines[at] as string);
  if (!header) return diff;
  let old = 0;
  let now = 0;
  for (const line of lines.slice(at + 1)) {
    if (line.startsWith("-")) old++;
    else if (line.startsWith("+")) now++;
    else if (line.startsWith(" ")) {
      old++;
      now++;
    }
  }
  // A hunk cut right after its header has nothing to show: it goes.
  if (old === 0 && now === 0) lines.splice(at, 1);
  else lines[at] = `@@ -${header[1]},${old} +${header[2]},${now} @@${header[3]}`;
  return lines.join("\n");
}

const PAIRS: [string, string][] = [
  ["old mode ", "new mode "],
  ["rename from ", "rename to "],
  ["copy from ", "copy to "],
];

/**
 * A unified diff turned around: what undoing it changes (a revert). Added lines become removed
 * ones and the other way round, each hunk's old and new ranges swap, and so do a file's old and
 * new names, modes and creation or deletion.
 */
export function invertDiff(diff: string): string {
  const swapPrefix = (path: string, from: string, to: string) =>
    path.startsWith(from) ? `${to}${path.slice(from.length)}` : path;
  const out: string[] = [];
  const lines = diff.split("\n");
  // Lines of the current hunk still to come, old side and new side (its header says how many).
  let oldLeft = 0;
  let newLeft = 0;
  const inHunk = () => oldLeft > 0 || newLeft > 0;
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    out.push(...removed, ...added);
    removed = [];
    added = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    // A run of changed lines: its removals first, then its additions, as diffs are written.
    if (inHunk() && (line.startsWith("+") || line.startsWith("-"))) {
      if (line.startsWith("+")) newLeft--;
      else oldLeft--;
      (line.startsWith("+") ? removed : added).push(`${line.startsWith("+") ? "-" : "+"}${line.slice(1)}`);
      continue;
    }
    flush();
    const git = /^diff --git (\S+) (\S+)$/.exec(line);
    if (git) {
      out.push(
        `diff --git ${swapPrefix(git[2] as string, "b/", "a/")} ${swapPrefix(git[1] as string, "a/", "b/")}`,
      );
      continue;
    }
    if (!inHunk() && line.startsWith("--- ") && lines[i + 1]?.startsWith("+++ ")) {
      const from = line.slice(4);
      const to = (lines[i + 1] as string).slice(4);
      out.push(`--- ${swapPrefix(to, "b/", "a/")}`, `+++ ${swapPrefix(from, "a/", "b/")}`);
      i++;
      continue;
    }
    const hunk = /^@@ -(\S+) \+(\S+) @@(.*)$/.exec(line);
    if (hunk) {
      const count = (range: string) => Number(range.split(",")[1] ?? 1);
      oldLeft = count(hunk[1] as string);
      newLeft = count(hunk[2] as string);
      out.push(`@@ -${hunk[2]} +${hunk[1]} @@${hunk[3]}`);
      continue;
    }
    if (inHunk() && (line.startsWith(" ") || line === "")) {
      oldLeft--;
      newLeft--;
      out.push(line);
    } else if (line.startsWith("\\")) out.push(line);
    else {
      // Pairs whose two sides swap: a mode change, a rename.
      const pair = PAIRS.find(
        ([first, second]) => line.startsWith(first) && lines[i + 1]?.startsWith(second),
      );
      if (pair) {
        const [first, second] = pair;
        const next = lines[i + 1] as string;
        out.push(`${first}${next.slice(second.length)}`, `${second}${line.slice(first.length)}`);
        i++;
        continue;
      }
      const created = /^new file mode /.exec(line);
      const deleted = /^deleted file mode /.exec(line);
      out.push(
        created
          ? `deleted file mode ${line.slice(created[0].length)}`
          : deleted
            ? `new file mode ${line.slice(deleted[0].length)}`
            : line.replace(/^index (\w+)\.\.(\w+)/, "index $2..$1"),
      );
    }
  }
  flush();
  return out.join("\n");
}
