import { githubRevertCheck, type RevertCheck } from "../executors/github.ts";
import { githubHeaders } from "../lib/github.ts";

/** Fetches a job's log text (GitHub's /actions/jobs/:id/logs), or null when it cannot. */
export type JobLogFetcher = (repository: string, jobId: number) => Promise<string | null>;

/** GitHub's job-log endpoint (it redirects to the log file; fetch follows). */
export function githubJobLogs(apiUrl: string, token: string): JobLogFetcher {
  return async (repository, jobId) => {
    const res = await fetch(`${apiUrl.replace(/\/$/, "")}/repos/${repository}/actions/jobs/${jobId}/logs`, {
      headers: githubHeaders(token),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return null;
    const text = await res.text();
    return text.slice(-2_000_000);
  };
}

/** What GitHub says of a pull request now (its REST API), beside what its webhooks told. */
export interface PullNow {
  open: boolean;
  merged: boolean;
  draft: boolean;
  head: string;
  /** false: it conflicts with its base; null: GitHub is still working that out. */
  mergeable: boolean | null;
  /** GitHub's mergeable_state: clean, unstable, has_hooks, blocked, behind, dirty, draft or unknown. */
  state: string;
  /** Its auto-merge is on. */
  autoMerge: boolean;
}

/** Asks GitHub about a pull request: what it says, or why it could not be asked (it never throws). */
export type PullFetcher = (repository: string, number: number) => Promise<PullNow | string>;

/** GitHub's pull request endpoint (GET /repos/:owner/:repo/pulls/:number). */
export function githubPulls(apiUrl: string, token: string): PullFetcher {
  return async (repository, number) => {
    try {
      const res = await fetch(`${apiUrl.replace(/\/$/, "")}/repos/${repository}/pulls/${number}`, {
        headers: githubHeaders(token),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) return `GitHub answered ${res.status}`;
      const pr = (await res.json()) as {
        state?: unknown;
        merged?: unknown;
        draft?: unknown;
        head?: { sha?: unknown };
        mergeable?: unknown;
        mergeable_state?: unknown;
        auto_merge?: unknown;
      };
      if (typeof pr.head?.sha !== "string") return "GitHub's answer named no head commit";
      return {
        open: pr.state === "open",
        merged: pr.merged === true,
        draft: pr.draft === true,
        head: pr.head.sha,
        mergeable: typeof pr.mergeable === "boolean" ? pr.mergeable : null,
        state: typeof pr.mergeable_state === "string" ? pr.mergeable_state : "unknown",
        autoMerge: pr.auto_merge !== null && pr.auto_merge !== undefined,
      };
    } catch (err) {
      return `GitHub did not answer (${(err as Error).message})`;
    }
  };
}

/**
 * What agents may read of GitHub with the team's token (see AgentContext.github): a CI job's log,
 * a pull request as GitHub sees it now, whether a revert would go through.
 */
export interface GitHubReads {
  jobLog: JobLogFetcher;
  pull: PullFetcher;
  checkRevert: RevertCheck;
}

/** GitHub's REST API at `apiUrl` (GitHub Enterprise, or a test server), read with `token`. */
export function githubReads(apiUrl: string, token: string): GitHubReads {
  return {
    jobLog: githubJobLogs(apiUrl, token),
    pull: githubPulls(apiUrl, token),
    checkRevert: githubRevertCheck(apiUrl, token),
  };
}
