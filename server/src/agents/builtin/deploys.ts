import type { Change, Preview, SeriesPreview, Verification } from "@flick/shared";
import type { AgentContext, CardUpsert, PastRollback, SignalRow } from "../define.ts";
import { accepted, defineAgent, TITLE_MAX } from "../define.ts";
import { rank, recency } from "../rank.ts";
import { despiteMute } from "./past-mute.ts";
import { checkedRevert, laterFiles, revertCheck } from "./revert.ts";
import { deploysOf } from "./settings.ts";
import { clip, hhmm, hhmmSpan, plural } from "./words.ts";

export interface Deploy {
  repository: string;
  sha: string;
  /** The commit before it: what a rollback goes back to. */
  previous: string | null;
  label: string;
  /** When it went out: for a deploy workflow or deployment, when it began rolling out. */
  at: number;
  /**
   * When a deploy that takes a while (a workflow, a deployment) reported success, if later than
   * `at`: trouble from its start on is blamed on it, for the usual while after it finished.
   */
  done?: number;
  signalId: string;
  /** The branch a push deployed (absent for releases and deploy events, and in older state). */
  branch?: string;
  /** How many commits a push brought, when its webhook listed them (GitHub lists up to 2,048). */
  commits?: number;
}

/**
 * How long a deploy is remembered whatever else deploys meanwhile (trouble is blamed on it for half
 * an hour after it; its open rollback card is told what reached its repository after it), and how
 * many such deploys at most. Older ones, only each repository's latest (Settings lists the
 * repositories seen deploying).
 */
const REMEMBER = { ms: 7 * 24 * 60 * 60_000, deploys: 500, repositories: 200 };
/** Where the deploys agent keeps the deploys it remembers (see REMEMBER), oldest first. */
export const RECENT_DEPLOYS_KEY = "recent";
/** Trouble this soon after a deploy is blamed on it. */
export const DEPLOY_BLAME_MS = 30 * 60_000;

interface Payload {
  action?: string;
  ref?: string;
  before?: string;
  after?: string;
  deleted?: boolean;
  forced?: boolean;
  head_commit?: { message?: string } | null;
  commits?: { id?: string; message?: string }[];
  repository: { full_name: string; default_branch?: string; pushed_at?: number | string };
  release?: { tag_name: string; target_commitish?: string };
  workflow_run?: {
    name?: string;
    head_branch?: string | null;
    head_sha: string;
    conclusion?: string | null;
    run_started_at?: string;
    created_at?: string;
  };
  deployment?: { sha: string; environment?: string; ref?: string; created_at?: string };
  deployment_status?: { state: string; environment?: string };
}

/**
 * A deploy that reports success when it finished began at `started` (GitHub's time), if that
 * reads as a time no later than the report: its new version may have been serving — and breaking
 * things — for minutes before the webhook said so.
 */
function rollout(started: string | undefined, reported: number): { at: number; done?: number } {
  const at = Date.parse(started ?? "");
  return Number.isFinite(at) && at < reported ? { at, done: reported } : { at: reported };
}

/** A deploy this signal reports, or null: a push to the default branch, a release, a green deploy workflow. */
export function deployOf(signal: SignalRow): Deploy | null {
  const p = signal.payload as Payload;
  const repo = p.repository?.full_name;
  if (!repo) return null;
  const base = { repository: repo, at: signal.occurredAt.getTime(), signalId: signal.id };
  const main = p.repository.default_branch ?? "main";
  switch (signal.kind) {
    case "github.push": {
      if (p.ref !== `refs/heads/${main}` || p.deleted || !p.after || /^0+$/.test(p.after)) return null;
      // GitHub says when the push happened (seconds); a delivery may arrive later than that.
      const pushed = typeof p.repository.pushed_at === "number" ? p.repository.pushed_at * 1000 : Number.NaN;
      return {
        ...base,
        at: Number.isFinite(pushed) && pushed <= base.at ? pushed : base.at,
        sha: p.after,
        branch: main,
        previous: p.before && !/^0+$/.test(p.before) ? p.before : null,
        // Listed up to the pushed commit (else the list is not this push's: a test's made-up push),
        // and no force-push, whose commits need not follow the one before it.
        ...(!p.forced && p.commits?.length && p.commits.at(-1)?.id === p.after
          ? { commits: p.commits.length }
          : {}),
        label: `push ${p.after.slice(0, 7)}${p.head_commit?.message ? ` "${p.head_commit.message.split("\n")[0]?.slice(0, 60)}"` : ""}`,
      };
    }
    case "github.release":
      if (p.action !== "published" || !p.release) return null;
      return { ...base, sha: p.release.tag_name, previous: null, label: `release ${p.release.tag_name}` };
    case "github.workflow_run": {
      const w = p.workflow_run;
      if (p.action !== "completed" || !w || w.conclusion !== "success" || w.head_branch !== main) return null;
      if (!/deploy|release|\bcd\b|publish|ship/i.test(w.name ?? "")) return null;
      return {
        ...base,
        ...rollout(w.run_started_at ?? w.created_at, base.at),
        sha: w.head_sha,
        previous: null,
        label: `${w.name} ${w.head_sha.slice(0, 7)}`,
      };
    }
    case "github.deployment_status": {
      if (p.deployment_status?.state !== "success" || !p.deployment) return null;
      return {
        ...base,
        ...rollout(p.deployment.created_at, base.at),
        sha: p.deployment.sha,
        previous: null,
        label: `deploy ${p.deployment.sha.slice(0, 7)} to ${p.deployment_status.environment ?? p.deployment.environment ?? "production"}`,
      };
    }
    default:
      return null;
  }
}

/**
 * Remembers recent deploys (no cards of its own), so the error and metric agents can tell when
 * trouble follows one; a deploy after one whose rollback card is open is told on that card. Runs
 * first in every batch.
 */
export const deploysAgent = defineAgent({
  name: "deploys",
  reads: ["github.push", "github.release", "github.workflow_run", "github.deployment_status"],
  async run(ctx, batch) {
    const found = batch.map(deployOf).filter((d): d is Deploy => d !== null);
    if (found.length === 0) return [];
    const recent = (await ctx.state.get<Deploy[]>(RECENT_DEPLOYS_KEY)) ?? [];
    const fresh = found.filter((d) => !recent.some((r) => r.signalId === d.signalId));
    const kept = remembered([...recent, ...fresh], ctx.now.getTime());
    ctx.state.set(RECENT_DEPLOYS_KEY, kept);
    // An open rollback card of an earlier deploy says what reached its repository since.
    return laterOnOpenCards(ctx, fresh, kept);
  },
});

/** The deploys to remember (see REMEMBER), oldest first. */
export function remembered(deploys: Deploy[], now: number): Deploy[] {
  const newest = [...deploys].sort((a, b) => b.at - a.at);
  const recent = newest.filter((d) => now - d.at <= REMEMBER.ms).slice(0, REMEMBER.deploys);
  const seen = new Set(recent.map((d) => d.repository));
  const older: Deploy[] = [];
  for (const d of newest) {
    if (seen.has(d.repository) || older.length >= REMEMBER.repositories) continue;
    seen.add(d.repository);
    older.push(d);
  }
  return [...recent, ...older].sort((a, b) => a.at - b.at);
}

/**
 * The deploys shortly before `at` that could have caused trouble in what the source `sourceId`
 * reports, latest first: of a repository its `deploys` setting names, when it names some
 * (`scoped`), else of any repository.
 */
async function suspects(
  ctx: AgentContext,
  at: number,
  sourceId: string | undefined,
): Promise<{ deploys: Deploy[]; scoped: boolean }> {
  const recent = await recentDeploys(ctx);
  const scope = sourceId ? deploysOf(await ctx.sourceSettings(sourceId)) : null;
  const deploys = recent
    .filter((d) => !scope || scope.has(d.repository.toLowerCase()))
    .filter((d) => d.at <= at && at - (d.done ?? d.at) <= DEPLOY_BLAME_MS)
    .sort((a, b) => b.at - a.at);
  return { deploys, scoped: scope !== null };
}

/** The latest deploy shortly before `at` that could have caused trouble in the source's (see suspects), if any. */
export async function deployBefore(
  ctx: AgentContext,
  at: Date,
  sourceId: string | undefined,
): Promise<Deploy | null> {
  return (await suspects(ctx, at.getTime(), sourceId)).deploys[0] ?? null;
}

export interface Trouble {
  /** "errors" or "metric": what this agent saw. */
  what: "errors" | "metric";
  /**
   * Which trouble of that kind it is, when the card can tell several ("metric:checkout_success"
   * beside "metric:cart_latency"); one line each. Without it, one line for the kind.
   */
  key?: string;
  /** The trouble in full, for the summary ("new error "TypeError: …" ×6 (6 users)"). */
  line: string;
  /** The same in a few words, for the title ("new TypeError ×6 (6 users)"). */
  brief: string;
  facts: Record<string, string | number | boolean>;
  signalIds: string[];
  firstSeen: Date;
  lastSeen: Date;
  severity: number;
  blastRadius: number;
  preview?: Preview;
  /** The source that saw it (whose `deploys` setting says which deploys could be its cause). */
  sourceId?: string;
}

/**
 * The troubles a rollback card's facts tell ("errors:<group>", "metric:<name>"): each has its line
 * as a "seen:" fact (emptied when another replaced it) and its few words as a "brief:" one.
 */
function told(facts: Record<string, unknown>): string[] {
  return Object.keys(facts)
    .filter((k) => k.startsWith("seen:") && facts[k] !== "")
    .map((k) => k.slice("seen:".length));
}

/**
 * A person rejected the deploy's rollback card (it is muted): a trouble that card did not tell is
 * news past it — the card comes all the same, saying so (`note`); the troubles it told stay quiet.
 * While the card past the mute is open, more troubles join it.
 */
async function pastRejectedRollback(
  ctx: AgentContext,
  fingerprint: string,
  key: string,
  brief: string,
): Promise<{ pastMute: boolean; note?: string }> {
  if ((await ctx.muted([fingerprint])).size === 0) return { pastMute: false };
  const latest = (await ctx.latestCards([fingerprint])).get(fingerprint);
  if (!latest) return { pastMute: false };
  if (latest.status === "pending" || latest.status === "snoozed") return { pastMute: true };
  const facts = (latest.evidence as { facts?: Record<string, unknown> } | null)?.facts ?? {};
  const keys = told(facts);
  if (keys.includes(key)) return { pastMute: false };
  const was = keys.map((k) => String(facts[`brief:${k}`] ?? facts[`seen:${k}`])).join(" and ");
  return {
    pastMute: true,
    note: despiteMute(`Its card was rejected for ${was || "what it told"}; ${brief} is new since`),
  };
}

/** Where a rollback card past its mute keeps the sentence that says so (a hidden fact: every recomposition says it). */
const MUTE_NOTE = "brief:mute";
/** …and the one naming the other deploys its trouble could be blamed on. */
const ALSO_NOTE = "brief:also";
/** …and the one naming what reached the repository after the deploy (see laterDeploys). */
const LATER_NOTE = "brief:later";
/** Other deploys a rollback card names at most. */
const ALSO_LISTED = 3;

/**
 * "Also deployed in the half hour before the trouble: push 1234567 to acme/docs at 14:01 UTC." — the other
 * deploys the trouble began after, which a person may know to be the cause; with the way to tell
 * them apart when the source names no repositories. Empty when there were none.
 */
async function alsoDeployed(ctx: AgentContext, deploy: Deploy, t: Trouble): Promise<string> {
  const { deploys, scoped } = await suspects(ctx, t.firstSeen.getTime(), t.sourceId);
  const others = deploys.filter((d) => rollbackFingerprint(d) !== rollbackFingerprint(deploy));
  if (others.length === 0) return "";
  const named = others
    .slice(0, ALSO_LISTED)
    .map((d) => `${d.label.replace(/ ".*"$/, "")} to ${d.repository} at ${hhmm(new Date(d.at), ctx.now)}`);
  const more = others.length > ALSO_LISTED ? ` and ${others.length - ALSO_LISTED} more` : "";
  const elsewhere = others.some((d) => d.repository !== deploy.repository);
  return `Also deployed in the half hour before the trouble: ${named.join(", ")}${more}.${
    !scoped && elsewhere
      ? " A source whose settings name the repositories whose deploys can break it blames only theirs."
      : ""
  }`;
}

/** A rollback card's facts that are of the deploy or of the whole card, not of one trouble. */
const SHARED_FACTS = new Set(["deploy", "minutesAfterDeploy", "alerts"]);

/** Past this length a rollback card's title leaves out the commit's message. */
const SHORT_TITLE = 110;

/** How far before the deploy a rollback card's chart reaches: what was usual, not the whole day. */
const BEFORE_DEPLOY_MS = 2 * 3_600_000;
/** …and at least this many points before it, for a series that reports rarely. */
const BEFORE_DEPLOY_POINTS = 12;

/**
 * A trouble's chart with the deploy's stretch shaded: from the last point before the deploy (the
 * deploy came between it and the next, or during it for a bucket of counts) to the end. The chart
 * starts two hours before the deploy (or three times as long before it as since it), so minutes
 * since a deploy are a stretch one can see, not a hairline at the edge of a day.
 */
function sinceDeploy(chart: SeriesPreview, at: number): SeriesPreview {
  const last = chart.points.length - 1;
  if (last < 0) return chart;
  const first = chart.points.findIndex(([t]) => t >= at);
  // Every point after it: all of it; none (a bucket that began before it): the last point.
  const start = first < 0 ? last : Math.max(0, first - 1);
  const end = (chart.points[last] as [number, number])[0];
  const from = at - Math.max(BEFORE_DEPLOY_MS, 3 * (end - at));
  const reach = chart.points.findIndex(([t]) => t >= from);
  const cut = Math.max(0, Math.min(reach < 0 ? last : reach, start - BEFORE_DEPLOY_POINTS));
  if (cut === 0) return { ...chart, span: [start, last] };
  const since = (chart.points[cut] as [number, number])[0];
  const marks = chart.marks?.filter((i) => i >= cut).map((i) => i - cut);
  const expected = chart.expected?.filter(([i]) => i >= cut).map(([i, v]): [number, number] => [i - cut, v]);
  const others = chart.others?.map((o) => ({ ...o, points: o.points.filter(([t]) => t >= since) }));
  return {
    ...chart,
    points: chart.points.slice(cut),
    ...(marks ? { marks } : {}),
    ...(expected ? { expected } : {}),
    ...(others ? { others } : {}),
    span: [start - cut, last - cut],
  };
}

/**
 * A deploy's label and an error's brief are written to follow other words ("3 min after push
 * a1b2c3d", "… and new TypeError ×6"); starting a title or the summary, they start a sentence.
 * Metric, package and workflow names keep their case.
 */
function startSentence(text: string): string {
  return text.replace(/^(new|fixed|push|release|deploy) /, (w) => w.charAt(0).toUpperCase() + w.slice(1));
}

/**
 * The rollback card's chart: the first trouble's drawn large, each other trouble's small below it
 * (its own units), each kept up to date by its own writes (a chart is known by its label).
 */
function withChart(previous: Preview | null | undefined, chart: SeriesPreview): SeriesPreview {
  if (previous?.type !== "series") return chart;
  // Its own chart again: the newer points, the small charts below kept.
  if (previous.label === chart.label) return previous.charts ? { ...chart, charts: previous.charts } : chart;
  const small = {
    label: chart.label,
    points: chart.points,
    ...(chart.marks ? { marks: chart.marks } : {}),
    ...(chart.expected ? { expected: chart.expected } : {}),
    ...(chart.span ? { span: chart.span } : {}),
    // A trouble on several series of its metric keeps them drawn behind its own, small as well.
    ...(chart.others?.length ? { others: chart.others } : {}),
  };
  const charts = [...(previous.charts ?? []).filter((c) => c.label !== chart.label), small];
  return { ...previous, charts: charts.slice(-4) };
}

/** The rollback card's check: its first trouble began after the deploy, `minutes` after it. */
const started = (minutes: number) => ({
  check: "the trouble started after the deploy, not before",
  status: "passed" as const,
  detail: `${minutes} min after it`,
});

/** How far back a rollback card looks at how rolling back went before. */
const HISTORY_DAYS = 90;
/** A rollback takes this long to roll out: errors until then are not held against it. */
export const ROLLOUT_MS = 10 * 60_000;
/** Errors of a rollback card that come back within this long after it was carried out: it did not stop them. */
export const RECOVERY_MS = 60 * 60_000;

/**
 * What the errors agent keeps of an error group that was on a rollback card: whether it kept
 * coming in the hour after the card was carried out (see `afterRollback` in the errors agent).
 */
export interface AfterRollback {
  title?: string;
  lastSeen: number;
  afterRollback?: { card: string; at: number; events: number };
}

/** Where the metrics agent keeps how a metric's series did in the hour after their rollback. */
export const rolledBackKey = (metric: string) => `after-rollback:${metric}`;

/** What it keeps there (see `judgeRecovery` in the metrics agent): the latest judged rollback card's. */
export interface MetricAfterRollback {
  card: string;
  /** Each series of the metric on that card: whether it came back, and in words where it stayed. */
  series: { series: string; back: boolean; said: string }[];
}

/** The deploys the deploys agent remembers, oldest first. */
async function recentDeploys(ctx: AgentContext): Promise<Deploy[]> {
  return (await ctx.state.peek<Deploy[]>("deploys", RECENT_DEPLOYS_KEY)) ?? [];
}

/** Later deploys a rollback card names at most. */
const LATER_LISTED = 3;

/**
 * "push 9f2c1d0 at 14:20 UTC" — what reached the deploy's repository after it (other commits), which
 * rolling it back may take back too. Empty when nothing did.
 */
function laterDeploys(deploy: Deploy, recent: Deploy[], now: Date): string {
  const seen = new Set([deploy.sha]);
  const later: Deploy[] = [];
  for (const d of recent) {
    if (d.repository !== deploy.repository || d.at <= deploy.at || seen.has(d.sha)) continue;
    seen.add(d.sha);
    later.push(d);
  }
  if (later.length === 0) return "";
  const named = later.slice(-LATER_LISTED).map(
    (d) =>
      `${d.label.replace(/ ".*"$/, "")} at ${hhmm(new Date(d.at), now)}${
        // The commit before it, deployed again: someone may have rolled it back already.
        d.sha === deploy.previous ? " (the commit before it: rolled back already?)" : ""
      }`,
  );
  const more = later.length > LATER_LISTED ? ` and ${later.length - LATER_LISTED} before them` : "";
  return `${named.join(", ")}${more}`;
}

/**
 * Deploys that came after others of their repository whose rollback cards are open: each such card
 * says what reached the repository since (rolling back may take it back too), written again by
 * its own composer — it stays the card of the agent that made it.
 */
async function laterOnOpenCards(ctx: AgentContext, found: Deploy[], recent: Deploy[]): Promise<CardUpsert[]> {
  const earlier = recent.filter((d) =>
    found.some((f) => f.repository === d.repository && f.sha !== d.sha && f.at > d.at),
  );
  if (earlier.length === 0) return [];
  // The latest card of each (its writer too, whose accept rate ranks it), open ones only below.
  const cards = await ctx.latestCards([...new Set(earlier.map(rollbackFingerprint))]);
  const out: CardUpsert[] = [];
  const done = new Set<string>();
  for (const deploy of earlier) {
    const fingerprint = rollbackFingerprint(deploy);
    const card = cards.get(fingerprint);
    if (!card || (card.status !== "pending" && card.status !== "snoozed") || done.has(fingerprint)) continue;
    done.add(fingerprint);
    const evidence = card.evidence as { lastSeen?: string; facts?: Record<string, unknown> } | undefined;
    const lastSeen = new Date(evidence?.lastSeen ?? ctx.now);
    const { compose } = await rollbackComposer(ctx, card.agent, deploy, {
      minutes: Number(evidence?.facts?.minutesAfterDeploy ?? 1),
      chart: undefined,
      severity: 0,
      blastRadius: 0,
      lastSeen,
    });
    const newer = found.filter((f) => f.repository === deploy.repository && f.at > deploy.at);
    out.push({
      fingerprint,
      kind: "action",
      title: "",
      priority: card.priority,
      compose,
      annotate: true,
      evidence: {
        signalIds: newer.map((d) => d.signalId),
        firstSeen: new Date(deploy.at),
        lastSeen,
        facts: { [LATER_NOTE]: laterDeploys(deploy, recent, ctx.now) },
      },
    });
  }
  return out;
}

/** A rollback card that was rejected, failed or withdrawn: no rollback to judge. */
export function rollbackDropped(status: string): boolean {
  return status !== "pending" && status !== "snoozed" && !accepted(status);
}

/**
 * The rollback card's check of whether earlier rollbacks of the repository (carried out, more than
 * an hour ago) ended the trouble their cards told — their errors stopped, their metrics came back:
 * passed when the latest did, failed when it did not, with how many did. Only rollbacks whose
 * outcome is known count: an error seen again later with no record of the hour after it (its
 * record was replaced, or it came before it was kept), or a metric with no judged hour, says
 * nothing either way; one trouble that went on is enough to fail a rollback.
 */
async function stoppedBefore(
  ctx: AgentContext,
  history: PastRollback[],
  repository: string,
): Promise<Verification> {
  const judged: { kept: string | null; kinds: Set<string> }[] = [];
  for (const h of history) {
    if (judged.length >= 10) break;
    const at = h.finishedAt.getTime();
    if (h.state !== "succeeded" || ctx.now.getTime() - at < RECOVERY_MS) continue;
    let kept: string | null = null;
    let known = true;
    const kinds = new Set<string>();
    for (const trouble of told(h.facts)) {
      if (trouble.startsWith("errors:")) {
        const g = await ctx.state.peek<AfterRollback>("errors", trouble.slice("errors:".length));
        const record = g?.afterRollback?.card === h.card ? g.afterRollback : undefined;
        if (record) kept ??= `${clip(g?.title ?? "an error", 80)} kept coming (${record.events} more)`;
        else if (!g || g.lastSeen > at + ROLLOUT_MS) known = false;
        kinds.add("errors");
      } else if (trouble.startsWith("metric:")) {
        const m = await ctx.state.peek<MetricAfterRollback>(
          "metrics",
          rolledBackKey(trouble.slice("metric:".length)),
        );
        const record = m?.card === h.card ? m.series : [];
        const stayed = record.find((r) => !r.back);
        if (stayed) kept ??= clip(stayed.said, 120);
        else if (record.length === 0) known = false;
        kinds.add("metrics");
      }
    }
    if (kinds.size > 0 && (known || kept)) judged.push({ kept, kinds });
  }
  const latest = judged[0];
  if (!latest) return [];
  const ended = judged.filter((j) => !j.kept).length;
  const kinds = new Set(judged.flatMap((j) => [...j.kinds]));
  const what =
    kinds.size > 1
      ? "ended the trouble they were for"
      : kinds.has("errors")
        ? "stopped their errors"
        : "brought their metrics back";
  return [
    {
      check: `earlier rollbacks of ${repository} ${what} within an hour`,
      status: latest.kept ? "failed" : "passed",
      detail: `${ended} of ${judged.length} in the last ${HISTORY_DAYS} days${
        latest.kept ? `; after the latest, ${latest.kept}` : ""
      }`,
    },
  ];
}

/**
 * The rollback card's check of how rolling back `repository` the same way (`executor`) went before:
 * passed when the latest try worked, failed when it did not, with how many worked and the latest
 * failure's error; no check when it was never done here.
 */
function rolledBackBefore(
  history: PastRollback[],
  executor: "github" | "webhook",
  repository: string,
): Verification {
  const same = history.filter((h) => h.executor === executor);
  if (same.length === 0) return [];
  const worked = same.filter((h) => h.state === "succeeded").length;
  const failed = same.find((h) => h.state === "failed");
  return [
    {
      check: `${executor === "github" ? "a revert pull request on" : "the rollback action for"} ${repository} worked before`,
      // The latest try says whether it works now (a hook fixed since its failure works).
      status: same[0]?.state === "succeeded" ? "passed" : "failed",
      detail: `${worked} of ${same.length} in the last ${HISTORY_DAYS} days${
        failed
          ? `; the latest failure: ${clip(failed.error?.replace(/\s+/g, " ") || "no error recorded", 120)}`
          : ""
      }`,
    },
  ];
}

/** The rollback card's fingerprint: one card per deploy, whichever agent saw trouble after it. */
export const rollbackFingerprint = (deploy: Deploy) => `deploy:${deploy.repository}@${deploy.sha}`;

/** The repository and short sha a rollback card's fingerprint names (see rollbackFingerprint). */
export function rolledBackDeploy(fingerprint: string): { repository: string; sha: string } {
  const [repository = "", sha = ""] = fingerprint.slice("deploy:".length).split("@");
  return { repository, sha: sha.slice(0, 7) };
}

/**
 * The correlator: trouble right after a deploy becomes ONE card proposing the rollback, whichever
 * agent saw it first; the others add their evidence to the same card (same fingerprint).
 */
export async function rollbackCard(
  ctx: AgentContext,
  agent: string,
  deploy: Deploy,
  t: Trouble,
): Promise<CardUpsert> {
  const fingerprint = rollbackFingerprint(deploy);
  const minutes = Math.max(1, Math.round((t.firstSeen.getTime() - deploy.at) / 60_000));
  const chart = t.preview?.type === "series" ? sinceDeploy(t.preview, deploy.at) : undefined;
  const { compose, change } = await rollbackComposer(ctx, agent, deploy, {
    minutes,
    chart,
    severity: t.severity,
    blastRadius: t.blastRadius,
    lastSeen: t.lastSeen,
  });
  const open = (await ctx.openCards([fingerprint])).get(fingerprint);
  const priorFacts =
    (open?.evidence as { facts?: Record<string, string | number | boolean> } | undefined)?.facts ?? {};
  const key = t.key ?? t.what;
  // The card tells when its first trouble began, whichever trouble this agent adds.
  const first = Math.min(minutes, Number(priorFacts.minutesAfterDeploy ?? minutes));
  const past = await pastRejectedRollback(ctx, fingerprint, key, t.brief);
  // What this trouble's source could blame besides (the first trouble's word stands when it has one).
  const also = await alsoDeployed(ctx, deploy, t);
  const later = laterDeploys(deploy, await recentDeploys(ctx), ctx.now);
  const facts = {
    ...(past.note ? { [MUTE_NOTE]: past.note } : {}),
    ...(also && !priorFacts[ALSO_NOTE] ? { [ALSO_NOTE]: also } : {}),
    ...(later ? { [LATER_NOTE]: later } : {}),
    deploy: deploy.sha.slice(0, 12),
    // A card written before troubles had keys has one line for the kind: this one replaces it.
    ...(key !== t.what && priorFacts[`seen:${t.what}`] ? { [`seen:${t.what}`]: "" } : {}),
    [`seen:${key}`]: t.line,
    [`brief:${key}`]: t.brief,
    [`since:${key}`]: minutes,
    minutesAfterDeploy: first,
    ...t.facts,
  };
  const text = compose({ ...priorFacts, ...facts }, open?.priorityFactors);
  return {
    fingerprint,
    kind: "action",
    ...text,
    compose,
    change,
    ...(chart ? { preview: chart } : t.preview ? { preview: t.preview } : {}),
    evidence: {
      signalIds: [deploy.signalId, ...t.signalIds],
      firstSeen: new Date(deploy.at),
      lastSeen: t.lastSeen,
      facts,
    },
    verification: text.verification,
    reopen: true,
    ...(past.pastMute ? { pastMute: true } : {}),
  };
}

/**
 * How a deploy's rollback card is written from its facts, whichever agent writes it last (see
 * CardUpsert.compose): its title, summary, checks, chart and rank; with the change it proposes and
 * the checks of how rolling back went before.
 */
async function rollbackComposer(
  ctx: AgentContext,
  agent: string,
  deploy: Deploy,
  t: {
    /** Minutes after the deploy the trouble this write tells began. */
    minutes: number;
    chart: SeriesPreview | undefined;
    severity: number;
    blastRadius: number;
    lastSeen: Date;
  },
) {
  const { minutes, chart } = t;
  // The team's own rollback when an admin set one up; otherwise, for a push, a pull request that
  // reverts the pushed commit (what GitHub alone can do); else the rollback, which will say it
  // is not set up before anyone accepts.
  const revertOn =
    !(await ctx.actionReady("rollback")) && /^[0-9a-f]{40}$/.test(deploy.sha) ? deploy.branch : undefined;
  // A push of several commits is reverted whole: the trouble came with the push, not one commit.
  const earlierInPush = (deploy.commits ?? 1) - 1;
  const since = earlierInPush > 0 && deploy.previous ? deploy.previous : undefined;
  const reverted = since
    ? `the ${deploy.commits} commits of the push (${since.slice(0, 7)}..${deploy.sha.slice(0, 7)})`
    : deploy.sha.slice(0, 7);
  // Asked of GitHub first (reads only): later commits to the same files make reverting the deploy
  // alone a merge Flick will not do blind — then everything since it goes back, up to the tip.
  const reverting = revertOn
    ? await checkedRevert(ctx, deploy.repository, {
        sha: deploy.sha,
        ...(since ? { since } : {}),
        branch: revertOn,
      })
    : null;
  const wide = reverting?.wide ?? null;
  const refused = reverting?.refused ?? null;
  const files = reverting ? laterFiles(reverting) : "";
  const widely = wide
    ? `all ${wide.commits} commits after ${wide.parent.slice(0, 7)} up to ${wide.tip.slice(0, 7)}, the tip of ${revertOn}`
    : "";
  const change: Change = refused
    ? { type: "none" }
    : revertOn
      ? {
          type: "github",
          operation: "revert_commit",
          repository: deploy.repository,
          params: {
            sha: wide ? wide.tip : deploy.sha,
            ...(wide ? { since: wide.parent } : since ? { since } : {}),
            branch: revertOn,
            reason: `Trouble began minutes after ${deploy.label} reached ${revertOn}; Flick found no "rollback" action set up, so it proposes reverting ${wide ? `${widely}: later commits changed ${files} too, so ${reverted} cannot be reverted alone` : since ? reverted : "the commit"}.`,
          },
        }
      : {
          type: "webhook",
          action: "rollback",
          params: { repository: deploy.repository, from: deploy.sha, to: deploy.previous },
        };
  const history = await ctx.rollbacksOf(deploy.repository, HISTORY_DAYS);
  const pastRollbacks = [
    ...rolledBackBefore(history, revertOn ? "github" : "webhook", deploy.repository),
    ...(await stoppedBefore(ctx, history, deploy.repository)),
  ];
  const how = refused
    ? `Flick cannot revert it (no **rollback** action is set up): ${refused}.`
    : wide
      ? `Accept opens a pull request reverting ${widely} — later commits changed ${files} too, so ${reverted} cannot be reverted alone (no **rollback** action is set up).`
      : revertOn
        ? `Accept opens a pull request reverting ${reverted} on ${revertOn} (no **rollback** action is set up).`
        : `Accept runs the **rollback** action${deploy.previous ? ` back to ${deploy.previous.slice(0, 7)}` : ""}.`;
  const acceptRate = await ctx.acceptRate(agent, "deploy");
  const compose = (
    facts: Record<string, string | number | boolean>,
    previous?: Record<string, number>,
    previousPreview?: Preview | null,
  ) => {
    const seen = told(facts).sort();
    const parts = seen.map((k) => String(facts[`seen:${k}`]));
    // When the first trouble began, whichever agent writes last (two in one batch each wrote
    // their own minutes; cards made before troubles kept theirs have only the card's).
    const since = Object.keys(facts)
      .filter((k) => k.startsWith("since:") && facts[k] !== "")
      .map((k) => Number(facts[k]));
    const after = Math.min(...since, Number(facts.minutesAfterDeploy ?? minutes));
    // The title is read on a phone: each trouble in a few words (cards written before briefs
    // existed have only the full line), the commit's message only while the title stays short.
    // The summary says it all.
    const briefs = seen.map((k) => String(facts[`brief:${k}`] ?? facts[`seen:${k}`]));
    // Past two troubles the title names the first two and counts the rest.
    const what =
      briefs.length > 2
        ? `${briefs.slice(0, 2).join(", ")} and ${briefs.length - 2} more`
        : briefs.join(" and ");
    const question = (label: string) => ` ${after} min after ${label} — roll back?`;
    let ask = question(deploy.label);
    if (what.length + ask.length > SHORT_TITLE) ask = question(deploy.label.replace(/ ".*"$/, ""));
    const room = Math.max(40, TITLE_MAX - ask.length);
    // With two troubles or more, one trouble's figures (its value, its events) beside the title
    // would read as the card's: the summary gives each its line, so the card keeps none of them.
    const kept =
      parts.length >= 2
        ? Object.fromEntries(
            Object.entries(facts).filter(([k]) => /^(seen|brief|since):/.test(k) || SHARED_FACTS.has(k)),
          )
        : facts;
    const later = facts[LATER_NOTE] ? String(facts[LATER_NOTE]) : "";
    return {
      facts: { ...kept, minutesAfterDeploy: after },
      verification: [
        started(after),
        ...(later
          ? [
              {
                check: `nothing else reached ${deploy.repository} since`,
                status: "failed" as const,
                detail: later,
              },
            ]
          : []),
        ...pastRollbacks,
        // What GitHub said of the revert (not for a demo card: nothing was asked).
        ...(reverting && !ctx.demo && revertOn ? [revertCheck(reverting, revertOn)] : []),
      ],
      change,
      ...(chart ? { preview: withChart(previousPreview, chart) } : {}),
      title: `${startSentence(clip(what, room))}${ask}`,
      summary: [
        deploy.done
          ? `${startSentence(deploy.label)} ran on ${deploy.repository} from ${hhmmSpan(new Date(deploy.at), new Date(deploy.done), ctx.now)}. Since it began:`
          : `${startSentence(deploy.label)}${earlierInPush > 0 ? ` (with ${plural(earlierInPush, "commit")} before it)` : ""} reached ${deploy.repository} at ${hhmm(new Date(deploy.at), ctx.now)}. Since then:`,
        ...parts.map((p) => `- ${p}`),
        ...(facts[ALSO_NOTE] ? [String(facts[ALSO_NOTE])] : []),
        // Alertmanager's alerts on the metric that broke (see the metrics agent): the same trouble.
        ...(facts.alerts ? [`Alertmanager is firing ${facts.alerts} on it too.`] : []),
        ...(facts[MUTE_NOTE] ? [String(facts[MUTE_NOTE])] : []),
        ...(later
          ? [
              `Deployed to ${deploy.repository} since: ${later}. ${refused ? "" : wide ? `Later commits changed ${files} too: the revert takes them back as well.` : revertOn ? `The revert of ${reverted} goes on top of it.` : `Rolling back${deploy.previous ? ` to ${deploy.previous.slice(0, 7)}` : ""} may take it back too.`}`,
            ]
          : []),
        how,
      ].join("\n"),
      // Ranked from all the card holds, whichever agent writes last: the widest blast any part
      // had, and two kinds of trouble after one deploy is as bad as it gets.
      ...rank({
        severity: parts.length >= 2 ? 1 : Math.max(t.severity, 0.8, previous?.severity ?? 0),
        blastRadius: Math.max(t.blastRadius, previous?.blastRadius ?? 0),
        confidence: Math.min(1, 0.6 + 0.15 * Math.max(1, parts.length)),
        recency: recency(t.lastSeen, ctx.now),
        acceptRate,
      }),
    };
  };
  return { compose, change };
}
