import type { Change, SeriesPreview } from "@flick/shared";
import { z } from "zod";
import {
  type AgentContext,
  accepted,
  type CardUpsert,
  defineAgent,
  outcome,
  type SignalRow,
  TITLE_MAX,
  withdrawal,
} from "../define.ts";
import { blast, rank, recency } from "../rank.ts";
import {
  type AfterRollback,
  deployBefore,
  deployOf,
  RECOVERY_MS,
  ROLLOUT_MS,
  rollbackCard,
  rollbackDropped,
  rolledBackDeploy,
} from "./deploys.ts";
import { type MuteMemory, newsPastMute } from "./past-mute.ts";
import { deploysSetting, repositorySetting } from "./settings.ts";
import { clip, day, hhmm, moment, plural } from "./words.ts";

const BUCKET_MS = 10 * 60_000;
const BASELINE_BUCKETS = 144; // a day of 10-minute buckets
const MAX_USERS = 500;
/** Event ids a group remembers to count an event sent twice once. */
const RECENT_IDS = 100;

interface Frame {
  function?: string | null;
  filename?: string | null;
  module?: string | null;
  lineno?: number | null;
  in_app?: boolean | null;
}

interface ErrorEvent {
  exception?: { values?: { type?: string; value?: string; stacktrace?: { frames?: Frame[] } }[] };
  message?: string | { formatted?: string };
  logentry?: { formatted?: string; message?: string };
  culprit?: string;
  transaction?: string;
  release?: string;
  environment?: string;
  level?: string;
  user?: { id?: string | number; email?: string; ip_address?: string; username?: string };
  /** The event's (or issue's) page in Sentry, when it came through Sentry's integration webhooks. */
  web_url?: string | null;
  event_id?: string;
  /** Users Sentry counted for a new issue, when the "event" is only its announcement. */
  userCount?: number;
  /** Sentry marked the issue regressed (its "issue" webhook; no event of its own). */
  sentryRegressed?: boolean;
  /** Sentry unresolved the issue as escalating (archived until it escalated, and it did). */
  sentryEscalated?: boolean;
}

/** A Sentry integration-platform webhook body ("issue" and "error" resources). */
interface SentryWebhook {
  action?: string;
  data?: {
    error?: ErrorEvent;
    /** An issue alert rule fired ("event_alert"): the event that made it fire, and the rule. */
    event?: ErrorEvent;
    triggered_rule?: string;
    issue?: {
      title?: string;
      culprit?: string;
      level?: string;
      permalink?: string | null;
      userCount?: number | string;
      /** "regressed" when Sentry unresolves an issue because it came back. */
      substatus?: string;
      /** Who the issue is assigned to ("assigned"; null when unassigned). */
      assignedTo?: { type?: string; name?: string; email?: string } | null;
      metadata?: { type?: string; value?: string };
    };
  };
}

/**
 * The Sentry event a signal carries: an SDK's event, the event in an integration's "error" webhook,
 * or — for an integration that sends only "issue" webhooks — the issue's headline when it is new
 * or when Sentry marks it regressed. Null for anything else.
 */
/** A new Sentry issue's "issue created" webhook: it announces an event that may come itself. */
function announcesOnly(s: SignalRow): boolean {
  return s.kind === "sentry.webhook.issue" && (s.payload as SentryWebhook).action === "created";
}

function errorEvent(s: SignalRow): ErrorEvent | null {
  if (s.kind === "sentry.error") return s.payload as ErrorEvent;
  const body = s.payload as SentryWebhook;
  if (s.kind === "sentry.webhook.error") return body.data?.error ?? null;
  if (s.kind === "sentry.webhook.event_alert") return body.data?.event ?? null;
  const issue = body.data?.issue;
  if (s.kind !== "sentry.webhook.issue" || !issue) return null;
  const regressed = body.action === "unresolved" && issue.substatus === "regressed";
  const escalated = body.action === "unresolved" && issue.substatus === "escalating";
  if (body.action !== "created" && !regressed && !escalated) return null;
  const type = issue.metadata?.type;
  return {
    ...(type
      ? { exception: { values: [{ type, value: issue.metadata?.value }] } }
      : { message: issue.title ?? "Unknown error" }),
    culprit: issue.culprit,
    level: issue.level,
    web_url: issue.permalink,
    userCount: Number(issue.userCount) || 0,
    ...(regressed ? { sentryRegressed: true } : {}),
    ...(escalated ? { sentryEscalated: true } : {}),
  };
}

/** A fix Sentry's Seer opened for an error group, as the pull request agent looks it up. */
export interface SeerFix {
  fingerprint: string;
}

/** The errors agent's state key for the Seer fix a pull request is. */
export const seerFixKey = (repository: string, number: number) => `fixpr:${repository}#${number}`;

/** "https://github.com/owner/repo/pull/123" → its repository and number; null for anything else. */
export function pullRequestOf(url: unknown): { repository: string; number: number } | null {
  const m =
    typeof url === "string" ? /^https:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)/.exec(url) : null;
  return m ? { repository: m[1] as string, number: Number(m[2]) } : null;
}

/** Seer's "pr_created" webhook: the pull requests it opened to fix a Sentry issue. */
export function seerPullRequests(s: SignalRow): { repository: string; number: number }[] {
  const body = s.payload as {
    action?: string;
    data?: { pull_requests?: { pull_request?: { pr_url?: string } }[] };
  };
  if (s.kind !== "sentry.webhook.seer" || body.action !== "pr_created") return [];
  return (body.data?.pull_requests ?? [])
    .flatMap((p) => pullRequestOf(p.pull_request?.pr_url) ?? [])
    .slice(0, 10);
}

/**
 * Remembers which pull request Sentry's Seer opened to fix which error group, so that pull request's
 * merge card can say so and stand for the error's card.
 */
function rememberSeerFixes(ctx: AgentContext, batch: SignalRow[]): void {
  for (const s of batch)
    for (const pr of seerPullRequests(s))
      ctx.state.set(seerFixKey(pr.repository, pr.number), { fingerprint: s.fingerprint } satisfies SeerFix);
}

/** How the team triaged a Sentry issue in Sentry (its integration's "issue" webhooks). */
interface Triage {
  /** Archived ("ignored"): its events make no card until Sentry says it escalates or it is unarchived. */
  archived?: boolean;
  /** Who it is assigned to: someone owns it, so it is no "new error" card. */
  assignee?: string | null;
}

const triageKey = (fingerprint: string) => `triage:${fingerprint}`;

/**
 * Reads Sentry's triage webhooks (archived, assigned, unresolved, resolved) into each issue's
 * triage state. Archiving or assigning takes a pending card back (the team has decided, or someone
 * owns it). Returns the issues unarchived as escalating.
 */
async function triage(ctx: AgentContext, batch: SignalRow[], out: CardUpsert[]): Promise<Set<string>> {
  const escalated = new Set<string>();
  for (const s of batch) {
    if (s.kind !== "sentry.webhook.issue") continue;
    const body = s.payload as SentryWebhook;
    if (!["archived", "assigned", "unresolved", "resolved"].includes(body.action ?? "")) continue;
    const key = triageKey(s.fingerprint);
    const t: Triage = { ...(await ctx.state.get<Triage>(key)) };
    if (body.action === "archived") t.archived = true;
    else if (body.action === "assigned") {
      const to = body.data?.issue?.assignedTo;
      t.assignee = to ? (to.name ?? to.email ?? "someone").slice(0, 100) : null;
    } else {
      if (t.archived && body.action === "unresolved" && body.data?.issue?.substatus === "escalating")
        escalated.add(s.fingerprint);
      t.archived = false;
    }
    ctx.state.set(key, t);
    if (body.action === "archived" || (body.action === "assigned" && t.assignee))
      out.push(withdrawal(s.fingerprint, s));
  }
  return escalated;
}

export interface GroupState {
  /** The error's title, as its card says it (absent in states stored before it was kept). */
  title?: string;
  /**
   * The rollback card its first events went to (new right after a deploy): later events with no
   * news of their own keep that card's count and users up to date while it is open.
   */
  deployCard?: string;
  /** The words around the title in the headline of its latest card with news ["New error: ", ""]. */
  headline?: [string, string];
  /** The source of its latest event (absent in states stored before it was kept). */
  sourceId?: string;
  /** It kept coming after its rollback card was carried out (see afterRollback). */
  afterRollback?: AfterRollback["afterRollback"];
  /** The rollback card whose outcome is settled (its hour over, or it was never carried out). */
  rollbackSettled?: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
  users: string[];
  /** Users beyond MAX_USERS are counted, not listed. */
  moreUsers: number;
  releases: string[];
  /** Events per 10-minute bucket, newest last: [bucketStart, count]. */
  buckets: [number, number][];
  lastSpikeBucket: number | null;
  /** Events per 10 minutes usual before its latest spike (absent in states stored before it was kept). */
  spikeBaseline?: number;
  /** Its open "Spiking" card says the spike is over, since then (ms; see spikeOverSince). */
  spikeOver?: number;
  /** The regression its latest card told (what fixed it then, where it came back), for its later events. */
  regressionTold?: Regression;
  /**
   * When the group counts as fixed, and the releases seen until then: an event from any later
   * release is a regression. Fixed means the issue its card opened was closed as done or, when the
   * card proposed no issue, that the card was accepted.
   */
  fixedAt: number | null;
  fixedReleases: string[];
  /** The closed issue that fixed it (absent in older states, and when accepting fixed it). */
  fixedBy?: IssueRef | null;
  /** Sentry said it was resolved (an integration's "issue" webhook). */
  resolvedInSentry?: boolean;
  /** The bucket of the one event known only from a new Sentry issue's announcement, until it comes. */
  announced?: number;
  /** The users that announcement counted (Sentry's number; who they are comes with the events). */
  announcedUsers?: number;
  /** Ids of the latest events, so one sent twice (an "error" webhook and an alert rule's) counts once. */
  recentIds?: string[];
  /** The Sentry alert rules that fired for it. */
  alertRules?: string[];
  /** The group's latest card proposed an issue: its closing, not the accept, is the fix. */
  issueProposed?: boolean;
  /** What Sentry's Seer found caused it (its "root_cause_completed" webhook). */
  rootCause?: RootCause;
  /** The latest comment on its issue in Sentry (its "comment" webhooks). */
  comment?: SentryComment | null;
  /** The latest event as its card tells of it, so the card can be written again without one. */
  latest?: Described;
  /** What its latest card was news of (while muted: the rejected card), and why a card came past the mute. */
  mute?: MuteMemory<CardNews>;
}

/** What a group's card is news of; a spike with its count in 10 minutes. */
interface CardNews {
  kind: "new" | "regression" | "spike" | "escalation" | "outlived";
  spike?: number;
}

/**
 * News past a rejected card of the group: of another kind (a spike after "new error", a
 * regression), or a spike at least twice the one rejected — not the same proposal again.
 */
function pastRejectedNews(now: CardNews, rejected: CardNews): string | null {
  if (now.kind === rejected.kind && (now.spike ?? 0) < 2 * (rejected.spike ?? Number.POSITIVE_INFINITY))
    return null;
  const was = {
    new: "a new error",
    regression: "a regression",
    spike: `a spike of ${rejected.spike} in 10 min`,
    escalation: "escalating",
    outlived: "not stopped by a rollback",
  }[rejected.kind];
  const is = {
    new: "it is new",
    regression: "it came back after its fix",
    spike: `it spikes, ${now.spike} in 10 min`,
    escalation: "Sentry says it escalated",
    outlived: "a rollback did not stop it",
  }[now.kind];
  return `Its card was rejected as ${was}; now ${is}`;
}

/** An event and what its card says of it (see describeError). */
interface Described {
  e: Pick<ErrorEvent, "level" | "release" | "environment" | "web_url">;
  d: ReturnType<typeof describeError>;
}

/** Seer's root cause analysis of a Sentry issue, as the card and the proposed issue tell it. */
export interface RootCause {
  description: string;
  /** The step Seer marked as the most important, with the code it points at. */
  key: { title: string; file: string | null } | null;
  /** Every step, in order, for the issue's body. */
  steps: string[];
}

/**
 * "3 users", or, when the events carried no user at all (an SDK not told who the user is), that no
 * user is known rather than "0 users" — which reads as "nobody was hurt".
 */
function reach(users: number, preposition?: string): string {
  if (users > 0) return preposition ? `${preposition} ${plural(users, "user")}` : plural(users, "user");
  return preposition ? "(no user identified)" : "no user identified";
}

/** A comment on a Sentry issue. */
interface SentryComment {
  id: string;
  by: string;
  text: string;
}

/** The batch's signals that tell of Sentry issues besides their events (Seer's root cause, comments). */
function toldOf(batch: SignalRow[]): Map<string, SignalRow[]> {
  const told = new Map<string, SignalRow[]>();
  for (const s of batch)
    if (seerRootCause(s) || sentryComment(s))
      told.set(s.fingerprint, [...(told.get(s.fingerprint) ?? []), s]);
  return told;
}

/** What Sentry told of an issue besides its events. */
type Told = Pick<GroupState, "rootCause" | "comment">;

/**
 * What Sentry told of an issue Flick has not seen an event of yet (Seer analysed an issue older
 * than the integration, say): kept until its first event makes the group, whose card then tells it.
 */
const toldEarlyKey = (fingerprint: string) => `told-early:${fingerprint}`;

/** The group as those signals leave it, in order: the latest root cause, the latest comment. */
function withTold<T extends Told>(g: T, signals: SignalRow[]): T {
  let next = g;
  for (const s of signals) {
    const cause = seerRootCause(s);
    const comment = sentryComment(s);
    if (cause) next = { ...next, rootCause: cause };
    if (comment?.deleted) next = { ...next, comment: next.comment?.id === comment.id ? null : next.comment };
    else if (comment) next = { ...next, comment: { id: comment.id, by: comment.by, text: comment.text } };
  }
  return next;
}

/** Sentry's "comment" webhook (created, updated, deleted): who said what on an issue. */
function sentryComment(s: SignalRow): (SentryComment & { deleted: boolean }) | null {
  const body = s.payload as {
    action?: string;
    data?: { comment?: unknown; comment_id?: unknown };
    actor?: { name?: unknown; type?: unknown };
  };
  if (s.kind !== "sentry.webhook.comment" || !["created", "updated", "deleted"].includes(body.action ?? ""))
    return null;
  const text = typeof body.data?.comment === "string" ? body.data.comment.replace(/\s+/g, " ").trim() : "";
  if (!text && body.action !== "deleted") return null;
  return {
    id: String(body.data?.comment_id ?? ""),
    by: typeof body.actor?.name === "string" && body.actor.name ? body.actor.name.slice(0, 80) : "Someone",
    text: text.slice(0, 500),
    deleted: body.action === "deleted",
  };
}

/** "Seer's root cause: … Key step: … (src/app/page.ts in owner/repo)." for the card's summary. */
function rootCauseLine(c: RootCause): string {
  const sentence = (t: string) => (/[.!?]$/.test(t) ? t : `${t}.`);
  const key = c.key
    ? `Key step: ${c.key.title.replace(/[.!?]+$/, "")}${c.key.file ? ` (${c.key.file})` : ""}.`
    : "";
  return [
    c.description
      ? `Seer's root cause: ${sentence(clip(c.description, 240))}`
      : "Seer traced its root cause.",
    key,
  ]
    .filter(Boolean)
    .join(" ");
}

/** The root cause as a section of the issue the card proposes: Seer's words and its steps. */
function rootCauseSection(c: RootCause): string {
  const steps = c.steps.map(
    (s, i) => `${i + 1}. ${s === c.key?.title ? `**${s}**${c.key.file ? ` — ${c.key.file}` : ""}` : s}`,
  );
  return ["## Root cause (Sentry's Seer)", c.description, steps.join("\n")].filter(Boolean).join("\n\n");
}

/** Seer's "root_cause_completed" webhook: its analysis (null for anything else, or an empty one). */
export function seerRootCause(s: SignalRow): RootCause | null {
  const body = s.payload as {
    action?: string;
    data?: {
      root_cause?: {
        description?: unknown;
        steps?: {
          title?: unknown;
          is_most_important_event?: unknown;
          relevant_code_file?: { file_path?: unknown; repo_name?: unknown };
        }[];
      };
    };
  };
  if (s.kind !== "sentry.webhook.seer" || body.action !== "root_cause_completed") return null;
  const cause = body.data?.root_cause;
  const text = (x: unknown) => (typeof x === "string" ? x.trim() : "");
  const steps = (Array.isArray(cause?.steps) ? cause.steps : []).slice(0, 20);
  const description = text(cause?.description);
  if (!description && steps.length === 0) return null;
  const key = steps.find((st) => st?.is_most_important_event === true);
  // Seer writes "N/A" where a step has no code (a person's action).
  const known = (x: unknown) => (text(x) && text(x) !== "N/A" ? text(x) : null);
  const file = known(key?.relevant_code_file?.file_path);
  const repo = known(key?.relevant_code_file?.repo_name);
  return {
    description: description.slice(0, 2000),
    key:
      key && text(key.title)
        ? { title: text(key.title).slice(0, 300), file: file ? `${file}${repo ? ` in ${repo}` : ""}` : null }
        : null,
    steps: steps
      .map((st) => text(st?.title))
      .filter(Boolean)
      .map((t) => t.slice(0, 300)),
  };
}

interface IssueRef {
  repository: string;
  number: number;
}

/** The line every issue an error card opens ends with, so the issue's closing finds its group. */
export const groupLine = (fingerprint: string) => `Flick error group: \`${fingerprint}\``;
const GROUP_LINE = /Flick error group: `(sentry:[a-z_]+:[\w.-]{1,64})`/g;

interface IssueEvent {
  action: string;
  repository: { full_name: string };
  issue: { number: number; body?: string | null; state_reason?: string | null; closed_at?: string | null };
}

interface Verdict {
  /** When it was fixed; null: the fix did not hold (the issue was reopened). */
  fixedAt: number | null;
  /** The GitHub issue whose closing fixed it; null when Sentry resolved it. */
  by: IssueRef | null;
  signal: SignalRow;
}

/**
 * What issue events say of error groups: an issue an error card opened was closed as completed on
 * GitHub (the fix is in) or reopened (it was not), or Sentry resolved its issue. Closed as "not
 * planned" fixes nothing. (Sentry's "unresolved" is left to the events: one in a new release is the
 * regression.)
 */
function issueVerdicts(signals: SignalRow[]): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  for (const s of [...signals].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime())) {
    if (s.kind === "sentry.webhook.issue") {
      if ((s.payload as SentryWebhook).action === "resolved")
        out.set(s.fingerprint, { fixedAt: s.occurredAt.getTime(), by: null, signal: s });
      continue;
    }
    if (s.kind !== "github.issues") continue;
    const e = s.payload as IssueEvent;
    const closed = e.action === "closed" && e.issue.state_reason !== "not_planned";
    if (!closed && e.action !== "reopened") continue;
    const by = { repository: e.repository.full_name, number: e.issue.number };
    const at = Date.parse(e.issue.closed_at ?? "") || s.occurredAt.getTime();
    for (const m of (e.issue.body ?? "").matchAll(GROUP_LINE))
      out.set(m[1] as string, { fixedAt: closed ? at : null, by, signal: s });
  }
  return out;
}

/**
 * An error in a few words: its type when the title starts with one ("TypeError: …" → "TypeError"),
 * else "error" and the title cut short, quoted.
 */
function errorName(title: string): string {
  const type = /^([\w.$]{2,40}):/.exec(title)?.[1];
  return type ?? `error "${clip(title, 30)}"`;
}

/** Error-group source settings: where issues are opened. */
export const errorSourceSettings = z
  .object({ repository: repositorySetting, deploys: deploysSetting })
  .passthrough();

export function describeError(event: ErrorEvent): { title: string; topFrame: string | null; stack: string } {
  // Older SDKs send the interfaces under their long names.
  const legacy = event as ErrorEvent & {
    "sentry.interfaces.Exception"?: ErrorEvent["exception"];
    "sentry.interfaces.Message"?: { message?: string; formatted?: string };
  };
  const e: ErrorEvent = {
    ...event,
    exception: event.exception ?? legacy["sentry.interfaces.Exception"],
    logentry: event.logentry ?? legacy["sentry.interfaces.Message"],
  };
  const ex = e.exception?.values?.[e.exception.values.length - 1];
  const message =
    (ex ? `${ex.type ?? "Error"}${ex.value ? `: ${ex.value}` : ""}` : undefined) ??
    e.logentry?.formatted ??
    e.logentry?.message ??
    (typeof e.message === "string" ? e.message : e.message?.formatted) ??
    e.culprit ??
    "Unknown error";
  const frames = ex?.stacktrace?.frames ?? [];
  const inApp = frames.filter((f) => f.in_app);
  const top = (inApp.length ? inApp : frames)[(inApp.length ? inApp : frames).length - 1];
  // "handler (app/views.py:42)"; an anonymous frame is just its place: "/runner:3".
  const where = (f: Frame) => {
    const place = `${f.filename ?? f.module ?? "?"}${f.lineno ? `:${f.lineno}` : ""}`;
    return f.function ? `${f.function} (${place})` : place;
  };
  const stack = [
    message,
    ...[...frames]
      .reverse()
      .slice(0, 25)
      .map((f) => `  at ${where(f)}`),
  ].join("\n");
  return {
    title: message.split("\n")[0]?.slice(0, 160) ?? message,
    topFrame: top ? where(top) : null,
    stack,
  };
}

function userKey(e: ErrorEvent): string | null {
  const u = e.user;
  if (!u) return null;
  return String(u.id ?? u.email ?? u.username ?? u.ip_address ?? "") || null;
}

/** Buckets the card's chart shows: the last six hours. */
const CHART_BUCKETS = 36;

/**
 * Events per 10 minutes over the last six hours of the group, empty buckets drawn as 0 — the
 * stored buckets hold only those with events, and a line between them would hide the gaps (a
 * new group then reads as a flat zero line that jumps at the end).
 */
function bucketChart(
  buckets: [number, number][],
  spikeBucket: number | null,
  /** Drawn up to this time's bucket (empty ones at 0) when it is later than the last event's. */
  until = 0,
): SeriesPreview {
  const counts = new Map(buckets);
  const end = Math.max(buckets[buckets.length - 1]?.[0] ?? 0, Math.floor(until / BUCKET_MS) * BUCKET_MS);
  const points: [number, number][] = [];
  for (let k = CHART_BUCKETS - 1; k >= 0; k--) {
    const b = end - k * BUCKET_MS;
    points.push([b, counts.get(b) ?? 0]);
  }
  const mark = spikeBucket === null ? -1 : points.findIndex(([b]) => b === spikeBucket);
  return { type: "series", label: "events / 10 min", points, ...(mark >= 0 ? { marks: [mark] } : {}) };
}

/** How long a spike's group must stay near its usual rate before its card says the spike is over. */
const SPIKE_OVER_MS = 30 * 60_000;

/**
 * When the group's latest spike ended (ms), once it has been over for SPIKE_OVER_MS by `now`: the
 * end of the last 10-minute bucket since the spike with more than twice the usual events (2 at
 * least); undefined while it goes on.
 */
function spikeOverSince(
  g: Pick<GroupState, "buckets" | "lastSpikeBucket" | "spikeBaseline" | "lastSeen">,
  now: number,
): number | undefined {
  if (g.lastSpikeBucket === null) return;
  const calm = Math.max(2, 2 * (g.spikeBaseline ?? 0));
  let busy = g.lastSpikeBucket;
  for (const [b, n] of g.buckets) if (b > busy && n > calm) busy = b;
  const since = busy + BUCKET_MS;
  return Math.max(now, g.lastSeen) >= since + SPIKE_OVER_MS ? since : undefined;
}

/**
 * Error groups: events are grouped by a stable fingerprint at ingest (exception type + normalized
 * in-app frames, or the SDK's own fingerprint; Sentry's own issue when they come through its
 * integration's webhooks — "issue" alone announces each new issue, "error" sends every event).
 * A card opens for a new group, a regression (seen again in a new release after its fix: resolved
 * in Sentry, the issue its card opened closed as completed on GitHub, or, when the card proposed no
 * issue, its accept) or a spike (a 10-minute bucket ≥ 5× the day's baseline and ≥ 10 events).
 * Right after a deploy, the card is the deploy's rollback card.
 */
export const errorsAgent = defineAgent({
  name: "errors",
  reads: [
    // Deploys: one read late takes over the new errors that began after it (see joinLateDeploy).
    "github.push",
    "github.release",
    "github.workflow_run",
    "github.deployment_status",
    "sentry.error",
    "sentry.webhook.error",
    "sentry.webhook.event_alert",
    "sentry.webhook.issue",
    "sentry.webhook.seer",
    "sentry.webhook.comment",
    "github.issues",
  ],
  async run(ctx, batch) {
    const groups = new Map<string, SignalRow[]>();
    for (const s of batch) {
      if (errorEvent(s)) groups.set(s.fingerprint, [...(groups.get(s.fingerprint) ?? []), s]);
    }
    const verdicts = issueVerdicts(batch);
    const told = toldOf(batch);
    const touched = [...new Set([...groups.keys(), ...told.keys()])];
    await ctx.state.load([
      ...touched,
      ...verdicts.keys(),
      ...touched.map(triageKey),
      ...touched.map(toldEarlyKey),
    ]);
    const out: CardUpsert[] = [];
    const stored = (await ctx.state.get<Awaiting[]>(AWAITING_KEY)) ?? [];
    const awaiting = [...stored];
    const watchedBefore = (await ctx.state.get<Watched[]>(WATCH_KEY)) ?? [];
    const watched = [...watchedBefore];
    const spikingBefore = (await ctx.state.get<Spiking[]>(SPIKING_KEY)) ?? [];
    let spiking = spikingBefore;
    const escalated = await triage(ctx, batch, out);
    rememberSeerFixes(ctx, batch);
    await applyVerdicts(ctx, verdicts, groups, out);
    const latest = await ctx.latestCards(touched);
    for (const [fingerprint, all] of groups) {
      all.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
      const stored = await ctx.state.get<GroupState>(fingerprint);
      // A new Sentry issue announces its first event; when that event itself arrives (an "error"
      // webhook) or the group is known already, the announcement is not one more event.
      const signals =
        stored || all.some((s) => !announcesOnly(s)) ? all.filter((s) => !announcesOnly(s)) : all;
      if (signals.length === 0) continue;
      const isNew = !stored;
      const g: GroupState = stored ?? {
        firstSeen: (signals[0] as SignalRow).occurredAt.getTime(),
        lastSeen: 0,
        count: 0,
        users: [],
        moreUsers: 0,
        releases: [],
        buckets: [],
        lastSpikeBucket: null,
        fixedAt: null,
        fixedReleases: [],
      };
      const card = latest.get(fingerprint);
      if (card && accepted(card.status) && g.fixedAt === null && !g.issueProposed) {
        g.fixedAt = card.updatedAt.getTime();
        g.fixedReleases = [...g.releases];
      }
      const news = count(g, signals, isNew, escalated.has(fingerprint));
      // The latest event, described once: for the card and for the title other agents read.
      const event = errorEvent(signals[signals.length - 1] as SignalRow) as ErrorEvent;
      const described = { e: event, d: describeError(event) };
      g.title = described.d.title.slice(0, 200);
      const early = isNew ? await ctx.state.get<Told>(toldEarlyKey(fingerprint)) : undefined;
      if (early && Object.keys(early).length > 0) {
        Object.assign(g, early);
        // Told now; the group keeps it from here.
        ctx.state.set(toldEarlyKey(fingerprint), {});
      }
      Object.assign(g, withTold(g, told.get(fingerprint) ?? []));
      const { level, release, environment, web_url } = event;
      g.latest = { e: { level, release, environment, web_url }, d: described.d };
      g.sourceId = (signals[signals.length - 1] as SignalRow).sourceId;
      const outlived = await afterRollback(ctx, g, signals, out);
      if (outlived) news.outlived = outlived;
      ctx.state.set(fingerprint, g);

      const triaged = await ctx.state.get<Triage>(triageKey(fingerprint));
      // Archived in Sentry: counted, quiet. Assigned: someone owns it, so it is not news that it
      // exists — only that it spikes or comes back.
      if (triaged?.archived && news.escalation === null) continue;
      if (triaged?.assignee && isNew && !news.regression && !news.spike) continue;
      const openCard = card && ["pending", "snoozed"].includes(card.status);
      const quiet = !isNew && !news.regression && !news.spike && news.escalation === null && !outlived;
      // More events of an error that is on a deploy's rollback card: that card tells them (×7, not
      // the ×1 it was opened with), as long as it waits for a decision.
      const onDeploy = quiet && g.deployCard !== undefined && (await ctx.openCards([g.deployCard])).size > 0;
      // The deploy before it became known only after its card opened (the deploy's webhook came
      // late, or was read after the first events): the error that started minutes after it joins
      // its rollback card now, as it would have then, and its own card leaves the feed.
      const late =
        quiet &&
        g.deployCard === undefined &&
        card?.status === "pending" &&
        g.headline?.[0] === "New error: " &&
        (await deployBefore(ctx, new Date(g.firstSeen), g.sourceId)) !== null;
      if (quiet && !openCard && !onDeploy) continue;
      const upsert = await groupCard(
        ctx,
        fingerprint,
        g,
        writtenFrom(signals),
        isNew || onDeploy || late,
        news,
        triaged?.assignee ?? null,
        described,
      );
      if (upsert.fingerprint.startsWith("deploy:") && g.deployCard !== upsert.fingerprint) {
        g.deployCard = upsert.fingerprint;
        watched.push({ f: fingerprint, card: upsert.fingerprint, since: ctx.now.getTime() });
        ctx.state.set(fingerprint, g);
        if (late) out.push(withdrawal(fingerprint, signals[signals.length - 1] as SignalRow));
      }
      if (isNew && upsert.fingerprint === fingerprint) awaiting.push({ f: fingerprint, at: g.firstSeen });
      if (news.spike && upsert.fingerprint === fingerprint) {
        spiking = [
          ...spiking.filter((x) => x.f !== fingerprint),
          { f: fingerprint, since: ctx.now.getTime() },
        ];
      }
      out.push(upsert);
    }
    // Seer's root cause or a comment for an error whose card is open, with no event of its own: the
    // card (and the issue it proposes) tells it.
    for (const [fingerprint, signals] of told) {
      const stored = await ctx.state.get<GroupState>(fingerprint);
      if (groups.has(fingerprint)) continue;
      // An issue Flick has not heard of: what was said waits for its first event.
      if (!stored) {
        const early = (await ctx.state.get<Told>(toldEarlyKey(fingerprint))) ?? {};
        ctx.state.set(toldEarlyKey(fingerprint), withTold(early, signals));
        continue;
      }
      const g = withTold(stored, signals);
      const signal = signals[signals.length - 1] as SignalRow;
      ctx.state.set(fingerprint, g);
      const card = latest.get(fingerprint);
      if (!g.latest || !card || !["pending", "snoozed"].includes(card.status)) continue;
      const triaged = await ctx.state.get<Triage>(triageKey(fingerprint));
      const quiet: News = { regression: null, spike: null, escalation: null };
      out.push(
        await groupCard(
          ctx,
          fingerprint,
          g,
          writtenFrom([signal]),
          false,
          quiet,
          triaged?.assignee ?? null,
          g.latest,
        ),
      );
    }
    // A deploy read after the first events of an error that began after it: the error joins its
    // rollback card now, not at its next event — which may never come.
    const deploy = batch.findLast((s) => deployOf(s) !== null);
    const left = deploy
      ? await joinLateDeploy(ctx, deploy, new Set(groups.keys()), awaiting, watched, out)
      : awaiting;
    const kept = left.filter((a) => a.at >= ctx.now.getTime() - AWAIT_MS).slice(-AWAIT_MAX);
    if (kept.length !== stored.length || kept.some((a, i) => a.f !== stored[i]?.f))
      ctx.state.set(AWAITING_KEY, kept);
    await keepWatching(ctx, watchedBefore, watched, batch[batch.length - 1] as SignalRow, out);
    if (spiking !== spikingBefore) ctx.state.set(SPIKING_KEY, spiking.slice(-SPIKING_MAX));
    return out;
  },
  // An error its rollback stopped sends nothing more: the hour's end is told by the clock, as is
  // the end of a spike that stopped.
  async tick(ctx) {
    const out: CardUpsert[] = [];
    const watched = (await ctx.state.get<Watched[]>(WATCH_KEY)) ?? [];
    await keepWatching(ctx, watched, [...watched], ctx.now, out);
    await spikesOver(ctx, out);
    return out;
  },
});

/**
 * An error whose rollback card was carried out, seen again in the hour after (once the rollback had
 * time to roll out): the rollback did not stop it. Kept on the group for the next rollback card of
 * the repository to say (see stoppedBefore).
 */
async function afterRollback(
  ctx: AgentContext,
  g: GroupState,
  signals: SignalRow[],
  out: CardUpsert[],
): Promise<string | undefined> {
  if (!g.deployCard || g.rollbackSettled === g.deployCard) return;
  const card = (await ctx.latestCards([g.deployCard])).get(g.deployCard);
  if (card && rollbackDropped(card.status)) {
    // Rejected, failed, withdrawn: no rollback to judge; its card is not asked again.
    g.rollbackSettled = g.deployCard;
    return;
  }
  if (card?.status !== "applied") return;
  const at = card.updatedAt.getTime();
  // Its hour is over: later events say nothing of it, and its card is not asked again.
  if (signals.every((s) => s.occurredAt.getTime() > at + RECOVERY_MS)) g.rollbackSettled = g.deployCard;
  const inHour = signals.filter((s) => {
    const t = s.occurredAt.getTime();
    return t > at + ROLLOUT_MS && t <= at + RECOVERY_MS;
  });
  const last = inHour[inHour.length - 1];
  if (!last) return;
  const before =
    g.afterRollback?.card === g.deployCard && g.afterRollback.at === at ? g.afterRollback.events : 0;
  g.afterRollback = { card: g.deployCard, at, events: before + inHour.length };
  // Told once, at the first of them (a noisy error would otherwise rewrite the carried-out card at
  // every batch for an hour): the card that was carried out says it did not help, and the error's
  // own card is news again (see groupCard).
  if (before > 0) return;
  const first = inHour[0] as SignalRow;
  out.push(
    outcome(g.deployCard, last, {
      check: stoppedCheck(g),
      status: "failed",
      detail: `it came again ${Math.round((first.occurredAt.getTime() - at) / 60_000)} min after it, at ${hhmm(first.occurredAt, ctx.now)}`,
    }),
  );
  return g.deployCard;
}

/** How the card of an error that its rollback did not stop begins (see groupCard). */
const NOT_STOPPED = "Not stopped by the rollback: ";

/** The check a carried-out rollback card gets for each of its errors (see afterRollback, settleWatched). */
const stoppedCheck = (g: GroupState) => `after the rollback, ${clip(g.title ?? "the error", 80)} stopped`;

/** An error on a rollback card, watched until the hour after the card was carried out is over. */
interface Watched {
  f: string;
  /** The rollback card's fingerprint. */
  card: string;
  /** When it went on the card (ms): one never decided is not watched for ever. */
  since: number;
}

/** Where the errors agent lists them. */
const WATCH_KEY = "rollback-watch";
/** The most it watches (the newest kept). */
const WATCH_MAX = 200;
/** A rollback card not carried out within this long is no longer watched. */
const WATCH_MS = 7 * 86_400_000;

/**
 * Errors on rollback cards whose hour after being carried out is over, with no event in it: the
 * card says the error stopped (one that kept coming said so when it came, see afterRollback). Read
 * at every batch of the agent and at every tick, so the word comes within a tick of the hour's end
 * (or with an earlier signal). Returns the errors still watched.
 */
async function settleWatched(
  ctx: AgentContext,
  watched: Watched[],
  told: SignalRow | Date,
  out: CardUpsert[],
): Promise<Watched[]> {
  if (watched.length === 0) return watched;
  const cards = await ctx.latestCards([...new Set(watched.map((w) => w.card))]);
  const left: Watched[] = [];
  for (const w of watched) {
    const card = cards.get(w.card);
    if (card && rollbackDropped(card.status)) continue;
    // Not written yet (this batch makes it), waiting for a decision, or in its hour.
    if (card?.status !== "applied" || ctx.now.getTime() <= card.updatedAt.getTime() + RECOVERY_MS) {
      if (card?.status === "applied" || ctx.now.getTime() - w.since < WATCH_MS) left.push(w);
      continue;
    }
    const g = await ctx.state.get<GroupState>(w.f);
    // On another card since, or it kept coming (said when it came).
    if (!g || g.deployCard !== w.card || g.afterRollback?.card === w.card) continue;
    out.push(
      outcome(w.card, told, {
        check: stoppedCheck(g),
        status: "passed",
        detail: "no event in the hour after it (from 10 min on, the rollout's time)",
      }),
    );
  }
  return left;
}

/** Settles `watched` (the list as this run left it) and stores what is left when it changed. */
async function keepWatching(
  ctx: AgentContext,
  before: Watched[],
  watched: Watched[],
  told: SignalRow | Date,
  out: CardUpsert[],
): Promise<void> {
  const still = (await settleWatched(ctx, watched, told, out)).slice(-WATCH_MAX);
  if (still.length !== before.length || still.some((w, i) => w !== before[i]))
    ctx.state.set(WATCH_KEY, still);
}

/** A group whose own card tells a spike, until the card says the spike is over (see spikesOver). */
interface Spiking {
  f: string;
  /** When its card told the spike (ms). */
  since: number;
}
/** Where the errors agent lists them. */
const SPIKING_KEY = "spiking";
/** The most it lists (the newest kept). */
const SPIKING_MAX = 200;
/** A spike's card is looked at by the clock for this long at most. */
const SPIKING_MS = 86_400_000;

/**
 * Groups whose open card tells a spike that is over (see spikeOverSince) with no event since to
 * say so: their cards say it now, by the clock. The rest stay listed while their card is open.
 */
async function spikesOver(ctx: AgentContext, out: CardUpsert[]): Promise<void> {
  const list = (await ctx.state.get<Spiking[]>(SPIKING_KEY)) ?? [];
  if (list.length === 0) return;
  const now = ctx.now.getTime();
  await ctx.state.load(list.flatMap((s) => [s.f, triageKey(s.f)]));
  const cards = await ctx.latestCards(list.map((s) => s.f));
  const left: Spiking[] = [];
  for (const s of list) {
    const g = await ctx.state.get<GroupState>(s.f);
    const card = cards.get(s.f);
    const open = card?.status === "pending" || card?.status === "snoozed";
    if (!g?.latest || !open || g.headline?.[0] !== "Spiking: " || g.spikeOver !== undefined) continue;
    if (spikeOverSince(g, now) === undefined) {
      if (now - s.since < SPIKING_MS) left.push(s);
      continue;
    }
    const triaged = await ctx.state.get<Triage>(triageKey(s.f));
    const quiet: News = { regression: null, spike: null, escalation: null };
    out.push(
      await groupCard(
        ctx,
        s.f,
        g,
        { signalIds: [], sourceId: g.sourceId },
        false,
        quiet,
        triaged?.assignee ?? null,
        g.latest,
      ),
    );
  }
  if (left.length !== list.length) ctx.state.set(SPIKING_KEY, left);
}

/** A new error with a card of its own, which a deploy known only later may take over. */
interface Awaiting {
  f: string;
  /** When the group's first event came. */
  at: number;
}

/** Where the errors agent lists them. */
const AWAITING_KEY = "awaiting-deploy";
/** How long a new error waits for a deploy read late to take it over. */
const AWAIT_MS = 6 * 3_600_000;
/** The most it lists (the newest kept). */
const AWAIT_MAX = 200;

/**
 * The errors of `awaiting` whose first event came in the blame window of a deploy known only now
 * (this batch's `deploy` signal, read after them) move to its rollback card, and their own cards
 * leave the feed — as they would have gone there had the deploy been read first. Only a card still
 * waiting for a decision moves. Returns the errors still waiting (decided ones are forgotten).
 */
async function joinLateDeploy(
  ctx: AgentContext,
  deploy: SignalRow,
  /** The groups this batch wrote already (their events found the deploy themselves). */
  written: Set<string>,
  awaiting: Awaiting[],
  /** The errors on rollback cards: these join it. */
  watched: Watched[],
  out: CardUpsert[],
): Promise<Awaiting[]> {
  const latest = await ctx.latestCards(awaiting.map((a) => a.f));
  const left: Awaiting[] = [];
  for (const a of awaiting) {
    const card = latest.get(a.f);
    if (card?.status === "snoozed" || written.has(a.f)) left.push(a);
    if (card?.status !== "pending" || written.has(a.f)) continue;
    const g = await ctx.state.get<GroupState>(a.f);
    if (!g?.latest || g.deployCard !== undefined || g.headline?.[0] !== "New error: ") continue;
    if (!(await deployBefore(ctx, new Date(g.firstSeen), g.sourceId))) {
      left.push(a);
      continue;
    }
    const triaged = await ctx.state.get<Triage>(triageKey(a.f));
    const signalIds = (card.evidence as { signalIds?: string[] } | null)?.signalIds ?? [];
    const quiet: News = { regression: null, spike: null, escalation: null };
    const from = { signalIds, sourceId: g.sourceId };
    const upsert = await groupCard(ctx, a.f, g, from, true, quiet, triaged?.assignee ?? null, g.latest);
    ctx.state.set(a.f, { ...g, deployCard: upsert.fingerprint });
    watched.push({ f: a.f, card: upsert.fingerprint, since: ctx.now.getTime() });
    out.push(withdrawal(a.f, deploy), upsert);
  }
  return left;
}

/**
 * Applies what issue events said (see issueVerdicts): fixed, with the releases seen until then, or
 * unfixed when its issue was reopened. A pending card of an issue resolved in Sentry goes.
 */
async function applyVerdicts(
  ctx: AgentContext,
  verdicts: Map<string, Verdict>,
  groups: Map<string, SignalRow[]>,
  out: CardUpsert[],
): Promise<void> {
  for (const [fingerprint, v] of verdicts) {
    const g = await ctx.state.get<GroupState>(fingerprint);
    if (!g) continue;
    if (v.fixedAt !== null) {
      ctx.state.set(fingerprint, {
        ...g,
        fixedAt: v.fixedAt,
        fixedReleases: [...g.releases],
        fixedBy: v.by,
        resolvedInSentry: v.by === null,
      });
    } else if (v.by && g.fixedBy?.number === v.by.number && g.fixedBy.repository === v.by.repository) {
      // Reopened: the fix did not hold, and the open issue already says so.
      ctx.state.set(fingerprint, { ...g, fixedAt: null, fixedReleases: [], fixedBy: null });
    }
  }
  for (const [fingerprint, v] of verdicts) {
    // Resolved in Sentry: a card still asking for an issue about it is moot.
    if (v.by === null && v.fixedAt !== null && !groups.has(fingerprint))
      out.push(withdrawal(fingerprint, v.signal));
  }
}

interface Regression {
  at: number;
  /** The release it came back in; null when only Sentry's "regressed" says it is back. */
  release: string | null;
  fixedAt: number | null;
  by: IssueRef | null;
  inSentry: boolean;
}

/** What a batch of a group's events is news of, besides the group being new. */
interface News {
  regression: Regression | null;
  spike: { count: number; baseline: number } | null;
  /** When Sentry said the archived issue escalated. */
  escalation: number | null;
  /** It kept coming after its rollback card was carried out (that card's fingerprint). */
  outlived?: string;
}

/**
 * Counts a group's new events into its state (events, users, releases, 10-minute buckets, one
 * event sent twice counted once) and says what they are news of: back after its fix, a spike, or
 * Sentry's word that the archived issue escalated.
 */
function count(g: GroupState, signals: SignalRow[], isNew: boolean, escalated: boolean): News {
  let regression: Regression | null = null;
  let spike: { count: number; baseline: number } | null = null;
  /** When Sentry said the archived issue escalated. */
  let escalation: number | null = null;
  for (const s of signals) {
    const e = errorEvent(s) as ErrorEvent;
    const at = s.occurredAt.getTime();
    if (e.sentryEscalated) {
      if (escalated) escalation ??= at;
      // Not an event of its own, unless it is all Flick knows of the issue.
      if (!isNew) continue;
    }
    if (e.sentryRegressed) {
      // Sentry says it came back (an integration that sends no events says so only this way).
      regression ??= {
        at,
        release: null,
        fixedAt: g.fixedAt,
        by: g.fixedBy ?? null,
        inSentry: g.resolvedInSentry === true,
      };
      // Not an event of its own, unless it is all Flick knows of the issue.
      if (!isNew) continue;
    }
    const rule = (s.payload as SentryWebhook).data?.triggered_rule;
    if (s.kind === "sentry.webhook.event_alert" && rule) {
      g.alertRules = [...new Set([...(g.alertRules ?? []), rule.slice(0, 200)])].slice(-5);
    }
    if (e.event_id) {
      const id = e.event_id.replace(/-/g, "").toLowerCase();
      if (g.recentIds?.includes(id)) continue;
      g.recentIds = [...(g.recentIds ?? []), id].slice(-RECENT_IDS);
    }
    if (g.announced !== undefined && !announcesOnly(s)) {
      // The event a new Sentry issue announced has come itself: it takes the announcement's place.
      g.count--;
      const b = g.buckets.find(([t]) => t === g.announced);
      if (b) b[1]--;
      g.buckets = g.buckets.filter(([, n]) => n > 0);
      g.moreUsers = Math.max(0, g.moreUsers - (g.announcedUsers ?? 0));
      delete g.announced;
      delete g.announcedUsers;
    }
    g.count++;
    g.lastSeen = Math.max(g.lastSeen, at);
    const u = userKey(e);
    if (u && !g.users.includes(u)) {
      if (g.users.length < MAX_USERS) g.users.push(u);
      else g.moreUsers++;
    }
    if (e.release && !g.releases.includes(e.release)) {
      g.releases.push(e.release);
      if (g.releases.length > 20) g.releases.shift();
    }
    if (g.fixedAt !== null && at > g.fixedAt && e.release && !g.fixedReleases.includes(e.release))
      regression ??= {
        at,
        release: e.release,
        fixedAt: g.fixedAt,
        by: g.fixedBy ?? null,
        inSentry: g.resolvedInSentry === true,
      };
    const bucket = Math.floor(at / BUCKET_MS) * BUCKET_MS;
    if (announcesOnly(s)) {
      // Known only by number until its events come.
      g.announced = bucket;
      g.announcedUsers = e.userCount ?? 0;
      g.moreUsers += g.announcedUsers;
    }
    const last = g.buckets[g.buckets.length - 1];
    if (last && last[0] === bucket) last[1]++;
    else if (!last || bucket > last[0]) g.buckets.push([bucket, 1]);
    g.buckets = g.buckets.filter(([b]) => b > bucket - BASELINE_BUCKETS * BUCKET_MS);
    const current = g.buckets.find(([b]) => b === bucket)?.[1] ?? 0;
    const history = g.buckets.filter(([b]) => b < bucket);
    const ageBuckets = Math.min(
      BASELINE_BUCKETS,
      Math.max(1, Math.floor((bucket - g.firstSeen) / BUCKET_MS)),
    );
    const baseline = history.reduce((n, [, c]) => n + c, 0) / ageBuckets;
    if (
      !isNew &&
      bucket - g.firstSeen >= 6 * BUCKET_MS &&
      current >= 10 &&
      current >= 5 * Math.max(baseline, 0.5) &&
      g.lastSpikeBucket !== bucket
    ) {
      spike = { count: current, baseline };
      g.lastSpikeBucket = bucket;
      g.spikeBaseline = baseline;
    }
  }
  if (spike) {
    // Report the whole burst this batch saw, not the count at the moment it crossed the line.
    spike.count = g.buckets.find(([b]) => b === g.lastSpikeBucket)?.[1] ?? spike.count;
  }
  if (regression) {
    // Re-armed by the next fix.
    g.fixedAt = null;
    g.fixedReleases = [];
    g.fixedBy = null;
    g.resolvedInSentry = false;
  }
  return { regression, spike, escalation };
}

/** The group's card: an issue (or reopening the closed one), or, right after a deploy, its rollback card. */
/** A card written from these signals (see groupCard). */
const writtenFrom = (signals: SignalRow[]) => ({
  signalIds: signals.map((s) => s.id),
  sourceId: (signals[signals.length - 1] as SignalRow).sourceId,
});

async function groupCard(
  ctx: AgentContext,
  fingerprint: string,
  g: GroupState,
  /** What this card is written from: the signals' ids, and the source of the latest (if known). */
  from: { signalIds: string[]; sourceId: string | undefined },
  isNew: boolean,
  { regression, spike, escalation, outlived }: News,
  assignee: string | null,
  { e, d }: Described,
): Promise<CardUpsert> {
  const users = g.users.length + g.moreUsers;
  const fresh: [string, string] | null = outlived
    ? [NOT_STOPPED, ` — still coming after ${rolledBackDeploy(outlived).sha} was rolled back`]
    : regression
      ? [
          "Regression: ",
          ` — ${regression.release ? `back in ${regression.release}` : "Sentry marked it regressed"}`,
        ]
      : spike
        ? [
            "Spiking: ",
            ` — ${spike.count} in 10 min (×${Math.max(1, Math.round(spike.count / Math.max(spike.baseline, 0.5)))} the usual)`,
          ]
        : escalation !== null
          ? ["Escalating: ", " — archived in Sentry until it escalated"]
          : isNew
            ? ["New error: ", ""]
            : null;
  // More events on its open card change nothing of what the card is news of: the words stay
  // ("New error: …" whether the next event came in the same batch or a later one), around the
  // latest event's title.
  const around = fresh ?? g.headline ?? ["", ""];
  // What the card is news of, by the words its title begins with (a spike's card still marks the
  // spike at later events, a regression's still ranks as one).
  const story = around[0];
  // A spike's card whose spike is over says since when (see spikeOverSince).
  const over = story === "Spiking: " && !spike ? spikeOverSince(g, ctx.now.getTime()) : undefined;
  // A regression's card goes on proposing to reopen the issue that fixed it, and saying so.
  if (regression) g.regressionTold = regression;
  const back = regression ?? (story === "Regression: " ? (g.regressionTold ?? null) : null);
  if (over === undefined) delete g.spikeOver;
  else g.spikeOver = over;
  const preview = bucketChart(
    g.buckets,
    spike || story === "Spiking: " ? g.lastSpikeBucket : null,
    over === undefined ? 0 : ctx.now.getTime(),
  );
  const facts = {
    events: g.count,
    users,
    firstSeen: new Date(g.firstSeen).toISOString(),
    lastSeen: new Date(g.lastSeen).toISOString(),
    ...(e.release ? { release: e.release } : {}),
    ...(e.environment ? { environment: e.environment } : {}),
    ...(d.topFrame ? { topFrame: d.topFrame } : {}),
    ...(g.alertRules?.length ? { sentryAlert: g.alertRules.join("; ") } : {}),
  };

  // Right after a deploy: one rollback card instead of an error card.
  // (Not when a rollback did not stop it: that deploy is rolled back, it is the error's own card.)
  const troubleAt = outlived
    ? null
    : isNew
      ? g.firstSeen
      : regression
        ? regression.at
        : spike
          ? g.lastSeen
          : escalation;
  const deploy = troubleAt === null ? null : await deployBefore(ctx, new Date(troubleAt), from.sourceId);
  if (deploy) {
    const kind = isNew
      ? "new error"
      : regression
        ? "fixed error back"
        : spike
          ? "error spike"
          : "error escalating";
    // "new TypeError", "TypeError spike"; an error with no type name: "new error "…"".
    const briefKind = (name: string) =>
      isNew
        ? `new ${name}`
        : regression
          ? `fixed ${name} back`
          : spike
            ? `${name} spike`
            : `${name} escalating`;
    return rollbackCard(ctx, "errors", deploy, {
      what: "errors",
      key: `errors:${fingerprint}`,
      // One line of a title it shares with other troubles: the message gives way first.
      line: `${kind} "${clip(d.title, 60)}" ×${g.count}${users ? ` (${plural(users, "user")})` : ""}`,
      brief: `${briefKind(errorName(d.title))} ×${g.count}${users ? ` (${plural(users, "user")})` : ""}`,
      facts: { errorEvents: g.count, errorUsers: users },
      signalIds: from.signalIds,
      firstSeen: new Date(g.firstSeen),
      lastSeen: new Date(g.lastSeen),
      severity: e.level === "fatal" ? 1 : 0.8,
      blastRadius: blast(Math.max(users, g.count / 10)),
      // Named: on the deploy's card it sits beside other troubles' charts.
      preview: { ...preview, label: `${errorName(d.title)} events / 10 min` },
      ...(from.sourceId ? { sourceId: from.sourceId } : {}),
    });
  }

  const settings = errorSourceSettings.safeParse(
    from.sourceId ? await ctx.sourceSettings(from.sourceId) : {},
  );
  const repository = settings.success ? settings.data.repository : undefined;
  // The news, as the words around the error's title.
  // Its card stays the story of the rollback that did not stop it while it is open (later events
  // carry no news of their own).
  const notStoppedBy =
    outlived ?? (g.headline?.[0] === NOT_STOPPED && g.afterRollback?.card ? g.afterRollback.card : undefined);
  const rolledBack = notStoppedBy ? rolledBackDeploy(notStoppedBy) : null;
  const overText = over === undefined ? "" : `, over since ${hhmm(new Date(over), ctx.now)}`;
  const headline = overText
    ? `${around[0]}${clip(d.title, TITLE_MAX - around[0].length - around[1].length - overText.length)}${around[1]}${overText}`
    : `${around[0]}${d.title}${around[1]}`;
  if (fresh) g.headline = fresh; // stored with the group below
  const stack = `\`\`\`\n${d.stack}\n\`\`\``;
  const cause = g.rootCause ? `\n\n${rootCauseSection(g.rootCause)}` : "";
  const notStopped = rolledBack
    ? ` The rollback of ${rolledBack.repository} to before ${rolledBack.sha} was carried out and it kept coming: ${plural(g.afterRollback?.events ?? 1, "event")} in the hour after.`
    : "";
  const reopen = back?.by ?? null;
  const change: Change = reopen
    ? {
        type: "github",
        operation: "reopen_issue",
        repository: reopen.repository,
        params: {
          number: reopen.number,
          body: `Back${back?.release ? ` in release ${back.release}` : " (Sentry marked it regressed)"}: ${plural(g.count, "event")} ${reach(users, "from")} in all; the latest:\n\n${stack}${cause}`,
        },
      }
    : repository
      ? {
          type: "github",
          operation: "create_issue",
          repository,
          params: {
            title: d.title,
            body: `${plural(g.count, "event")} ${reach(users, "from")} since ${new Date(g.firstSeen).toISOString()}${e.release ? ` (release ${e.release})` : ""}.${notStopped}\n\n${stack}${cause}\n\n${groupLine(fingerprint)}`,
            labels: ["bug"],
          },
        }
      : { type: "none" };
  // A person rejected its card: news past that comes all the same, and says why.
  // (More events on a card change nothing of what it is news of.)
  const news: CardNews | null = outlived
    ? { kind: "outlived" }
    : regression
      ? { kind: "regression" }
      : spike
        ? { kind: "spike", spike: spike.count }
        : escalation !== null
          ? { kind: "escalation" }
          : isNew
            ? { kind: "new" }
            : null;
  g.mute ??= {};
  const { why: past } = await newsPastMute(ctx, fingerprint, g.mute, news, pastRejectedNews);
  // Accepting an issue card is not the fix: the issue's closing is.
  ctx.state.set(fingerprint, { ...g, issueProposed: change.type === "github" });
  const fixedOn = back?.fixedAt ? day(new Date(back.fixedAt), ctx.now) : null;
  const fix = back?.by
    ? `${back.by.repository}#${back.by.number} was closed`
    : back?.inSentry
      ? "it was resolved in Sentry"
      : "its card was accepted";
  const cameBack = back
    ? ` It came back${back.release ? ` in ${back.release}` : " (Sentry marked it regressed)"}${fixedOn ? ` after ${fix} on ${fixedOn}` : ""}.`
    : "";
  const accept = reopen
    ? `Accept reopens ${reopen.repository}#${reopen.number} with the new stack trace.`
    : repository
      ? `Accept opens an issue in ${repository} with the stack trace.`
      : "Set a repository in the source's settings to get an issue proposed.";
  return {
    fingerprint,
    kind: change.type === "github" ? "issue" : "insight",
    title: headline,
    summary: `${d.topFrame ? `In \`${d.topFrame}\`. ` : ""}${plural(g.count, "event")}, ${reach(users)}, first seen ${moment(new Date(g.firstSeen), ctx.now)}${e.release ? `, release ${e.release}` : ""}.${g.alertRules?.length ? ` Sentry's alert rule "${g.alertRules[g.alertRules.length - 1]}" fired for it.` : ""}${notStopped}${cameBack}${escalation !== null || story === "Escalating: " ? " Sentry archived it until it escalated, and now it has." : ""}${assignee ? ` Assigned to ${assignee} in Sentry.` : ""}${g.rootCause ? ` ${rootCauseLine(g.rootCause)}` : ""}${g.comment ? ` ${g.comment.by} commented in Sentry: “${clip(g.comment.text, 200)}”.` : ""}${past ? ` ${past}` : ""} ${accept}`,
    ...rank({
      severity:
        (e.level === "fatal"
          ? 1
          : story === "Regression: " || story === NOT_STOPPED
            ? 0.8
            : story === "Spiking: " || story === "Escalating: "
              ? 0.75
              : 0.6) / (over === undefined ? 1 : 2),
      blastRadius: blast(Math.max(users, g.count / 10)),
      confidence: 0.85,
      recency: recency(new Date(g.lastSeen), ctx.now),
      acceptRate: await ctx.acceptRate("errors", "sentry"),
    }),
    preview,
    change,
    evidence: {
      signalIds: from.signalIds,
      firstSeen: new Date(g.firstSeen),
      lastSeen: new Date(g.lastSeen),
      ...(e.web_url && /^https:\/\//.test(e.web_url)
        ? { links: [{ label: "In Sentry", url: e.web_url }] }
        : {}),
      facts,
    },
    reopen: regression !== null || spike !== null || escalation !== null || outlived !== undefined,
    ...(past ? { pastMute: true } : {}),
  };
}
