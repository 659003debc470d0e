import type { Verification } from "@flick/shared";
import {
  type AgentContext,
  type CardUpsert,
  defineAgent,
  moveCard,
  outcome,
  type SignalRow,
  standFor,
  type Told,
  withdrawal,
} from "../define.ts";
import type { BranchRules, PullFetcher, PullNow } from "../github.ts";
import { rank, recency } from "../rank.ts";
import { type GroupState, type SeerFix, seerFixKey, seerPullRequests } from "./errors.ts";
import { type MuteMemory, newsPastMute } from "./past-mute.ts";
import { type Bump, bumpsIn, dependabotFingerprint, severityOf, vulnerabilitiesFixedBy } from "./security.ts";
import { clip, plural } from "./words.ts";

interface PullRequest {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  draft?: boolean;
  merged?: boolean;
  html_url?: string;
  user: { login: string; type?: string };
  head: { sha: string; ref?: string };
  base?: { ref?: string };
  /** false when GitHub found conflicts with the base; null while it is still computing. */
  mergeable?: boolean | null;
  /** Set while GitHub's auto-merge is on for it (it merges the PR itself once it may). */
  auto_merge?: { merge_method?: string } | null;
  additions?: number;
  deletions?: number;
  changed_files?: number;
  /** Once merged: the commit the merge made on its base. */
  merge_commit_sha?: string | null;
}

interface Payload {
  action: string;
  /** Absent in Sentry's webhooks (Seer's fix names its pull request by URL). */
  repository?: { full_name: string };
  sender?: { login: string; type?: string };
  pull_request?: PullRequest;
  review?: { state: string; user: { login: string }; commit_id?: string };
  /** A commit status event: `sha`, `state` (pending, success, failure, error) and `context`. */
  sha?: string;
  state?: string;
  context?: string;
  /** Why a pull request left its merge queue (GitHub's `dequeued`: MANUAL, CI_FAILURE, …). */
  reason?: string;
  /** A Dependabot alert: the package it is about. */
  alert?: { dependency?: { package?: { name?: string } } };
  check_run?: {
    name: string;
    head_sha: string;
    status: string;
    conclusion: string | null;
    pull_requests?: { number: number }[];
  };
}

interface PrState {
  number: number;
  title: string;
  author: string;
  bot: boolean;
  url?: string;
  headSha: string;
  draft: boolean;
  open: boolean;
  /** Checks on the head commit: name → conclusion ("pending" while running). */
  checks: Record<string, string>;
  /** The latest review per reviewer. */
  reviews: Record<string, string>;
  /** The branch it merges into (absent in states stored before it was kept). */
  base?: string;
  /** Set when a card for this PR was proposed at this head. */
  proposedAt?: string;
  pushedAfterCard?: boolean;
  /** GitHub's auto-merge is on: GitHub merges it itself once its rules allow, no card needed. */
  autoMerge?: boolean;
  /** In its base branch's merge queue: GitHub merges it once the queue's checks pass. */
  queued?: boolean;
  /**
   * Taken out of the queue (by a person, or by the queue: its checks failed there, a conflict) at
   * this head, and why as GitHub said: proposing it again there is asking what was just answered.
   */
  dequeued?: { head: string; reason?: string };
  /** GitHub said the branch conflicts with its base (a merge would be refused). */
  conflicts?: boolean;
  merged?: boolean;
  /** Lines added and removed, files changed (GitHub's counts, when the event carried them). */
  size?: { additions: number; deletions: number; files: number };
  /** A dependency bot's updates (absent in states stored before they were read: the title's). */
  bumps?: Bump[];
  /**
   * Packages whose Dependabot card this PR's merge card stands for (the merge fixes every open
   * alert there), so the alert is one card, not two; given back if the PR closes unmerged.
   */
  folded?: string[];
  /** The head its latest merge card proposed (while muted: the rejected one's), and why a card came past the mute. */
  mute?: MuteMemory<string>;
}

/**
 * A person's pull request ready again at another head than the merge card rejected: the author
 * answered with new commits, so merging it is another proposal. A bot's rebase is not: "don't
 * merge this bump" rejected stays rejected however often it rebases.
 */
function pastRejectedHead(bot: boolean) {
  return (now: string, rejected: string): string | null =>
    !bot && now !== rejected
      ? `Its merge card was rejected at ${rejected.slice(0, 7)}; it is ready again at ${now.slice(0, 7)}`
      : null;
}

/** The pull request agent's index of a dependency bot's open PRs that update a package. */
const bumpKey = (repo: string, pkg: string) => `bump:${repo}:${pkg}`;

const GREEN = new Set(["success", "neutral", "skipped"]);
const DEPENDENCY_BOTS = /^(dependabot|renovate|depfu|greenkeeper|snyk-bot)(\[bot\])?$/i;

function isBot(user: { login: string; type?: string }): boolean {
  return DEPENDENCY_BOTS.test(user.login);
}

/**
 * The pull request's head is `sha` now: at new commits the old checks and a card's premise no longer
 * hold (a card proposed before waits, unless a dependency bot pushed them: its rebase is no news).
 */
function moveHead(state: PrState, sha: string, byBot: boolean): void {
  if (sha === state.headSha) return;
  if (state.proposedAt && !byBot) state.pushedAfterCard = true;
  state.headSha = sha;
  state.checks = {};
}

/**
 * What GitHub's answer changes: a push its webhook has not told yet (the checks Flick saw are of an
 * older head), a conflict it has worked out since, a close, a draft, auto-merge. Returns what holds a merge back at the
 * base's rules: "blocked" (a required review or check is missing) or "behind" (the base's rules
 * want the branch up to date with it).
 */
function learn(state: PrState, pull: PullNow): "blocked" | "behind" | undefined {
  if (!pull.open) {
    state.open = false;
    state.merged = pull.merged;
    return undefined;
  }
  moveHead(state, pull.head, false);
  if (pull.mergeable !== null) state.conflicts = !pull.mergeable;
  state.autoMerge = pull.autoMerge;
  // Turned back into a draft with no event Flick heard: not for merging.
  state.draft = pull.draft;
  return pull.state === "blocked" || pull.state === "behind" ? pull.state : undefined;
}

/** The card's line of what GitHub said (absent for a demo card: nothing was asked). */
function mergeableCheck(
  asked: PullNow | string | null,
  fetching: boolean,
  base: string,
  queue: boolean,
): Verification[number] {
  const check = "GitHub can merge it";
  if (!fetching) return { check, status: "skipped", detail: "not asked: GITHUB_TOKEN is not set" };
  if (asked === null || typeof asked === "string")
    return { check, status: "skipped", detail: `not known: ${asked ?? "not asked"}` };
  if (asked.mergeable === null || asked.state === "unknown")
    return { check, status: "skipped", detail: "GitHub was still working it out; Flick asks again" };
  if (queue) return { check, status: "passed", detail: `yes, through ${base}'s merge queue` };
  if (asked.state === "behind")
    return {
      check,
      status: "failed",
      detail: `not yet: the branch is behind ${base}, whose rules want it up to date`,
    };
  return {
    check,
    status: "passed",
    detail: asked.state === "unstable" ? "yes, though a check it does not require is not green" : "yes",
  };
}

/** A pull request GitHub held back or had not worked out yet, asked again by the clock. */
interface Recheck {
  key: string;
  repo: string;
  number: number;
  /** When it was first held back (ms); after two days it is left to its next event. */
  since: number;
  next: number;
  tries: number;
  /** The signal the card's evidence names. */
  told: { id: string; at: string };
}
const RECHECKS = "rechecks";
const RECHECK_FOR_MS = 2 * 24 * 60 * 60_000;
/** At most this many pull requests asked about on one tick. */
const RECHECKS_PER_TICK = 10;
/** The most pull requests waiting to be asked again (the longest-waiting give way). */
const RECHECKS_MAX = 200;

function verdict(
  s: PrState,
  held?: "blocked" | "behind",
): {
  ready: boolean;
  red: boolean;
  pending: boolean;
  blocked: boolean;
  behind: boolean;
  /** Taken out of its merge queue at this head (see PrState.dequeued). */
  dequeued: boolean;
  why: string;
} {
  const checks = Object.values(s.checks);
  const red = checks.some((c) => c !== "pending" && !GREEN.has(c));
  const pending = checks.length === 0 || checks.some((c) => c === "pending");
  const reviews = Object.values(s.reviews);
  const approved = reviews.includes("approved") && !reviews.includes("changes_requested");
  const reviewed = approved || (s.bot && !reviews.includes("changes_requested"));
  const conflicts = s.conflicts === true;
  const out = s.dequeued?.head === s.headSha ? s.dequeued : undefined;
  const why = red
    ? "a check failed"
    : pending
      ? "checks are still running"
      : !reviewed
        ? "it has no approving review"
        : conflicts
          ? "it conflicts with its base branch"
          : held === "blocked"
            ? "GitHub's rules for its base branch hold the merge back"
            : s.autoMerge
              ? "GitHub merges it itself (auto-merge is on)"
              : s.queued
                ? "it is in GitHub's merge queue"
                : out
                  ? `it was taken out of GitHub's merge queue at this commit${out.reason ? ` (${out.reason})` : ""}`
                  : "checks green and review satisfied";
  return {
    ready:
      !red &&
      !pending &&
      reviewed &&
      !conflicts &&
      held !== "blocked" &&
      !s.autoMerge &&
      !s.queued &&
      !out &&
      s.open &&
      !s.draft,
    red,
    pending,
    blocked: held === "blocked",
    behind: held === "behind",
    dequeued: out !== undefined,
    why,
  };
}

/**
 * Pull requests ready to merge: green checks (check runs and commit statuses) on the head commit and
 * an approval (or a dependency bot's PR with green checks). A red check, a conflict with the base or
 * a closed PR takes the card back; new commits pushed after the card update it to wait for the new
 * checks. With GitHub access, a pull request ready by its webhooks is checked with GitHub before its
 * card is written: a push not told yet, a conflict, the base branch's rules (required reviews or
 * checks: no card; "up to date first": a card proposing to update the branch); what GitHub held
 * back or had not worked out yet is asked again by the clock.
 */
export const prsAgent = defineAgent({
  name: "prs",
  reads: [
    "github.pull_request",
    "github.pull_request_review",
    "github.check_run",
    "github.status",
    // A new alert can make a waiting bump the fix for it (and its card the only one).
    "github.dependabot_alert",
    // Sentry's Seer opened a pull request to fix an error: its merge card says so.
    "sentry.webhook.seer",
  ],
  async run(ctx, batch) {
    const out: CardUpsert[] = [];
    const touched = new Map<string, { state: PrState; signals: SignalRow[]; repo: string }>();
    /** Pull requests that left a merge queue (merged, or taken out), for what came of a card's. */
    const left: { key: string; signal: SignalRow; check: Verification[number] }[] = [];
    for (const signal of batch) {
      const p = signal.payload as Payload;
      const seer = seerPullRequests(signal);
      const repo = p.repository?.full_name ?? seer[0]?.repository ?? "";
      // A check run names its PRs (not for a fork's); a commit status only its commit.
      const status = signal.kind === "github.status" && p.sha && p.context ? p : null;
      const checkedSha = p.check_run?.head_sha ?? status?.sha;
      const numbers: number[] = p.pull_request
        ? [p.pull_request.number]
        : (p.check_run?.pull_requests ?? []).map((x) => x.number);
      if (checkedSha && numbers.length === 0) {
        const byHead = await ctx.state.get<number>(`head:${repo}@${checkedSha}`);
        if (byHead !== undefined) numbers.push(byHead);
      }
      const alerted =
        signal.kind === "github.dependabot_alert" ? p.alert?.dependency?.package?.name : undefined;
      if (alerted) numbers.push(...((await ctx.state.get<number[]>(bumpKey(repo, alerted))) ?? []));
      numbers.push(...seer.filter((x) => x.repository === repo).map((x) => x.number));
      for (const number of numbers) {
        const key = `github:pr:${repo}#${number}`;
        const entry = touched.get(key);
        const stored = entry?.state ?? (await ctx.state.get<PrState>(key));
        const pr = p.pull_request;
        if (!stored && !pr) continue; // a check for a PR we have not seen opened: wait for it
        const state: PrState = stored ?? {
          number,
          title: pr?.title ?? `#${number}`,
          author: pr?.user.login ?? "?",
          bot: pr ? isBot(pr.user) : false,
          url: pr?.html_url,
          headSha: pr?.head.sha ?? "",
          draft: pr?.draft ?? false,
          open: true,
          checks: {},
          reviews: {},
        };
        if (pr) {
          state.title = pr.title;
          state.draft = pr.draft ?? false;
          state.open = pr.state === "open";
          state.url = pr.html_url ?? state.url;
          state.base = pr.base?.ref ?? state.base;
          state.merged = pr.merged === true;
          if (typeof pr.additions === "number" && typeof pr.deletions === "number")
            state.size = { additions: pr.additions, deletions: pr.deletions, files: pr.changed_files ?? 0 };
          if (state.bot) state.bumps = bumpsIn(pr.title, pr.body);
          if (pr.auto_merge !== undefined) state.autoMerge = pr.auto_merge !== null;
          if (p.action === "enqueued") state.queued = true;
          if (p.action === "dequeued") {
            state.queued = false;
            state.dequeued = { head: pr.head.sha, ...(p.reason ? { reason: p.reason } : {}) };
          }
          const queueCheck = leftQueue(p.action, pr, p.reason);
          if (queueCheck) left.push({ key, signal, check: queueCheck });
          // Only a definite answer counts; null means GitHub has not worked it out yet.
          if (typeof pr.mergeable === "boolean") state.conflicts = !pr.mergeable;
          moveHead(state, pr.head.sha, Boolean(p.sender && isBot(p.sender)));
        }
        if (p.review) {
          const reviewState = p.review.state.toLowerCase();
          if (reviewState !== "commented") state.reviews[p.review.user.login] = reviewState;
        }
        if (p.check_run && p.check_run.head_sha === state.headSha) {
          state.checks[p.check_run.name] =
            p.check_run.status === "completed" ? (p.check_run.conclusion ?? "neutral") : "pending";
        }
        if (status && status.sha === state.headSha) {
          state.checks[status.context as string] =
            status.state === "pending" ? "pending" : status.state === "success" ? "success" : "failure";
        }
        touched.set(key, { state, signals: [...(entry?.signals ?? []), signal], repo });
      }
    }

    for (const [key, { state, signals, repo }] of touched)
      await settle(ctx, out, ctx.github?.pull ?? null, key, state, signals, repo);
    // A card that put its pull request in the merge queue says what came of it: merged, or taken out.
    const done = left.length ? await ctx.carriedOut([...new Set(left.map((l) => l.key))]) : new Map();
    for (const { key, signal, check } of left) {
      const queued = done.get(key);
      if (queued?.result.queued === true && queued.finishedAt <= signal.occurredAt)
        out.push(outcome(key, signal, check));
    }
    return out;
  },
  async tick(ctx) {
    const fetchPull = ctx.github?.pull;
    if (!fetchPull) return [];
    const out: CardUpsert[] = [];
    const now = ctx.now.getTime();
    const due = ((await ctx.state.get<Recheck[]>(RECHECKS)) ?? []).filter((r) => r.next <= now);
    const batch = due.slice(0, RECHECKS_PER_TICK);
    // Asked all at once: a GitHub slow to answer holds the tick for one timeout, not ten.
    const answers = await Promise.all(batch.map((r) => fetchPull(r.repo, r.number)));
    for (const [i, r] of batch.entries()) {
      const state = await ctx.state.get<PrState>(r.key);
      const told = { id: r.told.id, occurredAt: new Date(r.told.at) };
      const answer = answers[i] as PullNow | string;
      if (state) await settle(ctx, out, async () => answer, r.key, state, [told], r.repo);
      else await recheckLater(ctx, r.key, r.repo, 0, told, false);
    }
    return out;
  },
});

/** Writes, updates or takes back a pull request's card from what is known of it now. */
async function settle(
  ctx: AgentContext,
  out: CardUpsert[],
  fetchPull: PullFetcher | null,
  key: string,
  state: PrState,
  signals: Told[],
  repo: string,
): Promise<void> {
  ctx.state.set(key, state);
  const bumps = state.bot ? (state.bumps ?? bumpsIn(state.title)) : [];
  await index(ctx, repo, state, bumps);
  const last = signals[signals.length - 1] as Told;
  let v = verdict(state);
  // Ready by what its webhooks told: GitHub is asked whether it would merge it now.
  const fetching = fetchPull !== null;
  const asked = v.ready && fetching ? await fetchPull(repo, state.number) : null;
  // Its base branch's rules as GitHub's rulesets say (null: not read), when GitHub answered.
  let rules: BranchRules | null = null;
  if (asked && typeof asked !== "string") {
    let held = learn(state, asked);
    const read = state.open && state.base && ctx.github ? await ctx.github.rules(repo, state.base) : null;
    rules = typeof read === "object" ? read : null;
    // A branch with a merge queue takes no direct merge, so GitHub may well say "blocked" of a pull
    // request the queue would take: where the rules Flick can read are met, it is the queue's to
    // check (and its answer to the enqueue says why not). The queue merges onto the latest base.
    if (rules?.mergeQueue && (held === "behind" || (held === "blocked" && meets(state, rules))))
      held = undefined;
    v = verdict(state, held);
  }
  if (state.headSha) ctx.state.set(`head:${repo}@${state.headSha}`, state.number);
  if (fetching) {
    // Held back by the base's rules (a review or check it requires, which may come with no event
    // Flick hears, or GitHub's answer lagging the event), or not worked out yet: asked again by the
    // clock. A branch behind its base has its card; its update comes as a push.
    const again =
      typeof asked === "object" &&
      asked !== null &&
      state.open &&
      (v.blocked || asked.mergeable === null || asked.state === "unknown");
    await recheckLater(ctx, key, repo, state.number, last, again);
  }
  const baseBranch = state.base ?? "its base branch";
  const base = {
    fingerprint: key,
    evidence: {
      signalIds: signals.map((s) => s.id),
      firstSeen: signals[0]?.occurredAt ?? last.occurredAt,
      lastSeen: last.occurredAt,
      links:
        state.url && /^https?:\/\//.test(state.url) ? [{ label: `#${state.number}`, url: state.url }] : [],
      facts: {
        pr: state.number,
        author: state.author,
        head: state.headSha.slice(0, 7),
        checks: Object.keys(state.checks).length,
        approvals: Object.values(state.reviews).filter((r) => r === "approved").length,
      },
    },
  };
  const checks = Object.entries(state.checks).map(([name, c]) => ({
    check: name,
    status: (GREEN.has(c) ? "passed" : c === "pending" ? "skipped" : "failed") as
      | "passed"
      | "skipped"
      | "failed",
    detail: c,
  }));
  /** Its card leaves the feed; what it stood for comes back. */
  const takeBack = async () => {
    out.push(withdrawal(key, last));
    // The alerts it would have fixed need their own card again, unless it was merged (GitHub
    // marks them fixed, which takes them back).
    if (!state.merged)
      for (const pkg of state.folded ?? [])
        out.push(moveCard(dependabotFingerprint(repo, pkg), last, "back"));
    state.folded = [];
    // The error it was to fix is its own card again (merged: Sentry resolving it takes it back).
    const fix = await ctx.state.peek<SeerFix>("errors", seerFixKey(repo, state.number));
    if (fix && !state.merged) out.push(moveCard(fix.fingerprint, last, "back"));
  };
  // Auto-merge on: GitHub merges it itself once it may, so there is nothing to ask of a person.
  if (
    !state.open ||
    state.draft ||
    v.red ||
    state.conflicts ||
    state.autoMerge ||
    state.queued ||
    v.dequeued
  ) {
    await takeBack();
    return;
  }
  if (state.pushedAfterCard && !v.ready) {
    const open = await ctx.openCards([key]);
    if (open.has(key)) {
      out.push({
        ...base,
        kind: "action",
        title: `#${state.number} got new commits after this card — waiting for checks on ${state.headSha.slice(0, 7)}`,
        summary: `Someone pushed to the branch after Flick proposed the merge, so the old checks no longer apply. The card comes back as ready when ${v.why === "checks are still running" ? "the new checks pass" : "it is ready again"}.`,
        priority: 0.2,
        priorityFactors: { waiting: 1 },
        change: { type: "none" },
        verification: checks,
      });
    }
    return;
  }
  if (!v.ready) {
    // Ready when its card was made, not now at the same head (a reviewer asked for changes, an
    // approval was dismissed, a check runs again): its card goes until it is ready again, so
    // no accept merges what a reviewer held back.
    if (state.proposedAt && (await ctx.openCards([key])).has(key)) await takeBack();
    return;
  }
  state.proposedAt = new Date(ctx.now).toISOString();
  state.pushedAfterCard = false;
  // A person rejected its merge card: ready again at new commits, it comes all the same.
  state.mute ??= {};
  const { why: past } = await newsPastMute(ctx, key, state.mute, state.headSha, pastRejectedHead(state.bot));
  ctx.state.set(key, state);
  const approvers = Object.entries(state.reviews)
    .filter(([, r]) => r === "approved")
    .map(([u]) => u);
  // A dependency bot's bump past an open alert's fix is the fix: it says so and ranks as the
  // vulnerability does, not as one more routine update.
  const byPackage = await vulnerabilitiesFixedBy(ctx, repo, bumps);
  const fixes = byPackage.flatMap((f) => f.fixes);
  // Where the merge fixes every open alert of a package, it is that alert's card too: one card.
  // The package's card is set aside (back if this one is rejected, or after a week unmerged).
  const folded = byPackage.filter((f) => f.fixes.length === f.open).map((f) => f.pkg);
  state.folded = folded;
  // Where it fixes only some: which stay open, so nobody takes the merge for the whole answer.
  const partly = byPackage
    .filter((f) => f.left.length > 0)
    .map(
      (f) =>
        ` It leaves ${f.left.length === 1 ? "Dependabot alert" : "Dependabot alerts"} ${f.left
          .map((v) => `#${v.alert}`)
          .join(", ")} on ${f.pkg} open (${f.left
          .map((v) => (v.fixedIn ? `fixed in ${v.fixedIn}` : "no fix released"))
          .join("; ")}), so the ${f.pkg} alert card stays.`,
    )
    .join("");
  // Sentry's Seer opened it to fix an error: merging is the answer to that error's card too.
  const seerFix = await ctx.state.peek<SeerFix>("errors", seerFixKey(repo, state.number));
  const error = seerFix ? await ctx.state.peek<GroupState>("errors", seerFix.fingerprint) : undefined;
  const errorName = error?.title ? `"${clip(error.title, 60)}"` : "a Sentry issue";
  const errorReach = error
    ? ` (${plural(error.count, "event")}, ${plural(error.users.length + error.moreUsers, "user")})`
    : "";
  const worst = fixes.reduce((m, v) => Math.max(m, severityOf(v.severity)), 0);
  const fixed =
    fixes.length === 1
      ? ` — fixes a ${fixes[0]?.severity} vulnerability (${fixes[0]?.advisory})`
      : fixes.length > 1
        ? ` — fixes ${fixes.length} vulnerabilities`
        : seerFix
          ? ` — Seer's fix for ${errorName}`
          : "";
  // Its base merges through a queue: the card adds it there (the queue's GraphQL takes its node id).
  const nodeId = typeof asked === "object" && asked !== null ? asked.nodeId : null;
  const queue = rules?.mergeQueue === true && nodeId !== null;
  const card: CardUpsert = {
    ...base,
    kind: "action",
    title: v.behind
      ? `Update #${state.number} with ${baseBranch} so it can be merged: ${state.title}${fixed}`
      : queue
        ? `Merge #${state.number} through ${baseBranch}'s merge queue: ${state.title}${fixed}`
        : `Merge #${state.number}: ${state.title}${fixed}`,
    summary: `${plural(Object.keys(state.checks).length, "check")} green on ${state.headSha.slice(0, 7)}${approvers.length ? `, approved by ${approvers.join(", ")}` : state.bot ? `, a dependency update by ${state.author}` : ""}.${fixes.map((v) => ` It fixes Dependabot alert #${v.alert}: ${v.summary} (${v.severity}).`).join("")}${partly}${folded.length ? ` This card stands for the ${folded.join(", ")} alert card${folded.length > 1 ? "s" : ""} too.` : ""}${seerFix ? ` Sentry's Seer opened it to fix ${errorName}${errorReach}; the error's card waits behind this one.` : ""}${past ? ` ${past}` : ""}${
      v.behind
        ? ` GitHub will not merge it yet: the branch is behind ${baseBranch}, whose rules want it up to date. Accept merges ${baseBranch} into the branch (GitHub's "Update branch"); its checks run again, and its merge card comes when they pass.`
        : queue
          ? ` Accept adds it to ${baseBranch}'s merge queue at exactly this commit; GitHub merges it once the queue's checks pass.`
          : " Accept squash-merges it at exactly this commit."
    }`,
    ...rank({
      // A production error's fix ranks as the error did (new: 0.6), not as a routine merge.
      severity: Math.max(0.3, worst, seerFix ? 0.6 : 0),
      blastRadius: 0.2,
      confidence: approvers.length ? 0.95 : 0.8,
      recency: recency(last.occurredAt, ctx.now),
      acceptRate: await ctx.acceptRate("prs", "github"),
    }),
    preview: {
      type: "text",
      text: `#${state.number} ${state.title}\nby ${state.author} · head ${state.headSha.slice(0, 7)}${state.size ? ` · +${state.size.additions} −${state.size.deletions} in ${plural(state.size.files, "file")}` : ""}`,
    },
    change: v.behind
      ? {
          type: "github",
          operation: "update_branch",
          repository: repo,
          params: { number: state.number, sha: state.headSha },
        }
      : queue
        ? {
            type: "github",
            operation: "enqueue_pr",
            repository: repo,
            params: { number: state.number, sha: state.headSha, nodeId },
          }
        : {
            type: "github",
            operation: "merge_pr",
            repository: repo,
            params: { number: state.number, sha: state.headSha, method: "squash" },
          },
    verification: ctx.demo ? checks : [...checks, mergeableCheck(asked, fetching, baseBranch, queue)],
    reopen: true,
    ...(past ? { pastMute: true } : {}),
  };
  // It stands for the packages' alert cards and the error's card it answers (set aside behind it).
  const stoodFor = [
    ...folded.map((pkg) => dependabotFingerprint(repo, pkg)),
    ...(seerFix ? [seerFix.fingerprint] : []),
  ];
  out.push(...standFor(card, stoodFor, last));
}

/** GitHub's reasons for taking a pull request out of its merge queue, in a card's words. */
const DEQUEUED: Record<string, string> = {
  CI_FAILURE: "its checks failed in the queue",
  MERGE_CONFLICT: "it conflicted with what was ahead of it in the queue",
  MANUAL: "someone took it out",
  QUEUE_CLEARED: "the queue was cleared",
  BRANCH_PROTECTIONS: "the branch's rules did not let it merge",
  GIT_TREE_INVALID: "GitHub could not make its merge",
  INVALID_MERGE_COMMIT: "GitHub could not make its merge",
  ROLL_BACK: "the queue was rolled back",
};

/**
 * What came of a pull request in a merge queue, as a card's check: merged (closed as merged) or
 * taken out (dequeued, for `reason`); undefined for other events. Shown only on a card whose
 * accept queued it (see the agent's run).
 */
function leftQueue(action: string, pr: PullRequest, reason?: string): Verification[number] | undefined {
  const check = "merged by the merge queue";
  if (action === "closed" && pr.merged)
    return {
      check,
      status: "passed",
      detail: `merged${pr.merge_commit_sha ? ` as ${pr.merge_commit_sha.slice(0, 7)}` : ""} into ${pr.base?.ref ?? "its base"}`,
    };
  if (action !== "dequeued" || reason === "ALREADY_MERGED") return undefined;
  const why = reason ? (DEQUEUED[reason] ?? reason.toLowerCase().replace(/_/g, " ")) : "it was taken out";
  return { check, status: "failed", detail: `not merged: ${why} (at ${pr.head.sha.slice(0, 7)})` };
}

/** The approvals and checks `rules` ask for are there (what GitHub's rulesets say; no more is known). */
function meets(state: PrState, rules: BranchRules): boolean {
  const approvals = Object.values(state.reviews).filter((r) => r === "approved").length;
  const checked = (name: string) => GREEN.has(state.checks[name] ?? "");
  return approvals >= rules.approvals && rules.checks.every(checked);
}

/**
 * Keeps `key` among the pull requests GitHub is asked about again (`again`), sooner after the
 * first answers (2, 4, 8… minutes, then hourly, for two days), or drops it.
 */
async function recheckLater(
  ctx: AgentContext,
  key: string,
  repo: string,
  number: number,
  told: Told,
  again: boolean,
): Promise<void> {
  const all = (await ctx.state.get<Recheck[]>(RECHECKS)) ?? [];
  const had = all.find((r) => r.key === key);
  const now = ctx.now.getTime();
  const rest = all.filter((r) => r !== had);
  if (!again || (had && now - had.since > RECHECK_FOR_MS)) {
    if (had) ctx.state.set(RECHECKS, rest);
    return;
  }
  const tries = had ? had.tries + 1 : 0;
  rest.push({
    key,
    repo,
    number,
    since: had?.since ?? now,
    next: now + Math.min(60, 2 * 2 ** tries) * 60_000,
    tries,
    told: { id: told.id, at: told.occurredAt.toISOString() },
  });
  ctx.state.set(RECHECKS, rest.sort((a, b) => a.since - b.since).slice(-RECHECKS_MAX));
}

/** Keeps the index of open bot PRs per package they update (for alerts that arrive later). */
async function index(ctx: AgentContext, repo: string, state: PrState, bumps: Bump[]): Promise<void> {
  for (const { pkg } of bumps) {
    const key = bumpKey(repo, pkg);
    const numbers = (await ctx.state.get<number[]>(key)) ?? [];
    const has = numbers.includes(state.number);
    if (state.open && !has) ctx.state.set(key, [...numbers, state.number]);
    if (!state.open && has)
      ctx.state.set(
        key,
        numbers.filter((n) => n !== state.number),
      );
  }
}
