import type { Change } from "@flick/shared";
import { z } from "zod";
import { type Executor, ExecutorError } from "./types.ts";

type GithubChange = Extract<Change, { type: "github" }>;

const params = {
  merge_pr: z.object({
    number: z.number().int().positive(),
    method: z.enum(["merge", "squash", "rebase"]).default("squash"),
    sha: z.string().optional(),
  }),
  rerun_workflow: z.object({ runId: z.number().int().positive(), failedOnly: z.boolean().default(true) }),
  create_issue: z.object({
    title: z.string().min(1).max(256),
    body: z.string().max(65_000).default(""),
    labels: z.array(z.string()).default([]),
  }),
  comment: z.object({ number: z.number().int().positive(), body: z.string().min(1).max(65_000) }),
  create_pr: z.object({
    head: z.string().min(1),
    base: z.string().min(1),
    title: z.string().min(1).max(256),
    body: z.string().max(65_000).default(""),
  }),
};

interface Call {
  method: "GET" | "POST" | "PUT";
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
    case "create_pr": {
      const p = parse(params.create_pr);
      return { method: "POST", path: `${repo}/pulls`, body: p };
    }
  }
}

/** GitHub's REST API over plain fetch; GITHUB_API_URL points it at GitHub Enterprise (or a test server). */
export const githubExecutor: Executor<GithubChange> = {
  name: "github",
  // Merging and re-running are safe to repeat (a merged PR is checked first); creating is not.
  resumable: (change) => change.operation === "merge_pr" || change.operation === "rerun_workflow",
  async run(ctx, change) {
    const call = plan(change);
    const base = (ctx.config.GITHUB_API_URL ?? "https://api.github.com").replace(/\/$/, "");
    if (ctx.dryRun) {
      ctx.log(`dry run: would ${call.method} ${base}${call.path}`);
      return { dryRun: true, ...call };
    }
    const token = ctx.config.GITHUB_TOKEN;
    if (!token) throw new ExecutorError("GITHUB_TOKEN is not set, so Flick cannot act on GitHub", false);
    const request = async (c: Call) => {
      let res: Response;
      try {
        res = await fetch(`${base}${c.path}`, {
          method: c.method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/vnd.github+json",
            "x-github-api-version": "2022-11-28",
            "user-agent": "Flick/1",
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
      ctx.log(`${c.method} ${c.path} → ${res.status}`);
      return { status: res.status, json };
    };

    if (ctx.resumed && change.operation === "merge_pr") {
      const pr = await request({ method: "GET", path: call.path.replace(/\/merge$/, "") });
      if (pr.json.merged === true)
        return { merged: true, sha: pr.json.merge_commit_sha ?? null, note: "already merged" };
    }
    const res = await request(call);
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
