import type { Change } from "@flick/shared";
import { extractErrorLines, lineText } from "../ci/log-errors.ts";
import { type AgentContext, type CardUpsert, defineAgent, type SignalRow, withdrawal } from "../define.ts";
import { blast, rank, recency } from "../rank.ts";
import { deployOf } from "./deploys.ts";
import { type MuteMemory, newsPastMute } from "./past-mute.ts";
import { checkedRevert, laterFiles, revertCheck } from "./revert.ts";
import { plural } from "./words.ts";

interface JobPayload {
  action: string;
  repository: { full_name: string; default_branch?: string };
  workflow_job: {
    id: number;
    run_id: number;
    run_attempt?: number;
    name: string;
    workflow_name?: string;
    head_branch?: string | null;
    head_sha: string;
    conclusion: string | null;
    html_url?: string;
    steps?: { name: string; conclusion: string | null }[];
  };
}

/** Another CI's check run (CircleCI, Buildkite… through their GitHub App), as GitHub sends it. */
interface CheckRunPayload {
  action: string;
  repository: { full_name: string; default_branch?: string };
  check_run: {
    id: number;
    name: string;
    head_sha: string;
    conclusion: string | null;
    html_url?: string;
    details_url?: string | null;
    app?: { slug?: string; name?: string } | null;
    check_suite?: { id?: number; head_branch?: string | null } | null;
    output?: { title?: string | null; summary?: string | null; text?: string | null } | null;
  };
}

/** A commit status (Jenkins, Travis, CircleCI's older integration…), as GitHub sends it. */
interface StatusPayload {
  sha: string;
  state: string;
  context: string;
  description?: string | null;
  target_url?: string | null;
  branches?: { name: string }[];
  repository: { full_name: string; default_branch?: string };
}

/**
 * A finished job on the default branch, from whichever CI ran it: a GitHub Actions job, another
 * app's check run, or a commit status.
 */
interface JobReport {
  repository: string;
  branch: string;
  /** What it belongs to: the workflow, the app that ran the check; none for a commit status. */
  workflow: string | null;
  name: string;
  sha: string;
  /** Its attempts share it (an Actions run, a check suite); null: its commit's attempts are one run. */
  runId: number | null;
  /** An Actions job, whose log Flick can read and whose run it can re-run. */
  actions: { jobId: number; runId: number; steps?: { name: string; conclusion: string | null }[] } | null;
  /** "success", a failure (FAILED), or another end ("cancelled", "skipped"…). */
  conclusion: string;
  url?: string;
  /** Another app's check run: its output (title, summary, text), read for error lines as a log is. */
  output?: string;
  /** A commit status: its one line of description. */
  description?: string;
}

/** The finished job a signal reports on its repository's default branch, or null. */
function reportOf(signal: SignalRow): JobReport | null {
  switch (signal.kind) {
    case "github.workflow_job": {
      const p = signal.payload as JobPayload;
      const job = p.workflow_job;
      const main = p.repository.default_branch ?? "main";
      if (p.action !== "completed" || job.head_branch !== main) return null;
      return {
        repository: p.repository.full_name,
        branch: main,
        workflow: job.workflow_name ?? "workflow",
        name: job.name,
        sha: job.head_sha,
        runId: job.run_id,
        actions: { jobId: job.id, runId: job.run_id, ...(job.steps ? { steps: job.steps } : {}) },
        conclusion: job.conclusion ?? "unknown",
        ...(job.html_url ? { url: job.html_url } : {}),
      };
    }
    case "github.check_run": {
      const p = signal.payload as CheckRunPayload;
      const run = p.check_run;
      if (!run?.head_sha || !p.repository?.full_name) return null;
      const main = p.repository.default_branch ?? "main";
      // An Actions job's check run: its workflow_job tells it, with the log.
      if (p.action !== "completed" || run.app?.slug === "github-actions") return null;
      if (run.check_suite?.head_branch !== main) return null;
      const output = [run.output?.title, run.output?.summary, run.output?.text].filter(Boolean).join("\n");
      return {
        repository: p.repository.full_name,
        branch: main,
        workflow: run.app?.name ?? "checks",
        name: run.name,
        sha: run.head_sha,
        runId: run.check_suite?.id ?? null,
        actions: null,
        conclusion: run.conclusion ?? "unknown",
        ...(run.details_url || run.html_url ? { url: run.details_url || run.html_url } : {}),
        ...(output ? { output: output.slice(0, 200_000) } : {}),
      };
    }
    case "github.status": {
      const p = signal.payload as StatusPayload;
      if (!p.sha || !p.context || !p.repository?.full_name) return null;
      const main = p.repository.default_branch ?? "main";
      // Pending is no end; a commit not on the default branch is a branch's or a pull request's.
      if (p.state === "pending") return null;
      if (!(p.branches ?? []).some((b) => b.name === main)) return null;
      return {
        repository: p.repository.full_name,
        branch: main,
        workflow: null,
        name: p.context,
        sha: p.sha,
        runId: null,
        actions: null,
        conclusion: p.state === "error" ? "failure" : p.state,
        ...(p.target_url ? { url: p.target_url } : {}),
        ...(p.description ? { description: p.description } : {}),
      };
    }
    default:
      return null;
  }
}

interface JobState {
  /**
   * Per run: the conclusions of its attempts, oldest first. A commit status's run is its commit
   * (`sha`), numbered by when it was first reported.
   */
  runs: { runId: number; sha?: string; conclusions: string[] }[];
  /** Runs that failed and then passed on a retry of the same commit. */
  flaky: number;
  /**
   * The latest run that passed (by run id), and its commit: the commits after it up to where the job
   * broke are the ones CI never saw pass. Absent in states stored before it was kept.
   */
  greenAt?: { sha: string; runId: number };
  /** The latest passing job: its log tells which of a failure's error-looking lines are usual. */
  lastPass?: { jobId: number; sha: string };
  /** The latest completed attempt passed (absent in states from before this was kept). */
  green?: boolean;
  /** How many times the job broke: failed after passing (a flaky retry included). */
  breakage?: number;
  /**
   * The earliest run that failed in the job's current breakage (by run id: a run for an earlier
   * commit may finish later), and its commit: where the job broke, whatever commits came after
   * while it stayed red. Absent in states stored before it was kept.
   */
  brokeAt?: { sha: string; runId: number };
  /** The latest run (by run id) that failed in the current breakage, and its commit. */
  redAt?: { sha: string; runId: number };
  /** The breakage its latest card told (while muted: the rejected one), and why a card came past the mute. */
  mute?: MuteMemory<Breakage>;
  /** The commits GitHub listed between its last pass and where it broke (see comparedSuspects). */
  compared?: { since: string; sha: string; suspects: Suspects | null };
}

/**
 * A push to the default branch: CI runs at its last commit only, so a job that breaks there may
 * have been broken by any of its commits (and by those of earlier pushes CI finished no run at).
 */
interface Push {
  /** The commit before the push. */
  before: string;
  after: string;
  /** How many commits it brought. */
  count: number;
  /** The first few of them, oldest first, to name on the card. */
  commits: { sha: string; subject: string }[];
  /** The pull request it merged, when its last commit is GitHub's merge commit for one. */
  pr?: number;
}
/** Where the CI agent keeps a repository's latest pushes. */
const pushesKey = (repository: string) => `pushes:${repository}`;
const PUSHES_MAX = 50;
/** The commits of a push the card names (and the agent keeps); the rest are counted. */
const NAMED_COMMITS = 5;

/** A commit message's first line, as a card names the commit. */
const subjectOf = (message: string | undefined) => (message ?? "").split("\n")[0]?.slice(0, 72) ?? "";

/**
 * A push to the default branch that brought commits (a deploy, as the deploys agent reads it, whose
 * commits it counted), as the CI agent keeps it; null for any other push (a force-push counts none).
 */
function pushOf(signal: SignalRow): { repository: string; push: Push } | null {
  const deploy = deployOf(signal);
  if (!deploy?.previous || (deploy.commits ?? 1) < 1) return null;
  const commits = ((signal.payload as { commits?: { id: string; message?: string }[] }).commits ?? []).map(
    (c) => ({ sha: c.id, subject: subjectOf(c.message) }),
  );
  const pr = /^Merge pull request #(\d+) /.exec(commits.at(-1)?.subject ?? "")?.[1];
  const push: Push = {
    before: deploy.previous,
    after: deploy.sha,
    count: commits.length,
    commits: commits.slice(0, NAMED_COMMITS),
    ...(pr ? { pr: Number(pr) } : {}),
  };
  return { repository: deploy.repository, push };
}

/** The commits a breakage may have come from: one push's, or every push's since the job last passed. */
interface Suspects {
  /** The commit before them. */
  before: string;
  count: number;
  /** The first few, oldest first. */
  commits: { sha: string; subject: string }[];
  /** How many pushes brought them. */
  pushes: number;
  /** One push, GitHub's merge of this pull request. */
  pr?: number;
  /** Listed by GitHub's compare: Flick did not hear of every push between (`pushes` is 0). */
  compared?: true;
}

/** The most pushes looked back through from where a job broke to where it last passed. */
const PUSHES_BACK = 20;

/**
 * The commits that may have broken a job that broke at `broke`: back through the pushes from it to
 * the job's last pass (`green`), when every push between is known (CI finished no run at the others:
 * cancelled for the next push, skipped, or not run); else the push that brought `broke`. Undefined
 * when that is one commit (or no push is known).
 */
function suspectsOf(pushes: Push[], broke: string, green: string | undefined): Suspects | undefined {
  const chain: Push[] = [];
  for (let at = broke; chain.length < PUSHES_BACK; ) {
    const push = pushes.findLast((k) => k.after === at);
    if (!push) break;
    chain.unshift(push);
    if (push.before === green) break;
    at = push.before;
  }
  const used = green !== undefined && chain[0]?.before === green ? chain : chain.slice(-1);
  const first = used[0];
  const count = used.reduce((n, p) => n + p.count, 0);
  if (!first || count < 2) return undefined;
  const pr = used.length === 1 ? first.pr : undefined;
  return {
    before: first.before,
    count,
    commits: used.flatMap((p) => p.commits).slice(0, NAMED_COMMITS),
    pushes: used.length,
    ...(pr ? { pr } : {}),
  };
}

/**
 * The most commits GitHub's compare may list for a card to propose reverting them all (a job that
 * last passed hundreds of commits ago — a nightly one — is not reverted that far back; as when the
 * pushes walked back are more than PUSHES_BACK, the card names the push it broke at).
 */
const COMPARED_MAX = 50;

/**
 * The commits after the job's last pass (`since`) up to where it broke, as GitHub's compare lists
 * them — for when Flick did not hear of every push between (a webhook that was not delivered, or
 * sent for other events only; more pushes than it keeps). Asked once per range (kept in the job's
 * state); undefined when GitHub could not be asked, or the range is one commit or over COMPARED_MAX.
 */
async function comparedSuspects(
  ctx: AgentContext,
  state: JobState,
  repository: string,
  since: string,
  sha: string,
): Promise<Suspects | undefined> {
  const range = ctx.github?.range;
  if (!range) return undefined;
  if (state.compared?.since !== since || state.compared.sha !== sha) {
    const found = await range(repository, since, sha);
    // Not known (GitHub did not answer): asked again with the next run.
    if (typeof found === "string") return undefined;
    state.compared = {
      since,
      sha,
      suspects:
        found === null || found.total < 2 || found.total > COMPARED_MAX
          ? null
          : {
              before: since,
              count: found.total,
              commits: found.listed
                .slice(0, NAMED_COMMITS)
                .map((c) => ({ sha: c.sha, subject: subjectOf(c.message) })),
              pushes: 0,
              compared: true,
            },
    };
  }
  return state.compared.suspects ?? undefined;
}

/** A breakage of the job as a card told it: which one, and the commit it failed at. */
interface Breakage {
  breakage: number;
  sha: string;
}

/**
 * A failure past a rejected card of the job: it passed since and broke again (another commit to
 * revert, not the one rejected). A flaky job's failures are never past it: "re-run?" rejected is
 * "stop telling me it flakes".
 */
function pastRejectedFailure(flaky: boolean) {
  return (now: Breakage, rejected: Breakage): string | null =>
    !flaky && now.breakage > rejected.breakage
      ? `Its card was rejected when it failed at ${rejected.sha.slice(0, 7)}; it passed since and now fails at ${now.sha.slice(0, 7)}`
      : null;
}

const FAILED = new Set(["failure", "timed_out", "startup_failure"]);

/**
 * CI failures on the default branch: one card per failing job, however many times it is retried —
 * a GitHub Actions job, another CI's check run (CircleCI, Buildkite…) or a commit status (Jenkins…).
 * The card quotes the first error lines of the log when it can fetch it (leaving out lines the job's
 * last passing run printed too, when it has seen one), and proposes a re-run when the job has
 * passed on retry before (flaky), else a pull request reverting the commit it fails on.
 */
export const ciAgent = defineAgent({
  name: "ci",
  reads: ["github.workflow_job", "github.check_run", "github.status", "github.push"],
  async run(ctx, batch) {
    const fetchLog = ctx.github?.jobLog ?? null;
    const out: CardUpsert[] = [];
    // Pushes first: a job's result may come in the same batch as the push it ran for.
    for (const signal of batch) {
      const pushed = signal.kind === "github.push" ? pushOf(signal) : null;
      if (!pushed) continue;
      const { repository, push } = pushed;
      const key = pushesKey(repository);
      const known = (await ctx.state.get<Push[]>(key)) ?? [];
      if (!known.some((k) => k.after === push.after)) ctx.state.set(key, [...known, push].slice(-PUSHES_MAX));
    }
    const jobs = batch.flatMap((signal) => {
      const report = reportOf(signal);
      return report ? [{ signal, report }] : [];
    });
    const key = (r: JobReport) => `ci:${r.repository}:${r.workflow ?? "status"}/${r.name}`;
    await ctx.state.load([
      ...new Set(jobs.flatMap(({ report }) => [key(report), pushesKey(report.repository)])),
    ]);
    for (const { signal, report: job } of jobs) {
      const fingerprint = key(job);
      const state: JobState = (await ctx.state.get<JobState>(fingerprint)) ?? { runs: [], flaky: 0 };
      let run = state.runs.find((r) => (job.runId === null ? r.sha === job.sha : r.runId === job.runId));
      if (!run) {
        run = {
          runId: job.runId ?? signal.occurredAt.getTime(),
          ...(job.runId === null ? { sha: job.sha } : {}),
          conclusions: [],
        };
        state.runs.push(run);
        if (state.runs.length > 20) state.runs.shift();
      }
      const { conclusion } = job;
      const failedBefore = run.conclusions.some((c) => FAILED.has(c));
      run.conclusions.push(conclusion);
      // A pass of a run older than the latest failure (an earlier commit's run finishing late)
      // says where the job last passed, not that the branch is green again.
      const late =
        conclusion === "success" &&
        state.green === false &&
        state.redAt !== undefined &&
        run.runId < state.redAt.runId;
      if (conclusion === "success" && (!state.greenAt || run.runId >= state.greenAt.runId))
        state.greenAt = { sha: job.sha, runId: run.runId };
      if (FAILED.has(conclusion) && state.green !== false) {
        state.breakage = (state.breakage ?? 0) + 1;
        state.brokeAt = { sha: job.sha, runId: run.runId };
        state.redAt = state.brokeAt;
      } else if (FAILED.has(conclusion)) {
        const red = { sha: job.sha, runId: run.runId };
        if (state.brokeAt && red.runId < state.brokeAt.runId) state.brokeAt = red;
        if (!state.redAt || red.runId >= state.redAt.runId) state.redAt = red;
      }
      if (FAILED.has(conclusion) || (conclusion === "success" && !late))
        state.green = conclusion === "success";
      ctx.state.set(fingerprint, state);

      if (!FAILED.has(conclusion)) {
        if (conclusion === "success") {
          if (failedBefore) state.flaky++;
          if (job.actions) state.lastPass = { jobId: job.actions.jobId, sha: job.sha };
          // Green again on the default branch: the failure card is moot.
          if (!late) out.push(withdrawal(fingerprint, signal));
        }
        continue;
      }

      const flaky = state.flaky > 0;
      // A person rejected its card: a new breakage (green since, failing again) comes all the same.
      state.mute ??= {};
      const { why: past } = await newsPastMute(
        ctx,
        fingerprint,
        state.mute,
        { breakage: state.breakage ?? 1, sha: state.brokeAt?.sha ?? job.sha },
        pastRejectedFailure(flaky),
      );
      ctx.state.set(fingerprint, state);
      // The commit it broke at, to revert — not a later one pushed while it was red already.
      const brokeSha = state.brokeAt?.sha ?? job.sha;
      const sha = brokeSha.slice(0, 7);
      const latestSha = state.redAt?.sha ?? job.sha;
      const stillAt = brokeSha === latestSha ? null : latestSha.slice(0, 7);
      // Broke at the last commit of a push of several, or after pushes CI finished no run at: it
      // did not see the others pass.
      const green = state.greenAt?.sha;
      const known = flaky
        ? undefined
        : suspectsOf((await ctx.state.get<Push[]>(pushesKey(job.repository))) ?? [], brokeSha, green);
      // Flick did not hear of every push since the job last passed: GitHub lists the commits between.
      const push =
        flaky || !green || known?.before === green
          ? known
          : ((await comparedSuspects(ctx, state, job.repository, green, brokeSha)) ?? known);
      const n = push?.count ?? 1;
      const since = push && (push.pushes > 1 || push.compared) ? push.before.slice(0, 7) : null;
      const pushed = push?.pr
        ? `, the merge of #${push.pr}`
        : since
          ? `, ${n} commits after its last pass at ${since}`
          : push
            ? `, the last of ${n} commits pushed together`
            : "";
      const revertWhat = push?.pr ? "the merge" : `all ${n}`;
      const listed =
        push &&
        push.commits.map((c) => `${c.sha.slice(0, 7)} "${c.subject}"`).join(", ") +
          (n > push.commits.length ? ` and ${n - push.commits.length} more` : "");
      const label = job.workflow ? `${job.workflow} / ${job.name}` : job.name;
      const failedStep = job.actions?.steps?.find((s) => s.conclusion === "failure")?.name;
      const jobId = job.actions?.jobId;
      const log =
        fetchLog && jobId !== undefined ? await fetchLog(job.repository, jobId).catch(() => null) : null;
      // The last green run's log, when there is one: a line it printed too is not this failure's
      // error (a deprecation warning, a test that logs "Error:" on purpose).
      const pass = log && fetchLog && state.lastPass?.jobId !== jobId ? state.lastPass : undefined;
      const passLog = pass ? await fetchLog?.(job.repository, pass.jobId).catch(() => null) : null;
      // Another CI's words stand in for the log: a check run's output, a status's description.
      const errorLines = log ? pickLines(log, passLog ?? undefined) : job.output ? pickLines(job.output) : [];
      const said = errorLines.length
        ? undefined
        : (job.description ?? job.output?.split("\n")[0])?.slice(0, 300);
      const against =
        passLog && pass
          ? ` (leaving out what the last passing run, at ${pass.sha.slice(0, 7)}, also printed)`
          : "";
      // Flaky: GitHub re-runs an Actions job; another CI's job is re-run from its own page.
      const rerun = flaky ? job.actions : null;
      // The revert, asked of GitHub first (reads only) as the executor would make it: when later
      // commits changed the same files it would need a merge Flick will not do blind — then the
      // branch goes back to before it broke, up to its tip, instead.
      const reverting = flaky
        ? { asked: null, wide: null, refused: null }
        : await checkedRevert(ctx, job.repository, {
            sha: brokeSha,
            ...(push ? { since: push.before } : {}),
            branch: job.branch,
          });
      const { wide, refused } = reverting;
      const back = wide ? wide.parent.slice(0, 7) : "";
      const files = laterFiles(reverting);
      const change: Change = rerun
        ? {
            type: "github",
            operation: "rerun_workflow",
            repository: job.repository,
            params: { runId: rerun.runId, failedOnly: true },
          }
        : flaky || refused
          ? { type: "none" }
          : {
              type: "github",
              operation: "revert_commit",
              repository: job.repository,
              params: {
                sha: wide ? wide.tip : brokeSha,
                ...(wide ? { since: wide.parent } : push ? { since: push.before } : {}),
                branch: job.branch,
                reason: [
                  `${job.workflow ? `The **${job.name}** job of **${job.workflow}**` : `**${job.name}**`} fails on \`${job.branch}\` since ${brokeSha}${failedStep ? `, in the step "${failedStep}"` : ""}${stillAt ? ` (still at ${latestSha})` : ""}.`,
                  since && push
                    ? `The job last passed at ${since}; ${n} commits came after it ${push.compared ? "(as GitHub compares the two), and Flick saw no run of it finish at the others" : `in ${push.pushes} pushes, and CI finished no run at the others`}: any of them may have broken the job, so this reverts all ${n} (${since}..${sha}).`
                    : push
                      ? `It was the last of ${n} commits pushed together${push.pr ? ` (the merge of #${push.pr})` : ""}, and CI ran at it only: any of them may have broken the job, so this reverts all ${n} (${push.before.slice(0, 7)}..${sha}).`
                      : "",
                  wide
                    ? `Later commits changed ${files} too, so reverting ${sha} alone would need a merge: this reverts all ${wide.commits} commits after ${back} up to ${wide.tip.slice(0, 7)}, the tip of \`${job.branch}\` — the branch as it was before the job broke.`
                    : "",
                  job.url ? `Run: ${job.url}` : "",
                  errorLines.length
                    ? `\`\`\`\n${errorLines.join("\n")}\n\`\`\``
                    : said
                      ? `It says: "${said}"`
                      : "",
                  "Proposed by Flick; merge it to get the branch green again, or close it and fix forward.",
                ]
                  .filter(Boolean)
                  .join("\n\n"),
              },
            };
      const attempts = run.conclusions.length;
      const where =
        job.workflow === null ? "its status" : job.actions ? "the job's log" : "the check's output";
      const step = failedStep ? ` (${failedStep})` : "";
      out.push({
        fingerprint,
        kind: (flaky && !rerun) || refused ? "insight" : "action",
        title: flaky
          ? `${label} failed on ${job.branch} — flaky before, re-run?`
          : refused
            ? `${label} is failing on ${job.branch} ${stillAt ? `since ${sha}${pushed}${step}, still at ${stillAt}` : `at ${sha}${pushed}${step}`} — Flick cannot revert it`
            : wide
              ? `${label} is failing on ${job.branch} since ${sha}${pushed}${step}${stillAt ? `, still at ${stillAt}` : ""} — revert back to ${back}?`
              : stillAt
                ? `${label} is failing on ${job.branch} since ${sha}${pushed}${failedStep ? ` (${failedStep})` : ""}, still at ${stillAt} — revert ${push ? revertWhat : sha}?`
                : `${label} is failing on ${job.branch} at ${sha}${pushed}${failedStep ? ` (${failedStep})` : ""} — revert ${push ? revertWhat : "it"}?`,
        summary: [
          errorLines.length
            ? `First errors in ${job.actions ? "the log" : where}${against}:\n\n\`\`\`\n${errorLines.slice(0, 12).join("\n")}\n\`\`\``
            : said
              ? "" // the preview quotes it
              : log || !job.actions
                ? `No error lines stood out in ${where}.`
                : fetchLog
                  ? "GitHub did not give the job's log, so its error lines are not quoted here."
                  : "Flick reads a job's log with GITHUB_TOKEN, which is not set: its first error lines would be quoted here.",
          past,
          flaky
            ? `This job failed and then passed on a retry of the same commit ${plural(state.flaky, "time")} before. ${rerun ? "Accept re-runs the failed jobs." : `Re-run it from its page${job.url ? ` (${job.url})` : ""}: Flick cannot re-run another CI's jobs.`}`
            : refused
              ? `Flick cannot revert it: ${refused}.`
              : wide
                ? `Later commits changed ${files} too, so reverting ${sha}${push ? " with the commits before it" : ""} alone would need a merge. Accept opens a pull request that reverts all ${wide.commits} commits after ${back} up to ${wide.tip.slice(0, 7)}, the tip of ${job.branch}: the branch as it was before the job broke, later work included${errorLines.length ? ". It quotes the error lines" : ""}.`
                : since
                  ? `Accept opens a pull request that reverts the ${n} commits since the job last passed at ${since}, up to ${sha} — ${push?.compared ? "GitHub lists them between the two, and Flick saw no run of it finish at the others" : `CI finished no run at the others (${push?.pushes} pushes)`}, so any of them may have broken the job: ${listed}${stillAt ? ` (it still fails at ${stillAt}, pushed since)` : ""}${errorLines.length ? ". It quotes the error lines" : ""}.`
                  : push
                    ? `Accept opens a pull request that reverts ${push.pr ? `the merge of #${push.pr} at ${sha}, the ${n} commits it brought` : `the ${n} commits pushed together at ${sha}`} — CI ran at the last only, so any of them may have broken the job: ${listed}${stillAt ? ` (it still fails at ${stillAt}, pushed since)` : ""}${errorLines.length ? ". It quotes the error lines" : ""}.`
                    : `Accept opens a pull request that reverts ${sha}, the commit this job ${stillAt ? `began failing on (it still fails at ${stillAt}, pushed since)` : "fails on"}${errorLines.length ? ", quoting the error lines" : ""}.`,
        ]
          .filter(Boolean)
          .join("\n\n"),
        ...rank({
          severity: 0.7,
          blastRadius: blast(state.runs.filter((r) => r.conclusions.some((c) => FAILED.has(c))).length * 10),
          confidence: errorLines.length ? 0.9 : 0.7,
          recency: recency(signal.occurredAt, ctx.now),
          acceptRate: await ctx.acceptRate("ci", "ci"),
        }),
        preview: errorLines.length
          ? { type: "text", text: errorLines.slice(0, 30).join("\n").slice(0, 4000) }
          : {
              type: "text",
              text: `${label}: ${conclusion}${failedStep ? ` in "${failedStep}"` : ""}${said ? ` — ${said}` : ""}`,
            },
        change,
        evidence: {
          signalIds: [signal.id],
          firstSeen: signal.occurredAt,
          lastSeen: signal.occurredAt,
          links: job.url && /^https?:\/\//.test(job.url) ? [{ label: "Job", url: job.url }] : [],
          facts: {
            job: job.name,
            ...(job.workflow ? { workflow: job.workflow } : {}),
            commit: sha,
            ...(push ? { pushed: `${n} commits, ${push.before.slice(0, 7)}..${sha}` } : {}),
            ...(stillAt ? { failingAt: stillAt } : {}),
            ...(wide ? { reverting: `${wide.commits} commits, ${back}..${wide.tip.slice(0, 7)}` } : {}),
            attempts,
            flakyBefore: state.flaky,
            ...(failedStep ? { step: failedStep } : {}),
            errorLines: errorLines.length,
          },
        },
        verification: [
          {
            check: "the failure is on the default branch",
            status: "passed",
            detail: `${job.branch} is ${job.repository}'s default branch`,
          },
          // A status has one line to say, and no lines to look through.
          ...(job.workflow === null
            ? []
            : [
                {
                  check: `error lines found in ${where}`,
                  status: errorLines.length ? ("passed" as const) : ("skipped" as const),
                  detail: errorLines.length
                    ? `${errorLines.length} lines${passLog ? ", compared with the last passing run's log" : ""}`
                    : log || !job.actions
                      ? "none recognised"
                      : fetchLog
                        ? "GitHub did not give the log"
                        : "not read: GITHUB_TOKEN is not set",
                },
              ]),
          // What GitHub said of the revert before it was proposed (not for a flaky job's re-run).
          ...(flaky || ctx.demo ? [] : [revertCheck(reverting, job.branch)]),
        ],
        reopen: true,
        ...(past ? { pastMute: true } : {}),
      });
    }
    return out;
  },
});

function pickLines(log: string, passLog?: string): string[] {
  const lines = log.split(/\r\n|\r|\n/);
  return extractErrorLines(log, passLog).map((n) => lineText(lines[n - 1] ?? "").slice(0, 300));
}
