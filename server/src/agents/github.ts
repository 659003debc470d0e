import { githubRange, githubRevertCheck, type RangeRead, type RevertCheck } from "../executors/github.ts";
import { githubHeaders } from "../lib/github.ts";
import { readTail } from "../lib/read-body.ts";

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
    // The end is where a failed job says why; a log of hundreds of megabytes is read through, not held.
    return readTail(res.body, 2_000_000);
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
  /** Its GraphQL id (what a merge queue is given), when GitHub said. */
  nodeId: string | null;
}

/** Asks GitHub about a pull request: what it says, or why it could not be asked (it never throws). */
export type PullFetcher = (repository: string, number: number) => Promise<PullNow | string>;

/** GitHub's JSON answer at `path` of its REST API, or why there is none (it never throws). */
async function getJson(
  apiUrl: string,
  token: string,
  path: string,
): Promise<Record<string, unknown> | string> {
  try {
    const res = await fetch(`${apiUrl.replace(/\/$/, "")}${path}`, {
      headers: githubHeaders(token),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return `GitHub answered ${res.status}`;
    return (await res.json()) as Record<string, unknown>;
  } catch (err) {
    return `GitHub did not answer (${(err as Error).message})`;
  }
}

/** GitHub's pull request endpoint (GET /repos/:owner/:repo/pulls/:number). */
export function githubPulls(apiUrl: string, token: string): PullFetcher {
  return async (repository, number) => {
    const pr = (await getJson(apiUrl, token, `/repos/${repository}/pulls/${number}`)) as
      | string
      | {
          state?: unknown;
          merged?: unknown;
          draft?: unknown;
          head?: { sha?: unknown };
          mergeable?: unknown;
          mergeable_state?: unknown;
          auto_merge?: unknown;
          node_id?: unknown;
        };
    if (typeof pr === "string") return pr;
    if (typeof pr.head?.sha !== "string") return "GitHub's answer named no head commit";
    return {
      open: pr.state === "open",
      merged: pr.merged === true,
      draft: pr.draft === true,
      head: pr.head.sha,
      mergeable: typeof pr.mergeable === "boolean" ? pr.mergeable : null,
      state: typeof pr.mergeable_state === "string" ? pr.mergeable_state : "unknown",
      autoMerge: pr.auto_merge !== null && pr.auto_merge !== undefined,
      nodeId: typeof pr.node_id === "string" ? pr.node_id : null,
    };
  };
}

/** What GitHub says of an issue now. */
export interface IssueNow {
  /** Where it is: a transferred issue answers from its new repository. */
  repository: string;
  number: number;
  open: boolean;
  /** Its page. */
  url: string | null;
  /** Why it was closed: "completed", "not_planned", "duplicate", or null (closed before GitHub said). */
  reason: string | null;
  closedAt: Date | null;
}

/** Asks GitHub about an issue: what it says, or why it could not be asked (it never throws). */
export type IssueFetcher = (repository: string, number: number) => Promise<IssueNow | string>;

/** GitHub's issue endpoint (GET /repos/:owner/:repo/issues/:number; it follows a transfer). */
export function githubIssues(apiUrl: string, token: string): IssueFetcher {
  return async (repository, number) => {
    const issue = await getJson(apiUrl, token, `/repos/${repository}/issues/${number}`);
    if (typeof issue === "string") return issue;
    if (issue.state !== "open" && issue.state !== "closed") return "GitHub's answer named no state";
    const at = /github\.com\/([^/]+\/[^/]+)\/issues\/(\d+)$/.exec(String(issue.html_url ?? ""));
    const closedAt = typeof issue.closed_at === "string" ? new Date(issue.closed_at) : null;
    return {
      repository: at?.[1] ?? repository,
      number: at ? Number(at[2]) : number,
      open: issue.state === "open",
      url: typeof issue.html_url === "string" ? issue.html_url : null,
      reason: issue.state === "closed" && typeof issue.state_reason === "string" ? issue.state_reason : null,
      closedAt: closedAt && Number.isFinite(closedAt.getTime()) ? closedAt : null,
    };
  };
}

/** An open issue GitHub's search found. */
export interface IssueFound {
  number: number;
  title: string;
  url: string;
  /** Its labels' names. */
  labels: string[];
}

/** Open issues of a repository whose titles have these words, or why not known (it never throws). */
export type IssueSearch = (repository: string, words: string[]) => Promise<IssueFound[] | string>;

/** GitHub's issue search (GET /search/issues: `is:issue is:open in:title repo:…`, the first 10). */
export function githubIssueSearch(apiUrl: string, token: string): IssueSearch {
  return async (repository, words) => {
    const q = `${words.join(" ")} repo:${repository} is:issue is:open in:title`;
    const found = await getJson(apiUrl, token, `/search/issues?q=${encodeURIComponent(q)}&per_page=10`);
    if (typeof found === "string") return found;
    const items = Array.isArray(found.items) ? (found.items as Record<string, unknown>[]) : [];
    return items.flatMap((i) =>
      typeof i.number === "number" &&
      typeof i.title === "string" &&
      typeof i.html_url === "string" &&
      !i.pull_request
        ? [
            {
              number: i.number,
              title: i.title,
              url: i.html_url,
              labels: (Array.isArray(i.labels) ? (i.labels as { name?: unknown }[]) : []).flatMap((l) =>
                typeof l?.name === "string" ? [l.name] : [],
              ),
            },
          ]
        : [],
    );
  };
}

/**
 * What a branch's rules (its rulesets' rules, GET /repos/:r/rules/branches/:branch, readable with
 * read access) ask of a merge into it. Classic branch protection is not among them (reading it
 * takes admin rights).
 */
export interface BranchRules {
  /** Merges go through GitHub's merge queue. */
  mergeQueue: boolean;
  /** Approving reviews a pull request needs. */
  approvals: number;
  /** Checks (by name or status context) that must pass. */
  checks: string[];
}

/** A branch's rules, or why they are not known (it never throws). */
export type RulesFetcher = (repository: string, branch: string) => Promise<BranchRules | string>;

/** How long a branch's rules are taken as read: rulesets change seldom, pull requests often. */
const RULES_FOR_MS = 5 * 60_000;

/** GitHub's rules for a branch, each repository's branch read at most once in RULES_FOR_MS. */
export function githubRules(apiUrl: string, token: string): RulesFetcher {
  const read = new Map<string, { at: number; rules: BranchRules }>();
  return async (repository, branch) => {
    const key = `${repository}@${branch}`;
    const known = read.get(key);
    if (known && Date.now() - known.at < RULES_FOR_MS) return known.rules;
    const answer: unknown = await getJson(
      apiUrl,
      token,
      `/repos/${repository}/rules/branches/${encodeURIComponent(branch)}?per_page=100`,
    );
    if (typeof answer === "string") return answer;
    if (!Array.isArray(answer)) return "GitHub's answer was no list of rules";
    const rules: BranchRules = { mergeQueue: false, approvals: 0, checks: [] };
    for (const rule of answer as { type?: unknown; parameters?: Record<string, unknown> }[]) {
      if (rule?.type === "merge_queue") rules.mergeQueue = true;
      const count = rule?.parameters?.required_approving_review_count;
      if (rule?.type === "pull_request" && typeof count === "number")
        rules.approvals = Math.max(rules.approvals, count);
      const required = rule?.parameters?.required_status_checks;
      if (rule?.type === "required_status_checks" && Array.isArray(required))
        for (const c of required as { context?: unknown }[])
          if (typeof c?.context === "string" && !rules.checks.includes(c.context))
            rules.checks.push(c.context);
    }
    read.delete(key);
    read.set(key, { at: Date.now(), rules });
    // The oldest reads go first past a few thousand branches.
    if (read.size > 2000) read.delete(read.keys().next().value as string);
    return rules;
  };
}

/**
 * What agents may read of GitHub with the team's token (see AgentContext.github): a CI job's log,
 * a pull request or an issue as GitHub sees it now, open issues by their titles, a branch's rules,
 * whether a revert would go through, the commits between two.
 */
export interface GitHubReads {
  jobLog: JobLogFetcher;
  pull: PullFetcher;
  issue: IssueFetcher;
  searchIssues: IssueSearch;
  rules: RulesFetcher;
  checkRevert: RevertCheck;
  range: RangeRead;
}

/** GitHub's REST API at `apiUrl` (GitHub Enterprise, or a test server), read with `token`. */
export function githubReads(apiUrl: string, token: string): GitHubReads {
  return {
    jobLog: githubJobLogs(apiUrl, token),
    pull: githubPulls(apiUrl, token),
    issue: githubIssues(apiUrl, token),
    searchIssues: githubIssueSearch(apiUrl, token),
    rules: githubRules(apiUrl, token),
    checkRevert: githubRevertCheck(apiUrl, token),
    range: githubRange(apiUrl, token),
  };
}
