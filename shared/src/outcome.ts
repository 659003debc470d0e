// Apart from describe.ts: the web app reads it only in a card's history (a lazy chunk); the server
// keeps what it says on a card carried out (its evidence's outcome).
import type { Change } from "./cards.ts";
import { isWebPage } from "./describe.ts";

/**
 * What carrying out a change did, in words, from its executor's result ("opened acme/app#46", with
 * the issue's page): what a history line adds to "done". Null when the result says nothing more.
 */
export function describeOutcome(
  change: Change | null,
  result: unknown,
): { text: string; url?: string } | null {
  if (!change || typeof result !== "object" || result === null) return null;
  const r = result as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : undefined);
  const short = (sha: unknown) => str(sha)?.slice(0, 7);
  // Only a web page GitHub (or the action) named: no other scheme is made a link.
  const url = isWebPage(r.url) ? r.url : undefined;
  const linked = (text: string) => ({ text, ...(url ? { url } : {}) });
  const note = str(r.note);
  switch (change.type) {
    case "patch": {
      const sha = short(r.sha);
      if (!sha || !str(r.branch)) return null;
      return {
        text: `${note ? `${note}: ` : ""}committed ${sha} on ${r.branch}${r.pushed ? ", pushed" : ""}`,
      };
    }
    case "webhook":
      return typeof r.status === "number"
        ? { text: `the "${change.action}" action answered ${r.status}` }
        : null;
    case "github": {
      const p = change.params as Record<string, unknown>;
      const repo = change.repository;
      const number = typeof r.number === "number" ? r.number : p.number;
      switch (change.operation) {
        case "create_issue":
          return linked(`opened ${repo}#${number}`);
        case "comment":
          return linked(`commented on ${repo}#${number}`);
        case "reopen_issue":
          return linked(`reopened ${repo}#${number}${r.commented ? " with a comment" : ""}`);
        case "create_pr":
          return linked(`opened pull request ${repo}#${number}`);
        case "revert_commit":
          return linked(note ? `${note}: ${repo}#${number}` : `opened pull request ${repo}#${number}`);
        case "merge_pr":
        case "enqueue_pr": {
          const sha = short(r.sha);
          if (r.merged === true) return { text: `${note ?? "merged"}${sha ? ` as ${sha}` : ""}` };
          if (r.queued === true)
            return {
              text: `${note ?? "added to the merge queue"}${typeof r.position === "number" ? ` (position ${r.position})` : ""}`,
            };
          return null;
        }
        case "update_branch":
          return { text: "GitHub is bringing the branch up to date" };
        case "rerun_workflow":
          return { text: "re-run started" };
      }
      return null;
    }
    default:
      return null;
  }
}
