// Plain functions the web app imports at run time: no zod here, so the PWA bundle stays small.
import type { Change } from "./cards.ts";

/** Agent name of the sample cards "Load demo data" makes: accepting one rehearses its change. */
export const DEMO_AGENT = "demo";

/** A GitHub change that merges a pull request (at once, or through its base's merge queue). */
export function mergesPullRequest(change: Change | null | undefined): boolean {
  return change?.type === "github" && (change.operation === "merge_pr" || change.operation === "enqueue_pr");
}

/** A GitHub change GitHub can show the diff of: a merge's pull request, a revert's commits. */
export function hasGithubDiff(change: Change | null | undefined): boolean {
  return mergesPullRequest(change) || (change?.type === "github" && change.operation === "revert_commit");
}

/**
 * A card whose accept only rehearses its change: a hand-written sample, or a built-in agent's card
 * made from a demo source's sample signals (its evidence says so). It names repositories, pull
 * requests and actions this install may not have — or may have for real.
 */
export function isDemoCard(card: { agent: string; evidence?: unknown }): boolean {
  return card.agent === DEMO_AGENT || (card.evidence as { demo?: unknown } | null | undefined)?.demo === true;
}

/**
 * A card its agent set aside (another card stands for it for now), as against one a person
 * snoozed: a person's "later" holds where an agent's does not.
 */
export function isSetAside(card: { status?: string | null; evidence?: unknown }): boolean {
  return card.status === "snoozed" && (card.evidence as { setAside?: unknown } | null)?.setAside === true;
}

/** A link that may be shown: a web page (http or https), never another scheme (javascript:, data:). */
export function isWebPage(url: unknown): url is string {
  return typeof url === "string" && /^https?:\/\//.test(url);
}

/** The agents that wrote a card: its own, or each one's whose part it tells (a deploy's rollback card). */
export function cardAgents(card: { agent: string; evidence?: { agents?: string[] | undefined } }): string[] {
  return card.evidence?.agents?.length ? card.evidence.agents : [card.agent];
}

/**
 * Stored beside a card's priority factors (not a factor: it is not weighted, nor 0..1): how many
 * decisions the accept rate rests on, so a new team's card says "no decisions yet" instead of 50.
 */
export const ACCEPT_RATE_DECISIONS = "acceptRateDecisions";

/** What accepting a card with this change does, in words ("Merge pull request #412 in acme/shop"). */
export function describeChange(change: Change | null): string {
  switch (change?.type) {
    case "patch":
      return `Commit this patch to ${change.repository} on a new branch`;
    case "github": {
      const p = change.params as Record<string, unknown>;
      const what = {
        merge_pr: `Merge pull request #${p.number}`,
        rerun_workflow: `Re-run workflow run ${p.runId}`,
        create_issue: `Open an issue "${p.title}"`,
        comment: `Comment on #${p.number}`,
        reopen_issue: `Reopen issue #${p.number} with a comment`,
        create_pr: `Open a pull request "${p.title}"`,
        update_branch: `Bring pull request #${p.number}'s branch up to date with its base`,
        enqueue_pr: `Add pull request #${p.number} to its base branch's merge queue`,
        revert_commit: `Open a pull request reverting ${typeof p.since === "string" ? `the commits after ${p.since.slice(0, 7)} up to ` : ""}${String(p.sha).slice(0, 7)} on ${p.branch}`,
      }[change.operation];
      return `${what} in ${change.repository}`;
    }
    case "webhook": {
      // What it acts on and the version it goes back to, when its params say (a rollback's do).
      const p = change.params ?? {};
      const on = [p.repository, p.service, p.metric].find((x) => typeof x === "string" && x !== "");
      const to =
        typeof p.to === "string" && p.to !== "" ? p.to.replace(/^([0-9a-f]{7})[0-9a-f]{5,}$/, "$1") : "";
      return `Run the "${change.action}" action${on ? ` for ${on}` : ""}${to ? `, back to ${to}` : ""}`;
    }
    default:
      return "Nothing outside Flick: accepting acknowledges it";
  }
}
