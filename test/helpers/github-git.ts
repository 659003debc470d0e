import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runGit } from "./git.ts";
import type { RecordedRequest } from "./http-recorder.ts";

type Answer = { status: number; body?: unknown };

/**
 * GitHub's git data routes (refs, commits, recursive trees, tree and commit creation), compare
 * and pull requests for one repository, answered from a real git repository on disk with git's own
 * plumbing — so what a client writes through the API can be checked out and compared with git.
 * Returns null for requests about other repositories.
 */
export function gitDataApi(dir: string, repository: string, apiPrefix = "/api/v3") {
  const author = {
    GIT_AUTHOR_NAME: "Flick",
    GIT_AUTHOR_EMAIL: "flick@example.com",
    GIT_COMMITTER_NAME: "Flick",
    GIT_COMMITTER_EMAIL: "flick@example.com",
  };
  const run = (args: string[], env: Record<string, string> = {}, input?: string) =>
    runGit(dir, args, { env: { ...author, ...env }, input });
  const exists = (ref: string) => {
    try {
      run(["rev-parse", "--verify", "-q", ref]);
      return true;
    } catch {
      return false;
    }
  };
  const pulls: { number: number; head: string; base: string; title: string; html_url: string }[] = [];
  const base = `${apiPrefix}/repos/${repository}`;

  return (req: RecordedRequest): Answer | null => {
    if (!req.path.startsWith(`${base}/`)) return null;
    const [route = "", query = ""] = req.path.slice(base.length).split("?");
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    const match = (method: string, pattern: RegExp) => (req.method === method ? route.match(pattern) : null);
    const refRead = match("GET", /^\/git\/ref\/heads\/(.+)$/);
    const commitRead = match("GET", /^\/git\/commits\/([0-9a-f]{40})$/);
    const treeRead = match("GET", /^\/git\/trees\/([0-9a-f]{40})$/);
    const refMove = match("PATCH", /^\/git\/refs\/(heads\/.+)$/);
    const compare = match("GET", /^\/compare\/([0-9a-f]{40})\.\.\.([0-9a-f]{40})$/);
    if (compare) {
      const [, from = "", to = ""] = compare;
      if (!exists(`${from}^{commit}`) || !exists(`${to}^{commit}`))
        return { status: 404, body: { message: "Not Found" } };
      const count = (range: string) => Number(run(["rev-list", "--count", range]));
      const [ahead, behind] = [count(`${from}..${to}`), count(`${to}..${from}`)];
      const status = ahead && behind ? "diverged" : ahead ? "ahead" : behind ? "behind" : "identical";
      // As GitHub: the first 250 listed, the total counted.
      const commits = run(["rev-list", "--reverse", `${from}..${to}`])
        .split("\n")
        .filter(Boolean)
        .slice(0, 250)
        .map((sha) => ({ sha, commit: { message: run(["log", "-1", "--format=%B", sha]) } }));
      return {
        status: 200,
        body: { status, ahead_by: ahead, behind_by: behind, total_commits: ahead, commits },
      };
    }
    if (refRead) {
      const ref = `refs/heads/${refRead[1]}`;
      if (!exists(ref)) return { status: 404, body: { message: "Not Found" } };
      return { status: 200, body: { ref, object: { type: "commit", sha: run(["rev-parse", ref]) } } };
    }
    if (commitRead) {
      const sha = commitRead[1] as string;
      if (!exists(`${sha}^{commit}`)) return { status: 404, body: { message: "Not Found" } };
      const [tree, parents = "", ...message] = run(["log", "-1", "--format=%T%n%P%n%B", sha]).split("\n");
      return {
        status: 200,
        body: {
          sha,
          message: message.join("\n").trim(),
          tree: { sha: tree },
          parents: parents
            .split(" ")
            .filter(Boolean)
            .map((p) => ({ sha: p })),
        },
      };
    }
    if (treeRead) {
      const sha = treeRead[1] as string;
      if (!exists(`${sha}^{tree}`)) return { status: 404, body: { message: "Not Found" } };
      const recursive = /(^|&)recursive=/.test(query);
      const lines = run(["ls-tree", ...(recursive ? ["-r", "-t"] : []), sha])
        .split("\n")
        .filter(Boolean);
      const tree = lines.map((line) => {
        const [meta, file] = line.split("\t") as [string, string];
        const [mode, type, object] = meta.split(" ") as [string, string, string];
        return { path: file, mode, type, sha: object };
      });
      return { status: 200, body: { sha, tree, truncated: false } };
    }
    if (req.method === "POST" && route === "/git/trees") {
      const work = mkdtempSync(path.join(tmpdir(), "flick-index-"));
      const env = { GIT_INDEX_FILE: path.join(work, "index") };
      try {
        if (body.base_tree) run(["read-tree", String(body.base_tree)], env);
        else run(["read-tree", "--empty"], env);
        for (const e of body.tree as { path: string; mode: string; sha: string | null }[]) {
          if (e.sha === null) run(["update-index", "--force-remove", e.path], env);
          else run(["update-index", "--add", "--cacheinfo", `${e.mode},${e.sha},${e.path}`], env);
        }
        return { status: 201, body: { sha: run(["write-tree"], env) } };
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
    if (req.method === "POST" && route === "/git/commits") {
      const parents = (body.parents as string[]).flatMap((p) => ["-p", p]);
      const sha = run(["commit-tree", String(body.tree), ...parents], {}, String(body.message));
      return { status: 201, body: { sha } };
    }
    if (req.method === "POST" && route === "/git/refs") {
      const ref = String(body.ref);
      if (exists(ref)) return { status: 422, body: { message: "Reference already exists" } };
      run(["update-ref", ref, String(body.sha)]);
      return { status: 201, body: { ref, object: { sha: body.sha } } };
    }
    if (refMove) {
      run(["update-ref", `refs/${refMove[1]}`, String(body.sha)]);
      return { status: 200, body: { ref: `refs/${refMove[1]}`, object: { sha: body.sha } } };
    }
    if (req.method === "GET" && route === "/pulls") {
      const head = new URLSearchParams(query).get("head")?.split(":")[1];
      return { status: 200, body: pulls.filter((p) => !head || p.head === head) };
    }
    if (req.method === "POST" && route === "/pulls") {
      const number = pulls.length + 1;
      const pr = {
        number,
        head: String(body.head),
        base: String(body.base),
        title: String(body.title),
        html_url: `https://github.example/${repository}/pull/${number}`,
      };
      pulls.push(pr);
      return { status: 201, body: pr };
    }
    return { status: 404, body: { message: "Not Found" } };
  };
}
