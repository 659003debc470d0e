import type { Change } from "@flick/shared";
import { z } from "zod";
import { githubHeaders } from "../lib/github.ts";
import { type Executor, ExecutorError } from "./types.ts";

type GithubChange = Extract<Change, { type: "github" }>;

const params = {
  merge_pr: z.object({
    number: z.number().int().positive(),
    method: z.enum(["merge", "squash", "rebase"]).default("squash"),
    sha: z.string().optional(),
  }),
  /** GitHub's "Update branch": the base merged into the pull request's branch, if its head is still `sha`. */
  update_branch: z.object({
    number: z.number().int().positive(),
    sha: z.string().regex(/^[0-9a-f]{40}$/, "must be a full commit sha"),
  }),
  /**
   * Into the base branch's merge queue (GitHub merges it once the queue's checks pass), if its head
   * is still `sha`: GraphQL's enqueuePullRequest, given the pull request's node id.
   */
  enqueue_pr: z.object({
    number: z.number().int().positive(),
    sha: z.string().regex(/^[0-9a-f]{40}$/, "must be a full commit sha"),
    nodeId: z.string().min(1).max(200),
  }),
  rerun_workflow: z.object({ runId: z.number().int().positive(), failedOnly: z.boolean().default(true) }),
  create_issue: z.object({
    title: z.string().min(1).max(256),
    body: z.string().max(65_000).default(""),
    labels: z.array(z.string()).default([]),
  }),
  comment: z.object({ number: z.number().int().positive(), body: z.string().min(1).max(65_000) }),
  reopen_issue: z.object({ number: z.number().int().positive(), body: z.string().min(1).max(65_000) }),
  create_pr: z.object({
    head: z.string().min(1),
    base: z.string().min(1),
    title: z.string().min(1).max(256),
    body: z.string().max(65_000).default(""),
  }),
  revert_commit: z.object({
    sha: z.string().regex(/^[0-9a-f]{40}$/, "must be a full commit sha"),
    /**
     * Revert every commit after this one up to `sha` (a push of several commits, which CI ran at
     * its last only), not `sha` alone. It must be an ancestor of `sha`.
     */
    since: z
      .string()
      .regex(/^[0-9a-f]{40}$/, "must be a full commit sha")
      .optional(),
    branch: z.string().min(1).max(255),
    reason: z.string().max(65_000).default(""),
  }),
};

interface Call {
  method: "GET" | "POST" | "PUT" | "PATCH";
  path: string;
  body?: unknown;
}

function plan(change: GithubChange): Call {
  if (!/^[\w.-]+\/[\w.-]+$/.test(change.repository))
    throw new ExecutorError(`"${change.repository}" is not owner/name`, false);
  const repo = `/repos/${change.repository}`;
  const parse = <T>(schema: z.ZodType<T>): T => {
    const r = schema.safeParse(change.params);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new ExecutorError(`${change.operation}: ${issue?.path.join(".")}: ${issue?.message}`, false);
    }
    return r.data;
  };
  switch (change.operation) {
    case "merge_pr": {
      const p = parse(params.merge_pr);
      return {
        method: "PUT",
        path: `${repo}/pulls/${p.number}/merge`,
        body: { merge_method: p.method, ...(p.sha ? { sha: p.sha } : {}) },
      };
    }
    case "update_branch": {
      const p = parse(params.update_branch);
      return {
        method: "PUT",
        path: `${repo}/pulls/${p.number}/update-branch`,
        body: { expected_head_sha: p.sha },
      };
    }
    case "enqueue_pr": {
      // GitHub's merge queue has no REST route: one GraphQL call (at /graphql beside the REST API).
      const p = parse(params.enqueue_pr);
      return {
        method: "POST",
        path: "/graphql",
        body: {
          query:
            "mutation($id: ID!, $sha: GitObjectID!) { enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $sha}) { mergeQueueEntry { position } } }",
          variables: { id: p.nodeId, sha: p.sha },
        },
      };
    }
    case "rerun_workflow": {
      const p = parse(params.rerun_workflow);
      return {
        method: "POST",
        path: `${repo}/actions/runs/${p.runId}/${p.failedOnly ? "rerun-failed-jobs" : "rerun"}`,
      };
    }
    case "create_issue": {
      const p = parse(params.create_issue);
      return { method: "POST", path: `${repo}/issues`, body: p };
    }
    case "comment": {
      const p = parse(params.comment);
      return { method: "POST", path: `${repo}/issues/${p.number}/comments`, body: { body: p.body } };
    }
    case "reopen_issue": {
      // Two calls (see run): reopen, then say why in a comment. The plan names the first.
      const p = parse(params.reopen_issue);
      return { method: "PATCH", path: `${repo}/issues/${p.number}`, body: { state: "open" } };
    }
    case "create_pr": {
      const p = parse(params.create_pr);
      return { method: "POST", path: `${repo}/pulls`, body: p };
    }
    case "revert_commit": {
      // Several calls (see revertCommit); the plan names the first.
      const p = parse(params.revert_commit);
      return { method: "GET", path: `${repo}/git/ref/heads/${p.branch}` };
    }
  }
}

/** GitHub's REST API over plain fetch; GITHUB_API_URL points it at GitHub Enterprise (or a test server). */
export const githubExecutor: Executor<GithubChange> = {
  name: "github",
  // Merging, queueing and re-running are safe to repeat (a merged PR is checked first; a queue's
  // refusal is checked against the PR, see enqueue); creating is not.
  resumable: (change) =>
    change.operation === "merge_pr" ||
    change.operation === "enqueue_pr" ||
    change.operation === "rerun_workflow",
  async run(ctx, change) {
    const call = plan(change);
    const rest = (ctx.config.GITHUB_API_URL ?? "https://api.github.com").replace(/\/$/, "");
    // GraphQL sits beside the REST API: /graphql, GitHub Enterprise's /api/graphql (REST: /api/v3).
    const base = change.operation === "enqueue_pr" ? rest.replace(/\/v3$/, "") : rest;
    // Checked before the dry run returns: "would fail now" must include a missing token.
    const token = ctx.config.GITHUB_TOKEN;
    if (!token) throw new ExecutorError("GITHUB_TOKEN is not set, so Flick cannot act on GitHub", false);
    if (ctx.dryRun) {
      ctx.log(`dry run: would ${call.method} ${base}${call.path}`);
      return { dryRun: true, ...call };
    }
    const request = githubRequest(base, token, ctx.log);

    if (change.operation === "enqueue_pr")
      return enqueue(request, call, params.enqueue_pr.parse(change.params));
    if (change.operation === "revert_commit") {
      return revertCommit(change.repository, params.revert_commit.parse(change.params), request, ctx.log);
    }
    if (ctx.resumed && change.operation === "merge_pr") {
      const pr = await request({ method: "GET", path: call.path.replace(/\/merge$/, "") });
      if (pr.json.merged === true)
        return { merged: true, sha: pr.json.merge_commit_sha ?? null, note: "already merged" };
    }
    const res = await request(call);
    if (change.operation === "reopen_issue" && res.status >= 200 && res.status < 300) {
      // Reopening is safe to repeat; the comment says why it is open again (the same params as a
      // comment: the issue's number and the text).
      const { number } = change.params as { number: number };
      const comment = await request(plan({ ...change, operation: "comment" }));
      if (comment.status < 200 || comment.status >= 300)
        throw new ExecutorError(
          `reopened #${number}, but GitHub answered ${comment.status} to the comment: ${String(comment.json.message ?? "").slice(0, 300)}`,
          // Trying again reopens an open issue (nothing) and posts the comment that did not land.
          comment.status >= 500 || comment.status === 429,
        );
      return { status: res.status, number, url: res.json.html_url ?? null, commented: true };
    }
    if (res.status >= 200 && res.status < 300) {
      return {
        status: res.status,
        ...(res.json.html_url ? { url: res.json.html_url } : {}),
        ...(res.json.number ? { number: res.json.number } : {}),
        ...(res.json.sha ? { sha: res.json.sha } : {}),
        ...(res.json.merged !== undefined ? { merged: res.json.merged } : {}),
      };
    }
    const message = String(res.json.message ?? "").slice(0, 300);
    const retryable =
      res.status >= 500 || res.status === 429 || (res.status === 403 && /rate limit/i.test(message));
    throw new ExecutorError(
      `GitHub answered ${res.status} to ${call.method} ${call.path}: ${message}`,
      retryable,
    );
  },
};

type Request = (c: Call) => Promise<{ status: number; json: Record<string, unknown> }>;

/**
 * Adds a pull request to its merge queue: GraphQL says no with a 200 and `errors`, a refusal —
 * unless the pull request is in the queue (or merged) at the head the card saw: then this accept's
 * earlier try got there (its answer lost, or the worker stopped before it was kept), and it is done.
 */
async function enqueue(request: Request, call: Call, pr: z.infer<typeof params.enqueue_pr>) {
  const res = await request(call);
  const errors = Array.isArray(res.json.errors) ? (res.json.errors as { message?: unknown }[]) : [];
  if (errors.length > 0) {
    const now = await pullRequestNow(request, pr.nodeId);
    if (now?.head === pr.sha && now.merged) return { merged: true, note: "already merged" };
    if (now?.head === pr.sha && now.queued)
      return {
        queued: true,
        ...(now.position !== undefined ? { position: now.position } : {}),
        note: "already in the merge queue",
      };
  }
  if (res.status < 200 || res.status >= 300 || errors.length > 0) {
    const message = String(errors[0]?.message ?? res.json.message ?? "").slice(0, 300);
    const said = errors.length > 0 ? "GitHub refused" : `GitHub answered ${res.status} to`;
    throw new ExecutorError(
      `${said} adding it to the merge queue${message ? `: ${message}` : ""}`,
      errors.length === 0 && (res.status >= 500 || res.status === 429),
    );
  }
  const data = res.json.data as
    | { enqueuePullRequest?: { mergeQueueEntry?: { position?: unknown } } }
    | undefined;
  const position = data?.enqueuePullRequest?.mergeQueueEntry?.position;
  return { queued: true, ...(typeof position === "number" ? { position } : {}) };
}

/** A pull request as GraphQL has it now, by its node id; null when GitHub does not say. */
async function pullRequestNow(
  request: Request,
  id: string,
): Promise<{ head: string; merged: boolean; queued: boolean; position?: number } | null> {
  const res = await request({
    method: "POST",
    path: "/graphql",
    body: {
      query:
        "query($id: ID!) { node(id: $id) { ... on PullRequest { headRefOid merged isInMergeQueue mergeQueueEntry { position } } } }",
      variables: { id },
    },
  }).catch(() => null);
  const node = (res?.json.data as { node?: Record<string, unknown> } | undefined)?.node;
  if (!node || typeof node.headRefOid !== "string") return null;
  const position = (node.mergeQueueEntry as { position?: unknown } | null | undefined)?.position;
  return {
    head: node.headRefOid,
    merged: node.merged === true,
    queued: node.isInMergeQueue === true,
    ...(typeof position === "number" ? { position } : {}),
  };
}

/** GitHub's REST API over plain fetch: each answer's status and JSON; no answer is a retryable error. */
function githubRequest(base: string, token: string, log: (line: string) => void): Request {
  return async (c) => {
    let res: Response;
    try {
      res = await fetch(`${base}${c.path}`, {
        method: c.method,
        headers: {
          ...githubHeaders(token),
          ...(c.body ? { "content-type": "application/json" } : {}),
        },
        body: c.body ? JSON.stringify(c.body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new ExecutorError(`GitHub ${c.method} ${c.path}: ${(err as Error).message}`, true);
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { message: text.slice(0, 300) };
    }
    log(`${c.method} ${c.path} → ${res.status}`);
    return { status: res.status, json };
  };
}

/** `ok`: the JSON of a 2xx answer, else an ExecutorError saying what was being done. */
function okOf(request: Request) {
  /** The answer when it is a success (or the one other status the caller handles), else an error. */
  const send = async (c: Call, what: string, handled?: number) => {
    const res = await request(c);
    if ((res.status >= 200 && res.status < 300) || res.status === handled) return res;
    const message = String(res.json.message ?? "").slice(0, 300);
    throw new ExecutorError(
      `${what}: GitHub answered ${res.status}${message ? `: ${message}` : ""}`,
      res.status >= 500 || res.status === 429,
    );
  };
  return { send, ok: async (c: Call, what: string) => (await send(c, what)).json };
}

/** What reverting a commit (or a range) takes, read from GitHub before anything is written. */
interface RevertPlan {
  /** The branch's tip the revert goes on. */
  tip: string;
  commit: GitCommit;
  /** The commit the reverted ones came after (the commit's parent, or `since`). */
  parent: string;
  /** A range's commits (null for one commit). */
  reverted: { total: number; listed: { sha: string; message?: string }[] } | null;
  /** The tree the revert commit has when the tip is the reverted commit: the parent's. */
  parentTree: string;
  /**
   * The branch moved past it: the files it changed, restored on top of the tip's tree (`tipTree`);
   * `touched`, those a later commit changed too (then it cannot be done without a merge).
   */
  moved: { tipTree: string; files: string[]; touched: string[]; entries: unknown[] } | null;
}

/**
 * Reads what reverting `p.sha` (after `p.since`) onto `p.branch` takes: the tip, the commits, and —
 * when the branch has moved past — which files to restore and whether a later commit changed them.
 * Throws when GitHub refuses a read or there is nothing to revert.
 */
async function planRevert(
  repository: string,
  p: { sha: string; since?: string; branch: string },
  ok: (c: Call, what: string) => Promise<Record<string, unknown>>,
): Promise<RevertPlan> {
  const repo = `/repos/${repository}`;
  const short = p.sha.slice(0, 7);
  const range = p.since ? `${p.since.slice(0, 7)}..${short}` : null;
  const head = await ok({ method: "GET", path: `${repo}/git/ref/heads/${p.branch}` }, `reading ${p.branch}`);
  const tip = String((head.object as { sha?: string } | undefined)?.sha ?? "");
  const readCommit = (sha: string, what: string) =>
    ok({ method: "GET", path: `${repo}/git/commits/${sha}` }, what) as Promise<GitCommit>;
  const commit = await readCommit(p.sha, "reading the commit");
  const parent = p.since ?? commit.parents?.[0]?.sha;
  if (!parent) throw new ExecutorError(`${short} has no parent to go back to`, false);
  // A range's commits, oldest first, from GitHub's compare (it says whether `since` comes before).
  const reverted = p.since ? await rangeCommits(repo, p.since, p.sha, ok) : null;
  const parentTree =
    (await readCommit(parent, p.since ? "reading the commit before them" : "reading its parent")).tree?.sha ??
    "";
  if (tip === p.sha) return { tip, commit, parent, reverted, parentTree, moved: null };

  const tipTree = (await readCommit(tip, `reading the tip of ${p.branch}`)).tree?.sha ?? "";
  const read = async (sha: string) => {
    const t = (await ok(
      { method: "GET", path: `${repo}/git/trees/${sha}?recursive=1` },
      "reading a tree",
    )) as GitTree;
    if (t.truncated)
      throw new ExecutorError(
        "the repository is too large to revert file by file through GitHub's API; revert it locally",
        false,
      );
    return new Map((t.tree ?? []).filter((e) => e.type !== "tree").map((e) => [e.path, e]));
  };
  const [before, after, now] = await Promise.all([
    read(parentTree),
    read(commit.tree?.sha ?? ""),
    read(tipTree),
  ]);
  const same = (a?: GitTreeEntry, b?: GitTreeEntry) => a?.sha === b?.sha && a?.mode === b?.mode;
  const files = [...new Set([...before.keys(), ...after.keys()])].filter(
    (f) => !same(before.get(f), after.get(f)),
  );
  if (files.length === 0)
    throw new ExecutorError(`${range ?? short} changed no files; there is nothing to revert`, false);
  const touched = files.filter((f) => !same(now.get(f), after.get(f)));
  const entries = files.map((f) => {
    const old = before.get(f);
    const added = after.get(f) as GitTreeEntry;
    return old
      ? { path: f, mode: old.mode, type: old.type, sha: old.sha }
      : { path: f, mode: added.mode, type: added.type, sha: null };
  });
  return { tip, commit, parent, reverted, parentTree, moved: { tipTree, files, touched, entries } };
}

/** The refusal of a revert that later commits' changes to the same files stand in the way of. */
function movedPastWords(
  p: { sha: string; since?: string; branch: string },
  tip: string,
  touched: string[],
): string {
  const names =
    touched.slice(0, 5).join(", ") + (touched.length > 5 ? ` and ${touched.length - 5} more` : "");
  return `${p.branch} has moved past ${p.sha.slice(0, 7)} (now ${tip.slice(0, 7)}) and later commits changed ${names}; reverting ${p.since ? "them" : "it"} needs a merge, so Flick will not do it blind`;
}

/** What GitHub's state says of a revert before it is proposed (see githubRevertCheck). */
export type RevertVerdict =
  /** It can be done as proposed: onto `tip`, `commits` commits. */
  | { ok: true; tip: string; commits: number }
  /**
   * It cannot: `reason` in words. `movedPast`: later commits changed the same files (`touched`) —
   * reverting everything after `parent` up to the tip `tip` instead may go on cleanly.
   */
  | { ok: false; reason: string; movedPast?: { tip: string; parent: string; touched: string[] } }
  /** GitHub could not be asked (no answer, no access): why. */
  | { ok: null; reason: string };

export type RevertCheck = (
  repository: string,
  p: { sha: string; since?: string; branch: string },
) => Promise<RevertVerdict>;

/**
 * Asks GitHub, with reads only, whether Flick's revert of a commit (or range) would go through now
 * as the executor makes it — so a card does not propose what its accept would be refused. Gives up
 * (not known) after `budgetMs`.
 */
export function githubRevertCheck(apiUrl: string, token: string, budgetMs = 4_000): RevertCheck {
  const { ok } = okOf(githubRequest(apiUrl.replace(/\/$/, ""), token, () => {}));
  return async (repository, p) => {
    let timer: NodeJS.Timeout | undefined;
    // The agent waits for this before its card: a slow GitHub leaves the revert unchecked instead.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`GitHub took over ${budgetMs / 1000} s to answer`)),
        budgetMs,
      );
    });
    try {
      const plan = await Promise.race([planRevert(repository, p, ok), late]);
      if (plan.moved && plan.moved.touched.length > 0)
        return {
          ok: false,
          reason: movedPastWords(p, plan.tip, plan.moved.touched),
          movedPast: { tip: plan.tip, parent: plan.parent, touched: plan.moved.touched },
        };
      return { ok: true, tip: plan.tip, commits: plan.reverted?.total ?? 1 };
    } catch (err) {
      if (err instanceof ExecutorError && !err.retryable && !/GitHub answered (40[134])/.test(err.message))
        return { ok: false, reason: err.message };
      return { ok: null, reason: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Reverts a commit (or, with `since`, the commits after `since` up to it) with GitHub's git data API
 * and opens a pull request from a `flick/revert-…` branch. At the branch's tip the revert is the
 * tree before (the parent's, or `since`'s). When the branch has moved on, each file the commits
 * changed goes back to its version before them, on top of the tip — as long as no later commit
 * touched those files; if one did, the revert needs a merge and is refused, naming the files.
 * Repeating it (a retry) finds the pull request it already opened.
 */
async function revertCommit(
  repository: string,
  p: z.infer<typeof params.revert_commit>,
  request: Request,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const repo = `/repos/${repository}`;
  const short = p.sha.slice(0, 7);
  const range = p.since ? `${p.since.slice(0, 7)}..${short}` : null;
  const { send, ok } = okOf(request);
  // One branch per commit (or range) and target, so reverting onto two branches never collides.
  const revertBranch = `flick/revert-${range ? range.replace("..", "-") : short}-${p.branch.replace(/[^\w.-]+/g, "-")}`;
  const existing = await request({
    method: "GET",
    path: `${repo}/pulls?head=${repository.split("/")[0]}:${revertBranch}&base=${encodeURIComponent(p.branch)}&state=open`,
  });
  const open = Array.isArray(existing.json)
    ? (existing.json[0] as Record<string, unknown> | undefined)
    : undefined;
  if (open) return { url: open.html_url, number: open.number, note: "revert pull request already open" };

  const { tip, commit, reverted, parentTree, moved } = await planRevert(repository, p, ok);
  let tree = parentTree;
  const files = moved?.files ?? null;
  if (moved) {
    if (moved.touched.length > 0) throw new ExecutorError(movedPastWords(p, tip, moved.touched), false);
    const made = await ok(
      { method: "POST", path: `${repo}/git/trees`, body: { base_tree: moved.tipTree, tree: moved.entries } },
      "writing the reverted tree",
    );
    tree = String(made.sha);
  }

  const subjectOf = (message?: string) => String(message ?? "").split("\n")[0];
  const subject = reverted
    ? `Revert ${reverted.total} commits, ${range}`
    : `Revert "${subjectOf(commit.message)}"`;
  const more = reverted ? reverted.total - reverted.listed.length : 0;
  const message = reverted
    ? `${subject}\n\nThis reverts commits ${p.since}..${p.sha}:\n${reverted.listed.map((c) => `- ${c.sha.slice(0, 7)} ${subjectOf(c.message)}`).join("\n")}${more > 0 ? `\n- and ${more} more` : ""}`
    : `${subject}\n\nThis reverts commit ${p.sha}.`;
  const revert = await ok(
    { method: "POST", path: `${repo}/git/commits`, body: { message, tree, parents: [tip] } },
    "writing the revert commit",
  );
  const created = await send(
    {
      method: "POST",
      path: `${repo}/git/refs`,
      body: { ref: `refs/heads/${revertBranch}`, sha: revert.sha },
    },
    "creating the revert branch",
    422,
  );
  if (created.status === 422) {
    // Left by an attempt that stopped before opening the pull request: point it at this commit.
    await ok(
      {
        method: "PATCH",
        path: `${repo}/git/refs/heads/${revertBranch}`,
        body: { sha: revert.sha, force: true },
      },
      "moving the revert branch",
    );
  }
  const pr = await ok(
    {
      method: "POST",
      path: `${repo}/pulls`,
      body: { head: revertBranch, base: p.branch, title: subject, body: p.reason },
    },
    "opening the pull request",
  );
  log(
    `revert of ${range ?? short} proposed as ${String(pr.html_url ?? pr.number)}${files ? ` (${files.length} file${files.length === 1 ? "" : "s"} restored on top of ${tip.slice(0, 7)})` : ""}`,
  );
  return { url: pr.html_url, number: pr.number, sha: revert.sha };
}

/**
 * The commits after `since` up to `sha` as GitHub lists them (see rangeCommits); null when `since`
 * does not come before `sha` (no range); why not known, when GitHub could not be asked.
 */
export type RangeRead = (
  repository: string,
  since: string,
  sha: string,
) => Promise<{ total: number; listed: { sha: string; message?: string }[] } | null | string>;

/** GitHub's compare, read with `token` (it never throws). */
export function githubRange(apiUrl: string, token: string): RangeRead {
  const { ok } = okOf(githubRequest(apiUrl.replace(/\/$/, ""), token, () => {}));
  return async (repository, since, sha) => {
    try {
      return await rangeCommits(`/repos/${repository}`, since, sha, ok);
    } catch (err) {
      return err instanceof NoRange ? null : (err as Error).message;
    }
  };
}

/**
 * The commits after `since` up to `sha` from GitHub's compare: how many, and the ones it lists (the
 * first 250), oldest first. Refused when `since` does not come before `sha` (a force-push rewrote it).
 */
async function rangeCommits(
  repo: string,
  since: string,
  sha: string,
  ok: (c: Call, what: string) => Promise<Record<string, unknown>>,
): Promise<{ total: number; listed: { sha: string; message?: string }[] }> {
  const range = `${since.slice(0, 7)}..${sha.slice(0, 7)}`;
  const compare = await ok(
    { method: "GET", path: `${repo}/compare/${since}...${sha}` },
    `comparing ${range}`,
  );
  if (compare.status !== "ahead")
    throw new NoRange(
      `${since.slice(0, 7)} does not come before ${sha.slice(0, 7)} (GitHub compares them as "${String(compare.status)}"): there is no range to revert`,
    );
  const commits = (compare.commits ?? []) as { sha: string; commit?: { message?: string } }[];
  const total = Number(compare.total_commits ?? compare.ahead_by ?? commits.length);
  return {
    total: Number.isInteger(total) && total >= commits.length ? total : commits.length,
    listed: commits.map((c) => ({ sha: c.sha, message: c.commit?.message })),
  };
}

/** GitHub says the commit a range starts after does not come before its end. */
class NoRange extends ExecutorError {
  constructor(message: string) {
    super(message, false);
  }
}

interface GitCommit {
  message?: string;
  tree?: { sha?: string };
  parents?: { sha: string }[];
}

interface GitTreeEntry {
  path: string;
  mode: string;
  type: string;
  sha: string;
}

interface GitTree {
  tree?: GitTreeEntry[];
  truncated?: boolean;
}
