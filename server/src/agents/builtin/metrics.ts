import type { Change, Preview, SeriesPreview } from "@flick/shared";
import { z } from "zod";
import {
  type AgentContext,
  accepted,
  type CardUpsert,
  defineAgent,
  type LatestCardView,
  outcome,
  type SignalRow,
  standFor,
  withdrawal,
} from "../define.ts";
import {
  DEFAULT_DETECTOR_OPTIONS,
  type DetectorState,
  inheritedState,
  MetricDetector,
  median,
  type PatternChange,
  type PointScore,
} from "../metrics/detector.ts";
import { blast, type RankFactors, rank, recency, rerank } from "../rank.ts";
import { alertOf, groupFingerprint, SEVERITY } from "./alerts.ts";
import {
  type Deploy,
  deployBefore,
  type MetricAfterRollback,
  RECOVERY_MS,
  ROLLOUT_MS,
  rollbackCard,
  rollbackDropped,
  rollbackFingerprint,
  rolledBackDeploy,
  rolledBackKey,
  type Trouble,
} from "./deploys.ts";
import { type MuteMemory, newsPastMute } from "./past-mute.ts";
import { alertOnSeries, type SeriesRef, seriesOfAlert } from "./promql.ts";
import {
  latestSibling,
  type Members,
  membersKey,
  membersMoved,
  REPLICAS_SETTLE_MS,
  replicaGroupOf,
  replicaLabelsOf,
  replicasAt,
  replicasChanged,
  SETTLED_QUIET_MS,
  type Settled,
  settledBreak,
  type Unsettled,
  withMembers,
} from "./replicas.ts";
import { deploysSetting, repositorySetting } from "./settings.ts";
import { day, hhmm, labelText, plural, seriesText } from "./words.ts";

const TAIL = 120;
/** A relative change below this is told in values, not percent. */
const SMALL_CHANGE = 0.05;

interface SeriesState {
  detector: DetectorState;
  /** The last points, for the card's chart. */
  tail: [number, number][];
  /** The anomaly score that opens a card for this series, when a person changed it (a follow-up). */
  alarmLevel?: number;
  /** The series' card as last proposed, so an alert joining it is told without waiting for an alarm. */
  card?: StashedCard;
  /**
   * The break its own card tells (absent in older states): should the deploy before it become
   * known only later, the break moves to that deploy's rollback card (see lateDeploy).
   */
  broke?: Broke;
  /** The series' latest alarm when it went to a deploy's rollback card instead (times as epoch ms). */
  rollback?: Omit<Trouble, "firstSeen" | "lastSeen"> & { firstSeen: number; lastSeen: number };
  /** The break its latest card told (while muted: the rejected one), and why a card came past the mute. */
  mute?: MuteMemory<Break>;
  /** Its break went to a rollback card: whether it comes back once that is carried out (see judgeRecovery). */
  recovery?: Recovery;
  /** Its rollback did not bring it back: its next point past the hour makes its own card again. */
  notBack?: NotBack;
  /** It has learned from points a source loaded as its past (absent in older states: not known). */
  learnedHistory?: boolean;
  /**
   * Its live points, set aside while its past — loaded after they came — is learned first; learned
   * again once the past reaches them (see pastFirst).
   */
  replay?: [number, number][];
  /** Its break is over (see forgetIncident): the break its detector learned is to be forgotten. */
  forget?: Level;
  /** The detector's point count when its calm copy was last kept (see keepCalm). */
  calmN?: number;
  /** Points in a row nearer the usual level than its told break's (see settleBreak). */
  backRun?: number;
  /** When its latest point arrived (ms, the server's clock; absent in older states). */
  arrived?: number;
  /** A replica's alarm, told once the replica sends again and the replicas did not change (see Held). */
  held?: Held;
  /** The replica of the same metric it was started from (a new pod's series), as a series key. */
  startedFrom?: string;
  /**
   * The replicas it followed (the one it started from, and the ones that one followed): a person's
   * reject of one's card mutes it too — a deploy does not bring back the card they turned down.
   */
  mutedWith?: string[];
  /** A replica's first and latest point (ms, point times; its metric's members list may lag). */
  span?: [number, number];
  /** Its break heard while its metric's replicas changed, judged once they settle (see settledBreak). */
  unsettled?: Unsettled;
  /**
   * Where it settled after its replicas changed, when that was no break, and until when (ms): its
   * alarms at that level are no news meanwhile (see SETTLED_QUIET_MS).
   */
  settled?: Settled & { until: number };
  /**
   * The latest live alarm its detector rests after: how far the point it told of was from what was
   * expected (relative), and how surprising (see furtherThanTold).
   */
  restFrom?: RestFrom;
}

/** The live alarm a series' detector rests after (see SeriesState.restFrom). */
interface RestFrom {
  /** When (ms). */
  at?: number;
  change: number;
  surprise: number;
  /** What was expected of the point it told of, and which way that point went from it (-1, 1). */
  normal?: number;
  sign?: number;
  /** Points in a row since then FURTHER times as far out the same way (see deepened). */
  deeper?: number;
}

/** An alarm of a series, to tell (see the agent's run). */
interface Alarm {
  signal: SignalRow;
  scored: PointScore;
  /** Its rollback did not bring it back (see SeriesState.notBack). */
  outlived?: NotBack | undefined;
}

/**
 * An alarm of a series one replica sends (a pod's), held until that replica sends a step later (the
 * next point; a minute on for one judged a minute at a time): a pod being drained sends its rate
 * falling to nothing and then stops, and sending on is what tells a break from that. Told then,
 * unless it was away in between or the replicas of its metric changed (see replicasChanged). Times
 * as epoch ms.
 */
interface Held {
  id: string;
  at: number;
  point: Point;
  scored: PointScore;
  outlived?: NotBack;
}

/** What a series on a rollback card is judged by: its level in the hour after the rollback. */
interface Recovery extends Level {
  /** The rollback card's fingerprint. */
  card: string;
  /** Its points from the rollout's end to the hour's, as [time (ms), value], as they came. */
  points?: [number, number][];
  /** The same without times, in states kept before `points`. */
  values?: number[];
}

/** A break as a card told it: "cart_wait_ms rose 12%", how far (relative) and when (ms). */
interface Break {
  brief: string;
  change: number;
  at: number;
}

/**
 * A series breaking this much further than the break its card was rejected for is news past the
 * mute: twice as far, and at least 25 points more (a rejected 12% rise lets a 37% one through, a
 * rejected 2× rise a 3× one, a rejected 38% drop a 76% one).
 */
export function pastRejected(change: number, rejected: number): boolean {
  return change >= Math.max(2 * rejected, rejected + 0.25);
}

/** A brief without its metric's name: "rose 12%" of "cart_wait_ms rose 12%". */
function figure(brief: string, name: string): string {
  return brief.startsWith(`${name} `) ? brief.slice(name.length + 1) : brief;
}

/** The sentence a break past its series' mute says: what was rejected, and that this is far bigger. */
function pastRejectedBreak(name: string, now: Break, rejected: Break, today: Date): string | null {
  if (!pastRejected(now.change, rejected.change)) return null;
  return `Its card was rejected when it ${figure(rejected.brief, name)} (${day(new Date(rejected.at), today)}); this break is far bigger`;
}

interface Point {
  name: string;
  labels: Record<string, string>;
  ts: string;
  value: number;
  /** Loaded from the team's Prometheus to teach the detector the series' past: never a card. */
  history?: boolean;
}

/** Metrics source settings: which admin-made action to propose per metric, and where issues go. */
export const metricSourceSettings = z
  .object({
    actions: z.record(z.string(), z.string()).default({}),
    repository: repositorySetting,
    deploys: deploysSetting,
    /**
     * The source's metrics come from one service: any two of its series are one scope unless a
     * label they both have differs (unlabelled metrics breaking together are one card).
     */
    oneService: z.boolean().default(false),
  })
  .passthrough();

/**
 * "checkout_success dropped 38% at 14:05 UTC"; for a change of a few percent, which is news only
 * for a series that never moves that much, "machine_temperature broke from its usual pattern at
 * 03:03 UTC (85.2, about 83.5 expected)" — "rose 2%" would read as nothing to see.
 */
export function anomalyClaim(
  name: string,
  value: number,
  expected: number,
  at: Date | null,
  now?: Date,
): string {
  // Without a time: the brief a rollback card's title uses (it says when another way).
  const when = at ? ` at ${hhmm(at, now)}` : "";
  if (Math.abs(expected) < 1e-9) return `${name} jumped to ${round(value)}${when}`;
  const change = (value - expected) / Math.abs(expected);
  if (Math.abs(change) < SMALL_CHANGE)
    return `${name} broke from its usual pattern${when} (${round(value)}, about ${round(expected)} expected)`;
  if (change <= -0.995) return `${name} fell to ${round(value)}${when}`;
  if (change < 0) return `${name} dropped ${Math.round(-change * 100)}%${when}`;
  if (change >= 1) return `${name} rose ${round(1 + change)}×${when}`;
  return `${name} rose ${Math.round(change * 100)}%${when}`;
}

/** "queue_depth changed its pattern since 09:00 UTC" */
export function patternClaim(name: string, pattern: PatternChange, now?: Date): string {
  return `${name} changed its pattern since ${hhmm(new Date(pattern.since), now)}`;
}

function duration(ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  return hours >= 48 ? `${Math.round(hours / 24)} days` : `${hours} hours`;
}

function relative(value: number, expected: number): number {
  return Math.abs(expected) > 1e-9 ? Math.abs(value - expected) / Math.abs(expected) : 1;
}

/**
 * The value an alarm tells of, with what was expected of it: the point that surprised when the
 * averaged score crossed the line a few points after it (see PointScore.peak), else the one scored.
 */
function surprisedBy(scored: PointScore, value: number): { value: number; expected: number } {
  return scored.peak
    ? { value: scored.peak.value, expected: scored.peak.expected }
    : { value, expected: scored.expected };
}

/** How far the point an alarm tells of is from what was expected of it, relative. */
function changeOf(scored: PointScore, value: number): number {
  const told = surprisedBy(scored, value);
  return relative(told.value, told.expected);
}

/** How many times further than the alarm before it a break within its rest must go to be told. */
const FURTHER = 2;

/**
 * A point scored within the rest after a live alarm (which damps its score), that would have
 * alarmed without it and broke at least FURTHER times as far as that alarm's point — and at least
 * SMALL_CHANGE, and at least as surprising: a series that was told "broke from its usual pattern
 * (101, about 97.7 expected)" and then drops to 30 ten minutes later is told "dropped 69%", not
 * left to a card whose words say nearly nothing happened. (Expected as the detector expects: the
 * last points, or yesterday at this time for a daily series — not the level before the first
 * alarm, which a daily rhythm leaves behind within the rest.)
 */
function furtherThanTold(state: SeriesState, scored: PointScore, value: number, alarmAt: number): boolean {
  const from = state.restFrom;
  if (!from || scored.pattern || (scored.undamped ?? 0) < alarmAt) return false;
  const change = changeOf(scored, value);
  return change >= SMALL_CHANGE && change >= FURTHER * from.change && scored.surprise >= from.surprise;
}

/** Points in a row a break within its rest must stay FURTHER times as far out to be told deepened. */
const DEEPER_POINTS = 3;
/**
 * How long after the alarm a rest follows a break is watched for deepening: the incident as it
 * unfolds. (The rest is 150 points: three days of a half-hourly series, long enough for a weekday
 * against yesterday's Sunday to look like a deeper break.)
 */
const DEEPER_WITHIN_MS = 3 * 60 * 60_000;

/**
 * The live alarm a rest follows, as remembered: how far its point went, which way, from what. Told
 * within the rest after `before` (a series whose detector does not expect by yesterday yet),
 * `normal` stays what was expected before that first alarm: the last points' median follows a
 * break down.
 */
function restFrom(
  at: number,
  scored: PointScore,
  value: number,
  surprise: number,
  before?: RestFrom,
): RestFrom {
  const told = surprisedBy(scored, value);
  const normal = scored.pattern ? undefined : (before?.normal ?? told.expected);
  if (normal === undefined) return { at, change: changeOf(scored, value), surprise };
  return { at, change: relative(told.value, normal), surprise, normal, sign: Math.sign(told.value - normal) };
}

/**
 * A break that went on deepening within the rest after its alarm, slowly enough that no one point
 * surprised as the first did (the last points' median following it down): DEEPER_POINTS in a row
 * at least FURTHER times as far from the usual level as the alarm's point, the same way, and at
 * least SMALL_CHANGE, within DEEPER_WITHIN_MS. The usual level is yesterday at this time for a
 * series with a day behind it, else what was expected before the alarm. Returns the point's score
 * as told, or undefined.
 */
function deepened(
  state: SeriesState,
  at: number,
  scored: PointScore,
  value: number,
  byDay: boolean,
): PointScore | undefined {
  const from = state.restFrom;
  if (!from || from.normal === undefined || scored.pattern || at - (from.at ?? 0) > DEEPER_WITHIN_MS) return;
  const normal = byDay ? scored.expected : from.normal;
  const change = relative(value, normal);
  const deeper =
    Math.sign(value - normal) === from.sign && change >= SMALL_CHANGE && change >= FURTHER * from.change;
  from.deeper = deeper ? (from.deeper ?? 0) + 1 : 0;
  if (from.deeper < DEEPER_POINTS) return;
  return { score: Math.max(scored.undamped ?? 0, scored.score), expected: normal, surprise: scored.surprise };
}

/** A card's words, chart marks and facts: one value that broke, or a stretch whose pattern is new. */
function describe(
  p: Point,
  at: Date,
  scored: PointScore,
  tail: [number, number][],
  now: Date,
): {
  claim: string;
  /** The claim without its time, for a title that says the time another way. */
  brief: string;
  what: string;
  change: number;
  marks: number[];
  /** What was expected of the point that surprised, and when it came (absent for a pattern). */
  expected?: { at: number; value: number };
  span?: [number, number];
  facts: Record<string, string | number>;
  /** Where the series broke to and where it was before, to tell whether it came back. */
  level: Level;
} {
  const last = tail.length - 1;
  const pattern = scored.pattern;
  if (!pattern) {
    // The point that surprised, when the averaged score crossed the line a few points after it.
    // (Found by time: a late point drawn in its place shifts the chart's indexes.)
    const peak = scored.peak;
    // (A late point is not the chart's last: it is found by its time too.)
    const mark = tail.findIndex(([t]) => t === (peak ? peak.at : at.getTime()));
    const { value, expected } = surprisedBy(scored, p.value);
    return {
      claim: anomalyClaim(p.name, value, expected, peak ? new Date(peak.at) : at, now),
      brief: anomalyClaim(p.name, value, expected, null),
      what: `${round(value)} where about ${round(expected)} was expected`,
      change: relative(value, expected),
      marks: [mark >= 0 ? mark : last],
      ...(Number.isFinite(expected)
        ? { expected: { at: peak ? peak.at : at.getTime(), value: expected } }
        : {}),
      facts: { value: shown(value), expected: shown(expected) },
      level: { broken: value, normal: expected },
    };
  }
  const first = tail.findIndex(([t]) => t >= pattern.since);
  return {
    claim: patternClaim(p.name, pattern, now),
    brief: `${p.name} changed its pattern`,
    what: `since ${hhmm(new Date(pattern.since), now)} it averaged ${round(pattern.mean)}, 90% of points under ${round(pattern.p90)}; no stretch in the ${duration(pattern.searched)} before looked like that (the closest averaged ${round(pattern.closestMean)}, 90% under ${round(pattern.closestP90)})`,
    change: Math.max(relative(pattern.mean, pattern.closestMean), relative(pattern.p90, pattern.closestP90)),
    marks: [last],
    ...(first >= 0 && first < last ? { span: [first, last] as [number, number] } : {}),
    facts: {
      since: new Date(pattern.since).toISOString(),
      mean: shown(pattern.mean),
      p90: shown(pattern.p90),
      closestMean: shown(pattern.closestMean),
      closestP90: shown(pattern.closestP90),
    },
    level: { broken: pattern.mean, normal: pattern.closestMean },
  };
}

/**
 * A series' past loaded after its live points began (remote_write started, then "Load history"):
 * while it is still warming up (it can break from its 300th point), its detector starts again from
 * the past and learns its live points after it, instead of passing over the past as late points —
 * so it is judged against two days from its next point, not after 300 live ones. Once warmed up, a
 * series keeps what it learned (a later, longer load adds nothing to it). The live points come
 * back from the chart's tail (its last 120); earlier live ones are in the past Prometheus gives.
 * Returns the detector to go on with.
 */
function pastFirst(
  state: SeriesState,
  detector: MetricDetector,
  at: number,
  history: boolean,
): MetricDetector {
  const d = state.detector;
  if (
    history &&
    !state.learnedHistory &&
    d.lastTs !== null &&
    at < d.lastTs &&
    d.n < DEFAULT_DETECTOR_OPTIONS.warmup
  ) {
    state.replay = [...state.tail];
    const fresh = new MetricDetector();
    state.detector = fresh.state;
    state.learnedHistory = true;
    return fresh;
  }
  if (history) state.learnedHistory = true;
  const replay = state.replay;
  // The past has reached the live points (or a live one came): they are learned again, in order.
  if (replay && (!history || replay.length === 0 || at >= (replay[0] as [number, number])[0])) {
    for (const [t, v] of replay) detector.update(v, t);
    state.replay = undefined;
  }
  return detector;
}

/**
 * Keeps the chart's last points in time order. A point that arrives late (another collector's
 * request, sent before this one's but delivered after) is scored only for being beyond anything
 * the series did — the detector has moved past its moment — but it happened, so the chart shows it
 * in its place.
 */
function addToTail(tail: [number, number][], at: number, value: number): void {
  let i = tail.length;
  while (i > 0 && (tail[i - 1] as [number, number])[0] > at) i--;
  if (i === 0 && tail.length >= TAIL) return;
  tail.splice(i, 0, [at, value]);
  if (tail.length > TAIL) tail.shift();
}

/**
 * A figure for a card's chips: four significant digits, never fewer than its whole part
 * (80.96953884 → 80.97, 0.000412345 → 0.0004123, 123456.7 → 123457).
 */
function shown(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const whole = Math.floor(Math.log10(Math.abs(x))) + 1;
  return Number(x.toPrecision(Math.min(21, Math.max(4, whole))));
}

function thousandths(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function round(x: number): string {
  return Math.abs(x) >= 100 ? String(Math.round(x)) : String(Math.round(x * 100) / 100);
}

/** An Alertmanager alert whose rule reads a metric, as the metric's series look for theirs. */
interface MetricAlert {
  /** The alert's card (its notification group's). */
  group: string;
  name: string;
  firing: boolean;
  labels: Record<string, string>;
  refs: SeriesRef[];
  /** How bad its severity label says it is (as the alert's own card ranks it), and since when (ms). */
  severity: number;
  since: number;
}

/** A proposal as the state keeps it (times as epoch ms), its summary in two parts around the alerts. */
interface StashedCard extends Omit<CardUpsert, "evidence" | "compose" | "summary"> {
  head: string;
  tail: string;
  evidence: Omit<CardUpsert["evidence"], "firstSeen" | "lastSeen"> & { firstSeen: number; lastSeen: number };
}

/** Alerts remembered per metric name; resolved ones make room first. */
const MAX_ALERTS = 50;
/**
 * Series of one metric name that broke (made a card or a rollback card's line), the latest this
 * many: where an alert arriving after the break finds the card to tell, however many series the
 * metric has.
 */
const MAX_NAMED = 200;
const namesKey = (name: string) => `names:${name}`;

/** Adds a series that broke to its metric's index (the newest last, the oldest dropped past MAX_NAMED). */
async function indexBreak(ctx: AgentContext, name: string, series: string, labels: Record<string, string>) {
  const { [series]: _, ...index } =
    (await ctx.state.get<Record<string, Record<string, string>>>(namesKey(name))) ?? {};
  const entries = [...Object.entries(index), [series, labels] as const].slice(-MAX_NAMED);
  ctx.state.set(namesKey(name), Object.fromEntries(entries));
}
const alertsKey = (name: string) => `alerting:${name}`;

/** The action a source's settings map a series to: by the series (`name{labels}`), else by its metric's name. */
export function mappedAction(
  actions: Record<string, string>,
  series: string,
  name: string,
): string | undefined {
  return actions[series.slice("metric:".length)] ?? actions[name];
}

/**
 * The series a source sends whose metric its settings map to an action (the ones the team said
 * matter), with their names and labels, for the silence agent to notice one that stops. Written
 * only when one is new.
 */
export const watchedKey = (sourceId: string) => `watched:${sourceId}`;
const MAX_WATCHED = 100;
/**
 * A listed series that has sent nothing for this long makes room for a new one when the list is
 * full: a deploy that replaces pods starts new series each time, and the list would otherwise fill
 * with pods long gone and stop taking the ones that send.
 */
const WATCHED_GONE_MS = 86_400_000;
type Watched = SeriesName & { series: string };

/** Adds the batch's mapped series to their sources' watched lists (see watchedKey). */
async function watchMapped(ctx: AgentContext, bySource: Map<string, Map<string, SeriesName>>): Promise<void> {
  const now = ctx.now.getTime();
  for (const [sourceId, series] of bySource) {
    let known = (await ctx.state.get<Watched[]>(watchedKey(sourceId))) ?? [];
    const seen = new Set(known.map((w) => w.series));
    const unseen = [...series].filter(([key]) => !seen.has(key));
    if (unseen.length === 0) continue;
    const settings = metricSourceSettings.safeParse(await ctx.sourceSettings(sourceId));
    const actions = settings.success ? settings.data.actions : {};
    const fresh = unseen.filter(([key, { name }]) => mappedAction(actions, key, name));
    if (fresh.length === 0) continue;
    if (known.length + fresh.length > MAX_WATCHED) {
      // Full: the series gone for a day (replaced pods, most often) make room.
      await ctx.state.load(known.map((w) => w.series));
      const sending = await Promise.all(
        known.map(
          async (w) => ((await ctx.state.get<SeriesState>(w.series))?.arrived ?? 0) > now - WATCHED_GONE_MS,
        ),
      );
      const kept = known.filter((_, i) => sending[i]);
      if (kept.length === MAX_WATCHED) continue;
      known = kept;
    }
    ctx.state.set(
      watchedKey(sourceId),
      [...known, ...fresh.map(([key, { name, labels }]) => ({ series: key, name, labels }))].slice(
        0,
        MAX_WATCHED,
      ),
    );
  }
}

/** A watched series as the silence agent sees it (see watchedSeries). */
export interface WatchedSeries {
  series: string;
  name: string;
  labels: Record<string, string>;
  /** When its latest point arrived (ms, the server's clock). */
  arrived: number;
  /** Its points' usual spacing (ms): a minute for a series judged a minute at a time. */
  step: number;
  /** Points its detector has learned. */
  points: number;
}

/** The watched series of a source that the metrics agent has seen arrive (read from its state). */
export async function watchedSeries(ctx: AgentContext, sourceId: string): Promise<WatchedSeries[]> {
  const list = (await ctx.state.peek<Watched[]>("metrics", watchedKey(sourceId))) ?? [];
  const states = await ctx.state.peekAll<SeriesState>(
    "metrics",
    list.map((w) => w.series),
  );
  const out: WatchedSeries[] = [];
  for (const [i, { series, name, labels }] of list.entries()) {
    const state = states[i];
    const d = state?.detector;
    if (!state?.arrived || !d?.step || d.step <= 0) continue;
    out.push({
      series,
      name,
      labels,
      arrived: state.arrived,
      step: d.step,
      points: d.n,
    });
  }
  return out;
}

/** The metric names a source has sent (first sent first), for its settings: an action is set by name. */
export const sourceMetricsKey = (sourceId: string) => `source-metrics:${sourceId}`;
/**
 * Names kept per source. A source with more keeps its first ones (the list is then incomplete, and
 * says so): dropping old names for new ones would rewrite the list on every batch.
 */
export const MAX_SOURCE_METRICS = 500;

/**
 * Adds the batch's new metric names to their sources' lists (written only when one is new and
 * there is room); the keys are loaded with the batch's others (see the agent's run).
 */
async function rememberNames(ctx: AgentContext, bySource: Map<string, Set<string>>): Promise<void> {
  for (const [sourceId, names] of bySource) {
    const known = (await ctx.state.get<string[]>(sourceMetricsKey(sourceId))) ?? [];
    if (known.length >= MAX_SOURCE_METRICS) continue;
    const seen = new Set(known);
    const fresh = [...names].filter((n) => !seen.has(n));
    if (fresh.length > 0)
      ctx.state.set(sourceMetricsKey(sourceId), [...known, ...fresh].slice(0, MAX_SOURCE_METRICS));
  }
}

/** What this batch's notifications said of each group's alerts: group → alert → firing. */
type BatchAlerts = Map<string, Map<string, boolean>>;

/** The alerts firing on a series, and the alert cards that may wait behind the series' card. */
interface Firing {
  alerts: MetricAlert[];
  /**
   * Groups every firing alert of which fires on these series: only their cards wait behind the
   * card — a group with an alert elsewhere keeps its card, which would otherwise hide that alert.
   */
  waiting: string[];
}

/** A series by its metric's name and its labels. */
interface SeriesName {
  name: string;
  labels: Record<string, string>;
}

/**
 * The alerts firing on these series (their rule reads one of them; see alertOnSeries): a series,
 * or every series of an incident the card tells.
 */
async function firingOn(ctx: AgentContext, series: SeriesName[], batch: BatchAlerts): Promise<Firing> {
  // An alert whose rule reads two of these metrics is remembered under each: it is one alert.
  const found = new Map<string, MetricAlert>();
  for (const name of new Set(series.map((s) => s.name))) {
    const known = (await ctx.state.get<Record<string, MetricAlert>>(alertsKey(name))) ?? {};
    for (const [key, a] of Object.entries(known))
      if (a.firing && series.some((s) => s.name === name && alertOnSeries(a.refs, a.labels, s)))
        found.set(key, a);
  }
  const here = [...found];
  const told = new Set(here.map(([key]) => key));
  const waiting: string[] = [];
  for (const group of new Set(here.map(([, a]) => a.group))) {
    // The group's alerts as the alerts agent knew them before this batch, then as this batch says.
    const earlier =
      (await ctx.state.peek<{ alerts?: Record<string, { status?: string }> }>("alerts", group))?.alerts ?? {};
    const now = batch.get(group) ?? new Map<string, boolean>();
    const firing = [
      ...Object.entries(earlier)
        .filter(([k, a]) => a.status === "firing" && now.get(k) !== false)
        .map(([k]) => k),
      ...[...now].filter(([, f]) => f).map(([k]) => k),
    ];
    if (firing.every((k) => told.has(k))) waiting.push(group);
  }
  return { alerts: here.map(([, a]) => a), waiting };
}

/**
 * The series' card told with the Alertmanager alerts firing on it: one card for one trouble, the
 * alerts' own cards set aside behind it (back if it is rejected).
 */
function withAlerts(
  { alerts: firing, waiting: groups }: Firing,
  card: StashedCard,
  signal: SignalRow,
  now: Date,
): CardUpsert[] {
  const names = [...new Set(firing.map((a) => a.name))];
  const waits = groups.length
    ? `; ${plural(groups.length, "alert card")} ${groups.length > 1 ? "wait" : "waits"} behind this one`
    : "";
  const told = names.length ? `Alertmanager is firing ${names.join(", ")} on it too${waits}.` : "";
  const { head, tail, evidence, ...rest } = card;
  // It ranks at least as its alerts' cards would: the page is as bad, and as current, as it says.
  const f = rest.priorityFactors as (RankFactors & Record<string, number>) | undefined;
  const ranked =
    f && firing.length
      ? rerank(f, {
          severity: Math.max(f.severity, ...firing.map((a) => a.severity)),
          recency: Math.max(f.recency, ...firing.map((a) => recency(new Date(a.since), now))),
        })
      : {};
  const { alerts: _, ...facts } = evidence.facts ?? {};
  const joined: CardUpsert = {
    ...rest,
    ...ranked,
    summary: sentences(head, told, tail),
    evidence: {
      ...evidence,
      firstSeen: new Date(evidence.firstSeen),
      lastSeen: new Date(evidence.lastSeen),
      facts: { ...facts, ...(names.length ? { alerts: names.join(", ") } : {}) },
    },
  };
  return standFor(joined, groups, signal);
}

/**
 * The deploy's rollback card with the metric's trouble, and the alerts firing on the metric said
 * on it and set aside behind it (as withAlerts does for the metric's own card).
 */
async function rollbackWithAlerts(
  ctx: AgentContext,
  deploy: Deploy,
  t: NonNullable<SeriesState["rollback"]>,
  { alerts: firing, waiting: groups }: Firing,
  signal: SignalRow,
): Promise<CardUpsert[]> {
  const card = await rollbackCard(ctx, "metrics", deploy, {
    ...t,
    // An empty value clears what an earlier alert left (facts of joined cards accumulate).
    facts: { ...t.facts, alerts: [...new Set(firing.map((a) => a.name))].join(", ") },
    firstSeen: new Date(t.firstSeen),
    lastSeen: new Date(t.lastSeen),
    sourceId: signal.sourceId,
  });
  return standFor(card, groups, signal);
}

/**
 * Breaks this close together are one incident, told on one card: of one metric's series, or of
 * metrics in one scope (see sameScope).
 */
const INCIDENT_MS = 15 * 60_000;
/** Series an incident names on its card; more are counted. */
const INCIDENT_LISTED = 10;
/** An incident is kept under its lead's metric name. */
const incidentKey = (name: string) => `incident:${name}`;
/** The metrics whose incident may still be going, with its latest break (ms): where another metric's break looks for one. */
const LIVE_INCIDENTS = "incidents";
const MAX_LIVE = 50;

/** A series of the metric a chart is about, told apart by its labels. */
const seriesLabel = (labels: Record<string, string>) => labelText(labels) || "(no labels)";

/** A metric's other series, drawn behind the one its chart leads with. */
function drawnBehind(series: { labels: Record<string, string>; points?: [number, number][] }[]) {
  return series.map((s) => ({ label: seriesLabel(s.labels), points: s.points ?? [] }));
}

/**
 * Another metric's series as a small chart of its own, the point where it broke marked; that
 * metric's other series that broke (`more`) drawn behind it on the same axes.
 */
function chartOf(
  label: string,
  m: IncidentMember,
  more: IncidentMember[] = [],
): NonNullable<SeriesPreview["charts"]>[number] {
  const others = drawnBehind(more.slice(0, INCIDENT_LISTED));
  if (m.points.length === 0) return { label, points: [], ...(others.length ? { others } : {}) };
  // The point that surprised (it may be a few before the one that raised the alarm).
  const at = m.expected?.[0] ?? m.at;
  const found = m.points.findIndex(([t]) => t === at);
  const mark = found >= 0 ? found : m.points.length - 1;
  return {
    label,
    points: m.points,
    marks: [mark],
    ...(m.expected && found >= 0 ? { expected: [[mark, m.expected[1]] as [number, number]] } : {}),
    ...(others.length ? { others } : {}),
  };
}

/** One series' break in an incident. */
interface IncidentMember {
  series: string;
  /** Its metric (absent in incidents stored before they spanned metrics: the incident's own). */
  name?: string;
  labels: Record<string, string>;
  /** "checkout_errors rose 4×", for the title when it is another metric than the lead's, or a worse break than the lead's. */
  brief?: string;
  /** How far it is from what was expected, relative (0.38 for a drop of 38%; absent in older incidents). */
  change?: number;
  /** The source of its points, and what accepting its own card would do: another metric joins only the same. */
  source?: string;
  proposal?: string;
  /** Its source's metrics come from one service (see metricSourceSettings). */
  oneService?: boolean;
  /** "40 where about 98 was expected" */
  what: string;
  at: number;
  severity: number;
  /** Its chart's points when it broke, drawn behind the lead's. */
  points: [number, number][];
  /**
   * When the point that surprised came and what was expected of it (absent for a changed pattern,
   * and in older incidents).
   */
  expected?: [number, number];
}

/**
 * A metric's series breaking together (a deploy, a failing dependency, a zone going down): the
 * first one's card (the lead's) tells them all, instead of a card per series.
 */
interface Incident {
  lead: string;
  /** The latest break joined (ms): the incident is over when no series broke for INCIDENT_MS. */
  last: number;
  /** The lead first, then the others (the card lists them in the order they broke); at most INCIDENT_LISTED + 1. */
  members: IncidentMember[];
  /** Series that broke in it beyond those listed. */
  more: number;
}

/**
 * Two series of different metrics are in one scope when they share a label and no label they both
 * have differs (checkout_latency{service="cart"} and checkout_errors{service="cart",instance="2"}).
 * Labels with nothing in common say nothing of a common cause ({service="shop"} and {zone="a"}),
 * and neither do no labels: two unlabelled metrics breaking together may be one trouble or two, and
 * a card that hides one behind the other costs more than a second card — unless the source's
 * settings say its metrics come from one service (`oneService`): then no label is needed.
 */
export function sameScope(a: Record<string, string>, b: Record<string, string>, oneService = false): boolean {
  const shared = Object.keys(a).filter((k) => k in b);
  return (oneService || shared.length > 0) && shared.every((k) => a[k] === b[k]);
}

/** Incidents read once for a batch's lookups: each metric's own, and those that may still be going. */
interface LiveIncidents {
  /** The incident kept under each of the metrics asked for. */
  own: Map<string, Incident>;
  /** The incidents on the live list, with the metric each is kept under, the latest first. */
  recent: [string, Incident][];
}

/** The incidents kept under these metrics' names and those on the live list. */
async function liveIncidents(ctx: AgentContext, names: string[]): Promise<LiveIncidents> {
  const live = (await ctx.state.get<Record<string, number>>(LIVE_INCIDENTS)) ?? {};
  const recent = Object.keys(live).sort((a, b) => (live[b] ?? 0) - (live[a] ?? 0));
  await ctx.state.load([...new Set([...names, ...recent])].map(incidentKey));
  const read = async (n: string): Promise<Incident | undefined> => {
    const incident = await ctx.state.get<Incident>(incidentKey(n));
    return incident && { ...incident, members: incident.members.map((m) => ({ ...m, name: m.name ?? n })) };
  };
  const own = new Map<string, Incident>();
  for (const n of names) {
    const incident = await read(n);
    if (incident) own.set(n, incident);
  }
  const out: [string, Incident][] = [];
  for (const n of recent) {
    const incident = own.get(n) ?? (await read(n));
    if (incident) out.push([n, incident]);
  }
  return { own, recent: out };
}

/** Where a metric's break looks for an incident to join: its own metric's, then the latest others. */
function candidates(live: LiveIncidents, name: string): [string, Incident][] {
  const own = live.own.get(name);
  return [...(own ? [[name, own] as [string, Incident]] : []), ...live.recent.filter(([n]) => n !== name)];
}

/** The incident a series broke in, as told on its lead's card (null when it has none). */
function incidentOf(live: LiveIncidents, name: string, series: string): Incident | null {
  for (const [, incident] of candidates(live, name))
    if (incident.members.some((m) => m.series === series)) return incident;
  return null;
}

/**
 * The incident this break belongs to: a current one, when another series of the metric — or of a
 * metric in the same scope, from the same source, whose card would propose the same — broke within
 * INCIDENT_MS and its card is open (or being made in this batch); else a new one it leads. (A
 * muted series' break comes here only when it is news past the mute: a muted card would be
 * dropped, and the others' news with it.)
 */
async function joinIncident(
  ctx: AgentContext,
  name: string,
  member: IncidentMember,
  ledHere: Set<string>,
): Promise<Incident> {
  const alone: Incident = { lead: member.series, last: member.at, members: [member], more: 0 };
  const fits = (key: string, current: Incident) => {
    if (key === name || current.members.some((m) => m.name === name)) return true;
    const lead = current.members[0];
    return (
      lead?.source === member.source &&
      lead?.proposal === member.proposal &&
      current.members.some((m) => sameScope(m.labels, member.labels, member.oneService === true))
    );
  };
  let joined: [string, Incident] | null = null;
  for (const [key, current] of candidates(await liveIncidents(ctx, [name]), name)) {
    if (Math.abs(member.at - current.last) > INCIDENT_MS || !fits(key, current)) continue;
    if (
      current.lead === member.series ||
      ledHere.has(current.lead) ||
      (await ctx.openCards([current.lead])).size > 0
    ) {
      joined = [key, current];
      break;
    }
  }
  let key = name;
  let next = alone;
  if (joined) {
    const current = joined[1];
    key = joined[0];
    const known = current.members.some((m) => m.series === member.series);
    const members = known
      ? current.members.map((m) => (m.series === member.series ? member : m))
      : [...current.members, member];
    next = {
      lead: current.lead,
      last: Math.max(current.last, member.at),
      members: members.slice(0, INCIDENT_LISTED + 1),
      more: current.more + Math.max(0, members.length - INCIDENT_LISTED - 1),
    };
  } else ledHere.add(member.series);
  ctx.state.set(incidentKey(key), next);
  const live = { ...((await ctx.state.get<Record<string, number>>(LIVE_INCIDENTS)) ?? {}), [key]: next.last };
  const latest = Object.entries(live)
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_LIVE);
  ctx.state.set(LIVE_INCIDENTS, Object.fromEntries(latest));
  return next;
}

/** The series of a metric that broke after a deploy (the latest deploy any of them broke after). */
interface BrokeAfter {
  deploy: string;
  series: AfterDeploy[];
}

/** A series' break after a deploy: what the rollback card's line says of it (absent in older state). */
interface AfterDeploy {
  series: string;
  labels: Record<string, string>;
  claim?: string;
  brief?: string;
  /** How far it broke, relative: the line tells the worst series' break. */
  change?: number;
  facts?: Record<string, string | number>;
  /** When it broke (ms; absent in older state). */
  at?: number;
  /**
   * Its points from a while before the deploy, so the rollback card draws every broken series of
   * the metric, not only the one whose break reached it last (absent in older state).
   */
  points?: [number, number][];
}
const brokeAfterKey = (name: string) => `deployed:${name}`;
/** How far before a deploy a broken series' points are kept for the rollback card's chart. */
const KEEP_BEFORE_DEPLOY_MS = 3 * 3_600_000;

/** Adds this series to those of its metric that broke after the deploy; returns them all. */
async function brokeAfter(
  ctx: AgentContext,
  name: string,
  deploy: string,
  broke: AfterDeploy,
): Promise<AfterDeploy[]> {
  const known = await ctx.state.get<BrokeAfter>(brokeAfterKey(name));
  const list = known?.deploy === deploy ? known.series.filter((s) => s.series !== broke.series) : [];
  const next = [...list, broke].slice(-MAX_NAMED);
  ctx.state.set(brokeAfterKey(name), { deploy, series: next });
  return next;
}

/** Parts of a summary, a space between them, none after a part that ends its line. */
function sentences(...parts: string[]): string {
  return parts
    .filter(Boolean)
    .reduce((all, part) => (all === "" || all.endsWith("\n") ? `${all}${part}` : `${all} ${part}`), "");
}

/**
 * The lead series' card telling the incident: the other series that broke with it, in the summary,
 * the facts, the issue or the action's parameters, ranked for all of them.
 */
function incidentCard(card: StashedCard, incident: Incident | null, now: Date): StashedCard {
  if (!incident) return card;
  const others = incident.members.filter((m) => m.series !== incident.lead).sort((a, b) => a.at - b.at);
  const leadName = incident.members[0]?.name;
  const mine = (m: IncidentMember) => m.name === undefined || m.name === leadName;
  // At most one series of a metric has no labels: the others tell it apart by that. Another
  // metric's series is told by its name.
  const named = (m: IncidentMember) => (mine(m) ? seriesLabel(m.labels) : seriesText(m.name ?? "", m.labels));
  // Other metrics that broke with it, each by its first series to break (its others drawn with it).
  const metrics: IncidentMember[] = [];
  for (const m of others) if (!mine(m) && !metrics.some((x) => x.name === m.name)) metrics.push(m);
  const same = others.filter(mine).length + incident.more;
  // The lead is the first to break, not always the worst: a series that broke much further is
  // said in the title too, so the card does not read as the mildest of them.
  const lead = incident.members[0];
  const worst = others
    .filter((m) => mine(m) && m.change !== undefined && m.brief?.startsWith(`${m.name} `))
    .reduce<IncidentMember | undefined>((w, m) => ((m.change ?? 0) > (w?.change ?? 0) ? m : w), undefined);
  const worse =
    worst?.brief && lead?.change !== undefined && (worst.change ?? 0) > 2 * lead.change
      ? ` (${named(worst)}: ${figure(worst.brief, worst.name ?? "")})`
      : "";
  const also = metrics.length
    ? `, and ${metrics[0]?.brief ?? `${metrics[0]?.name} broke`}${metrics.length > 1 ? ` and ${plural(metrics.length - 1, "more metric")}` : ""}`
    : "";
  // The series whose news this card tells: rejecting it mutes them too.
  const tells = others.map((m) => m.series);
  if (others.length === 0) return { ...card, evidence: { ...card.evidence, tells } };
  const count = others.length + incident.more;
  const lines = [
    ...others.map((m) => `- ${named(m)}: ${m.what} at ${hhmm(new Date(m.at), now)}`),
    ...(incident.more > 0 ? [`- and ${incident.more} more series`] : []),
  ];
  const list = `At the same time, on ${count} more series:\n${lines.join("\n")}`;
  const change = card.change;
  const alsoOn = others.map((m) => ({
    ...(m.name ? { metric: m.name } : {}),
    labels: m.labels,
    at: new Date(m.at).toISOString(),
  }));
  const f = card.priorityFactors as (RankFactors & Record<string, number>) | undefined;
  const preview =
    card.preview?.type === "series"
      ? {
          ...card.preview,
          // On the lead's axes: only its own metric's series (another metric has its own units).
          others: drawnBehind(others.filter(mine).slice(0, INCIDENT_LISTED)),
          // Each other metric on its own small chart, its break marked, with its other series.
          ...(metrics.length
            ? {
                charts: metrics.slice(0, 4).map((m) =>
                  chartOf(
                    named(m),
                    m,
                    others.filter((x) => x !== m && !mine(x) && x.name === m.name),
                  ),
                ),
              }
            : {}),
        }
      : card.preview;
  return {
    ...card,
    preview,
    title: `${card.title}${same > 0 ? ` and on ${same} more series${worse}` : ""}${also}`,
    head: `${card.head}\n${list}\n`,
    change:
      change?.type === "webhook"
        ? { ...change, params: { ...change.params, alsoOn } }
        : change?.type === "github" && typeof change.params.body === "string"
          ? { ...change, params: { ...change.params, body: `${change.params.body}\n\n${list}` } }
          : change,
    ...(f
      ? rerank(f, {
          severity: Math.max(f.severity, ...others.map((m) => m.severity)),
          // One series is one place hurting; each more widens it (3 series ≈ 0.6, 8 ≈ 0.8).
          blastRadius: Math.max(f.blastRadius, (count + 1) / (count + 3)),
        })
      : {}),
    evidence: {
      ...card.evidence,
      tells,
      facts: {
        ...card.evidence.facts,
        series: count + 1,
        alsoOn: others.map(named).join("; "),
        ...(metrics.length ? { metrics: [leadName, ...metrics.map((m) => m.name)].join(", ") } : {}),
      },
    },
  };
}

/**
 * Alertmanager alerts join the card of the series their rule reads (its generatorURL's
 * expression names the metric, and no label of the series contradicts the alert's): each series
 * remembers its alerts, and an open card is told at once.
 */
async function joinAlerts(ctx: AgentContext, signals: SignalRow[], out: CardUpsert[]): Promise<BatchAlerts> {
  const batch: BatchAlerts = new Map();
  for (const s of signals) {
    const found = alertOf(s);
    if (!found) continue;
    const group = groupFingerprint(s.fingerprint, found.alert);
    batch.set(group, (batch.get(group) ?? new Map()).set(found.key, found.alert.status === "firing"));
  }
  const touched = new Map<string, { name: string; labels: Record<string, string>; signal: SignalRow }>();
  for (const s of signals) {
    const found = alertOf(s);
    const refs = found ? seriesOfAlert(found.alert.generatorURL) : [];
    if (!found || refs.length === 0) continue;
    const names = [...new Set(refs.map((r) => r.name))];
    await ctx.state.load(names.flatMap((n) => [namesKey(n), alertsKey(n)]));
    for (const name of names) {
      // Remembered by the metric's name, so a series that breaks later finds it too.
      const known = { ...((await ctx.state.get<Record<string, MetricAlert>>(alertsKey(name))) ?? {}) };
      delete known[found.key];
      known[found.key] = {
        group: groupFingerprint(s.fingerprint, found.alert),
        name: found.alert.labels.alertname ?? "an alert",
        firing: found.alert.status === "firing",
        labels: found.alert.labels,
        refs,
        severity: SEVERITY[found.alert.labels.severity ?? ""] ?? 0.5,
        since: Date.parse(found.alert.startsAt) || s.occurredAt.getTime(),
      };
      const keys = Object.keys(known);
      const resolved = keys.filter((k) => !known[k]?.firing);
      for (const k of [...resolved, ...keys].slice(0, Math.max(0, keys.length - MAX_ALERTS))) delete known[k];
      ctx.state.set(alertsKey(name), known);
      // The series it fires on whose card is open are told at once.
      const index = (await ctx.state.get<Record<string, Record<string, string>>>(namesKey(name))) ?? {};
      for (const [fp, labels] of Object.entries(index))
        if (alertOnSeries(refs, found.alert.labels, { name, labels }))
          touched.set(fp, { name, labels, signal: s });
    }
  }
  // A series whose break joined another's card (an incident) tells that card.
  const leads = new Map<string, { name: string; labels: Record<string, string>; signal: SignalRow }>();
  const live = await liveIncidents(ctx, [...new Set([...touched.values()].map((t) => t.name))]);
  for (const [fp, t] of touched) {
    const incident = incidentOf(live, t.name, fp);
    const lead = incident?.members[0];
    if (!incident || !lead) leads.set(fp, leads.get(fp) ?? t);
    else if (!leads.has(incident.lead))
      leads.set(incident.lead, { ...t, name: lead.name ?? t.name, labels: lead.labels });
  }
  const open = await ctx.openCards([...leads.keys()]);
  await ctx.state.load([...leads.keys()]);
  const ofLeads = await liveIncidents(ctx, [...new Set([...leads.values()].map((l) => l.name))]);
  for (const [fp, { name, labels, signal }] of leads) {
    const state = await ctx.state.get<SeriesState>(fp);
    // The series' trouble went to a deploy's rollback card: that card is told, while it is open.
    const deploy = state?.rollback
      ? await deployBefore(ctx, new Date(state.rollback.firstSeen), signal.sourceId)
      : null;
    if (state?.rollback && deploy && (await ctx.openCards([rollbackFingerprint(deploy)])).size > 0) {
      const rollback = { ...state.rollback, signalIds: [signal.id] };
      // Every series of the metric that broke after the deploy is on that card.
      const after = await ctx.state.get<BrokeAfter>(brokeAfterKey(name));
      const on = after?.deploy === rollbackFingerprint(deploy) ? after.series.map((a) => a.labels) : [labels];
      out.push(
        ...(await rollbackWithAlerts(
          ctx,
          deploy,
          rollback,
          await firingOn(
            ctx,
            on.map((l) => ({ name, labels: l })),
            batch,
          ),
          signal,
        )),
      );
      continue;
    }
    if (!state?.card || !open.has(fp)) continue;
    const evidence = { ...state.card.evidence, signalIds: [signal.id] };
    const incident = incidentOf(ofLeads, name, fp);
    const told = incident?.lead === fp ? incident : null;
    out.push(
      ...withAlerts(
        await firingOn(
          ctx,
          told ? told.members.map((m) => ({ name: m.name ?? name, labels: m.labels })) : [{ name, labels }],
          batch,
        ),
        incidentCard({ ...state.card, evidence, reopen: false }, told, ctx.now),
        signal,
        ctx.now,
      ),
    );
  }
  return batch;
}

/** A series' break as a card's line tells it. */
interface Broke {
  claim: string;
  brief: string;
  /** How far it broke, relative. */
  change: number;
  facts: Record<string, string | number>;
  /** When (ms). */
  at: number;
  /** Absent in older states. */
  level?: Level;
  /** What the team made of it is known (its card accepted, or not): it is forgotten or kept for good. */
  settled?: boolean;
  /** Points in a row back near the usual level, until the rest after its alarm ends (see settleBreak). */
  backFor?: number;
  /** The series was back long enough that the rest after its alarm ended. */
  restOver?: boolean;
  /** When its current run of points back near the usual level began (ms), while its card is undecided. */
  backSince?: number;
  /** Its open card says it came back by itself (see backByItself). */
  backTold?: boolean;
  /**
   * Since its card said it came back, its points in a row nearer the break's level than the usual
   * one: when the run began (ms), how many, and whether one came near the break's level (see brokeAgain).
   */
  again?: { since: number; points: number; deep: boolean };
  /** A rhythm that changed, not a value: its points near the usual level say nothing of it being over. */
  pattern?: boolean;
  /** Told on another series' card (an incident's lead): it has no card of its own to ask about. */
  member?: boolean;
}

/** Whether `value` is nearer `a` than `b` (a break's level, or what was usual before it). */
function closer(value: number, a: number, b: number): boolean {
  return Math.abs(value - a) < Math.abs(value - b);
}

/** A break's level (a value, or a pattern's mean) and what was usual before it. */
interface Level {
  broken: number;
  normal: number;
}

/**
 * A series broke after a deploy: the break goes to the deploy's rollback card, which tells every
 * series of the metric that broke after it — the worst one's break in its line, the others drawn
 * behind the chart. The series' state remembers it as its `rollback`.
 */
async function breakAfterDeploy(
  ctx: AgentContext,
  deploy: Deploy,
  { series, name, labels }: SeriesName & { series: string },
  state: SeriesState,
  told: {
    broke: Broke;
    preview: Preview;
    signal: SignalRow;
    alertsNow: BatchAlerts;
  },
): Promise<CardUpsert[]> {
  const { broke: b, signal } = told;
  const broke: AfterDeploy = {
    series,
    labels,
    claim: b.claim,
    brief: b.brief,
    change: b.change,
    facts: b.facts,
    at: b.at,
    points: state.tail.filter(([t]) => t >= deploy.at - KEEP_BEFORE_DEPLOY_MS),
  };
  const card = rollbackFingerprint(deploy);
  const after = await brokeAfter(ctx, name, card, broke);
  // The metric's other series that broke after the deploy, drawn behind this one.
  const others = drawnBehind(
    after.filter((a) => a.series !== series && a.points?.length).slice(-INCIDENT_LISTED),
  );
  const preview =
    others.length && told.preview.type === "series" ? { ...told.preview, others } : told.preview;
  // The line tells the series that broke furthest, not the latest to break.
  const worst = after.reduce((w, a) => ((a.change ?? 0) > (w.change ?? 0) ? a : w), broke);
  const more = after.length > 1 ? ` and on ${after.length - 1} more series` : "";
  await indexBreak(ctx, name, series, labels);
  // Judged by where it was before its first break after this deploy.
  if (b.level && state.recovery?.card !== card) {
    state.recovery = { card, ...b.level, points: [] };
    await recovering(ctx, (list) => [
      ...list.filter((r) => r.series !== series),
      { series, name, labels, since: ctx.now.getTime() },
    ]);
  }
  state.rollback = {
    what: "metric",
    key: `metric:${name}`,
    line: `${worst.claim ?? b.claim}${more}`,
    brief: after.length > 1 ? `${worst.brief ?? b.brief} on ${after.length} series` : b.brief,
    facts: { metric: name, ...(worst.facts ?? b.facts) },
    signalIds: [signal.id],
    // The metric's trouble began when its first series broke, whichever broke last.
    firstSeen: Math.min(...after.map((a) => a.at ?? b.at)),
    lastSeen: b.at,
    severity: Math.min(1, 0.4 + b.change),
    blastRadius: 0.5,
    preview,
  };
  return rollbackWithAlerts(
    ctx,
    deploy,
    state.rollback,
    await firingOn(
      ctx,
      after.map((a) => ({ name, labels: a.labels })),
      told.alertsNow,
    ),
    signal,
  );
}

/**
 * A series whose break went to a rollback card, once that card was carried out: its points from the
 * rollout's end to an hour after are kept, and tell whether it came back (see verdict). Judged at its
 * first point past the hour, or by the clock when none comes (see the agent's tick).
 */
async function judgeRecovery(
  ctx: AgentContext,
  who: SeriesName & { series: string },
  state: SeriesState,
  signals: SignalRow[],
  out: CardUpsert[],
): Promise<void> {
  const r = state.recovery;
  if (!r) return;
  const at = await carriedOutAt(ctx, state);
  if (at === undefined) return;
  for (const s of signals) {
    const t = s.occurredAt.getTime();
    if (t <= at + ROLLOUT_MS) continue;
    if (t <= at + RECOVERY_MS) {
      r.points ??= [];
      r.points.push([t, (s.payload as Point).value]);
      if (r.points.length > RECOVERY_VALUES) r.points.shift();
      continue;
    }
    await judge(ctx, who, state, at, s, out);
    return;
  }
}

/**
 * When the rollback card a series waits on was carried out (ms); undefined while it waits for a
 * decision, and (its wait forgotten) when it was dropped.
 */
async function carriedOutAt(ctx: AgentContext, state: SeriesState): Promise<number | undefined> {
  const r = state.recovery;
  if (!r) return;
  const card = (await ctx.latestCards([r.card])).get(r.card);
  if (!card || rollbackDropped(card.status)) {
    state.recovery = undefined;
    return;
  }
  return card.status === "applied" ? card.updatedAt.getTime() : undefined;
}

/**
 * The hour after the rollback (carried out at `at`) is over: its verdict is kept under the metric's
 * name, for the repository's next rollback card to say (see stoppedBefore in deploys.ts), and the
 * card that was carried out says what came of it. No point in the hour: it says it could not tell
 * (and the repository's record leaves the series out). Not back: the
 * series' next point past the hour makes its own card again.
 */
async function judge(
  ctx: AgentContext,
  { series, name, labels }: SeriesName & { series: string },
  state: SeriesState,
  at: number,
  told: SignalRow | Date,
  out: CardUpsert[],
): Promise<void> {
  const r = state.recovery;
  if (!r) return;
  state.recovery = undefined;
  const metric = seriesText(name, labels);
  const v = verdict(r, at);
  if (!v) {
    // Silence is not a recovery, nor proof of a failure (the series may come under new labels):
    // the card says it could not tell, rather than nothing.
    out.push(
      outcome(r.card, told, {
        check: `after the rollback, ${metric} came back`,
        status: "skipped",
        detail:
          "it sent no point in the hour after it (from 10 min on, the rollout's time): nothing to judge by",
      }),
    );
    return;
  }
  const { level, back, since } = v;
  const key = rolledBackKey(name);
  const known = await ctx.state.get<MetricAfterRollback>(key);
  const others = known?.card === r.card ? known.series.filter((x) => x.series !== series) : [];
  ctx.state.set(key, {
    card: r.card,
    series: [
      ...others,
      {
        series,
        back,
        said: `${metric} ended the hour near ${round(level)} where about ${round(r.normal)} was usual`,
      },
    ],
  } satisfies MetricAfterRollback);
  // The card that was carried out says what came of it.
  out.push(
    outcome(r.card, told, {
      check: `after the rollback, ${metric} came back`,
      status: back ? "passed" : "failed",
      detail: back
        ? `near ${round(level)}${since === undefined ? " in the hour after it" : ` from ${Math.round((since - at) / 60_000)} min after it`}, about ${round(r.normal)} before the break (it had gone to ${round(r.broken)})`
        : `it was near ${round(level)} at the end of the hour after it, where about ${round(r.normal)} was usual`,
    }),
  );
  if (!back) state.notBack = { after: at + RECOVERY_MS, normal: r.normal, card: r.card };
  // Back to stay: the incident is over, and it was no behaviour of the series' own — forgotten once
  // the points that told it are in the chart's tail (see forgetIncident).
  else state.forget = { broken: r.broken, normal: r.normal };
}

/**
 * Whether a series came back in the hour after its rollback (carried out at `at`): where its points
 * ended the hour — the median of its last 20 minutes (of all of them when none came then) — nearer
 * what was usual before the break than the break's level. A series that took half an hour to come
 * back came back; one that came back and broke again did not. `since`: when it came back to stay
 * (the first point from which every one is nearer the usual level), when it did. Undefined when no
 * point came in the hour.
 */
function verdict(r: Recovery, at: number): { level: number; back: boolean; since?: number } | undefined {
  const points = r.points ?? (r.values ?? []).map((value) => [Number.NaN, value] as [number, number]);
  if (points.length === 0) return;
  const end = points.filter(([t]) => t > at + RECOVERY_MS - RECOVERY_END_MS);
  const judged = (end.length > 0 ? end : points).map(([, value]) => value);
  const level = median(judged.sort((a, b) => a - b));
  const nearer = (value: number) => closer(value, r.normal, r.broken);
  const back = nearer(level);
  if (!back) return { level, back };
  let since: number | undefined;
  for (const [t, value] of points) {
    if (!nearer(value)) since = undefined;
    else since ??= Number.isNaN(t) ? undefined : t;
  }
  return { level, back, ...(since === undefined ? {} : { since }) };
}

/**
 * A copy of a series' detector from a calm time (warmed up, no alarm in its last 150 points, no
 * told break waiting on its fate), kept every CALM_EVERY points under its own key: written that
 * seldom, and read only when a break is to be forgotten (see forgetIncident).
 */
interface Calm {
  /** The time of the last point it had learned (ms). */
  at: number;
  /** Its count of points learned. */
  n: number;
  /**
   * The detector without its season: nine tenths of its size, and only ever appended to — the
   * season then is the season now less the points learned since (see forgetIncident).
   */
  detector: Omit<DetectorState, "season">;
  /** The season's last values then, to check that the season now still begins with it. */
  seasonEnd: number[];
}
const calmKey = (series: string) => `calm:${series}`;
const SEASON_CHECK = 8;
const CALM_EVERY = 60;

/** Keeps a copy of the series' detector when it is calm and the last copy is CALM_EVERY points old. */
function keepCalm(ctx: AgentContext, series: string, state: SeriesState, detector: MetricDetector): void {
  // A break whose fate is not known yet may still be forgotten: the copy stays from before it.
  if (state.recovery || (state.broke?.level && !state.broke.settled)) return;
  const d = detector.state;
  const at = d.rawTs ?? d.lastTs;
  if (at === null || d.n < DEFAULT_DETECTOR_OPTIONS.warmup) return;
  if (d.sinceAlarm < DEFAULT_DETECTOR_OPTIONS.restPoints) return;
  if (state.calmN !== undefined && d.n - state.calmN < CALM_EVERY && d.n >= state.calmN) return;
  state.calmN = d.n;
  const { season: _, ...rest } = d;
  ctx.state.set(calmKey(series), {
    at,
    n: d.n,
    detector: structuredClone(rest),
    seasonEnd: d.season.slice(-SEASON_CHECK),
  } satisfies Calm);
}

/**
 * A series whose break is over — its rollback brought it back, or the team accepted its card and
 * it came back (see settleBreak): the break was trouble, not the series' own behaviour, so its
 * detector forgets it — taken back to its last calm copy from before the break and taught
 * the points since (the chart's tail) with the broken ones as the usual level. Otherwise the break
 * it learned makes the same break by the next bad deploy a familiar shape, and its rest after an
 * alarm (150 points: twelve hours at five minutes a point) keeps quiet through it: no card. When
 * the tail does not reach back to the copy, the rest at least ends.
 */
async function forgetIncident(ctx: AgentContext, series: string, state: SeriesState): Promise<void> {
  const level = state.forget;
  if (!level) return;
  state.forget = undefined;
  const calm = await ctx.state.get<Calm>(calmKey(series));
  const first = state.tail[0];
  const now = state.detector;
  const kept = calm ? now.season.length - (now.n - calm.n) : -1;
  // The tail must reach back to the copy, and the season now begin with the copy's (not started
  // again since: history loaded first, a series turned to minutes).
  const end = calm?.seasonEnd ?? [];
  if (
    !calm ||
    !first ||
    first[0] > calm.at ||
    kept < end.length ||
    kept > now.season.length ||
    end.some((v, i) => now.season[kept - end.length + i] !== v)
  ) {
    new MetricDetector(now).endRest();
    return;
  }
  const detector = new MetricDetector({
    ...structuredClone(calm.detector),
    season: now.season.slice(0, kept),
  });
  for (const [t, v] of state.tail)
    if (t > calm.at) detector.update(closer(v, level.broken, level.normal) ? level.normal : v, t);
  // What it learned again was told already, or was the break: no rest from it.
  detector.endRest();
  state.detector = detector.state;
}

/** Points in a row back near the usual level before a told break's card is asked about. */
const BACK_POINTS = 10;
/**
 * Points in a row back near the usual level after which the rest that followed the break's alarm
 * ends: the incident is over, and a new break is told in full. The detector's short window: its
 * median then holds no broken point, so the way back is not itself a break.
 */
const REST_BACK_POINTS = 32;
/** A break whose card is still undecided this long after is no longer asked about. */
const SETTLE_MS = 7 * 86_400_000;

/** Counts the series' points back near its usual level since the break its own card told. */
function countBack(state: SeriesState, series: string, at: number, value: number): void {
  const b = state.broke;
  if (!b?.level || state.rollback || state.card?.fingerprint !== series || at <= b.at) return;
  const back = closer(value, b.level.normal, b.level.broken);
  if (!b.settled) state.backRun = back ? (state.backRun ?? 0) + 1 : 0;
  if (!back) delete b.backSince;
  else if (!b.settled) b.backSince ??= at;
  if (back || b.settled || !b.backTold) delete b.again;
  else {
    // Within a quarter of the way from the break's level, or further than it went.
    const away = b.level.broken - b.level.normal;
    const deep = (value - b.level.broken) * away >= -0.25 * away * away;
    b.again = {
      since: b.again?.since ?? at,
      points: (b.again?.points ?? 0) + 1,
      deep: deep || !!b.again?.deep,
    };
  }
  if (!b.restOver) b.backFor = back ? (b.backFor ?? 0) + 1 : 0;
}

/**
 * A break the series' own card told, the series back near its usual level for BACK_POINTS points:
 * if the team accepted the card, the break was trouble, not the series' behaviour, and is
 * forgotten like one a rollback brought back (see forgetIncident) — else the same break next time
 * is a familiar shape and makes no card. Rejected (or withdrawn): kept, so it stays familiar. Not
 * decided yet: asked again after BACK_POINTS more (given up after SETTLE_MS).
 *
 * Back for REST_BACK_POINTS, whatever was decided, the rest after the alarm ends: that incident is
 * over. The rest (150 points: two and a half hours at a minute a point) otherwise damped a new,
 * different break within it below an alarm — a card rejected as nothing, then a real outage.
 *
 * Back for BACK_POINTS while its card waits undecided: the card says so (see backByItself).
 */
async function settleBreak(ctx: AgentContext, series: string, state: SeriesState): Promise<CardUpsert[]> {
  const b = state.broke;
  if (b?.level && !b.restOver && (b.backFor ?? 0) >= REST_BACK_POINTS) {
    new MetricDetector(state.detector).endRest();
    b.restOver = true;
    delete b.backFor;
  }
  if (!b?.level || b.settled || (state.backRun ?? 0) < BACK_POINTS) return [];
  const card = (await ctx.latestCards([series])).get(series);
  // Its card is being written with this very batch (the break and its way back came in one
  // request): asked at the next one (for a week at most: a card a mute dropped never comes).
  if (!card && !b.member) {
    if (ctx.now.getTime() - b.at > SETTLE_MS) b.settled = true;
    return [];
  }
  state.backRun = 0;
  const status = card?.status ?? "";
  if (status === "pending" || status === "snoozed") {
    if (ctx.now.getTime() - b.at > SETTLE_MS) b.settled = true;
    // Its own card, telling this series alone (an incident's card tells others that may not be back),
    // and no alert firing on it (the team's own rule still says it is trouble).
    // (Told by the title the agent wrote: a model's summary may have reworded the card's.)
    const evidence = card?.evidence as { facts?: Record<string, unknown>; tells?: string[] } | undefined;
    if (
      !card ||
      !state.card ||
      evidence?.facts?.alerts ||
      (evidence?.tells?.length ?? 0) > 0 ||
      b.pattern ||
      b.backTold ||
      b.backSince === undefined
    )
      return [];
    b.backTold = true;
    return [backByItself(card, state.card, state.tail, b.backSince, ctx.now)];
  }
  b.settled = true;
  if (accepted(status)) state.forget = b.level;
  return [];
}

/**
 * An undecided metric card whose series came back near its usual level by itself: its title says
 * since when ("checkout_success dropped 38% at 14:05 UTC, back since 14:32 UTC"), and it ranks as
 * half as severe — still there to look into, no longer what to act on first.
 */
function backByItself(
  card: LatestCardView,
  own: StashedCard,
  tail: [number, number][],
  since: number,
  now: Date,
): CardUpsert {
  const f = card.priorityFactors;
  const at = new Date(since);
  const preview = chartToNow(own, tail);
  return {
    fingerprint: card.fingerprint,
    kind: own.kind,
    title: `${own.title}, back since ${hhmm(at, now)}`,
    ...(preview ? { preview } : {}),
    ...(f.severity !== undefined ? rerank(f, { severity: f.severity / 2 }) : { priority: card.priority / 2 }),
    // Its times stay the break's: at is within them (merged by earliest and latest).
    evidence: { signalIds: [], firstSeen: at, lastSeen: at, facts: { backSince: at.toISOString() } },
  };
}

/**
 * A card's chart carried on to the series' latest point (its tail), the break it marked still
 * marked — and the point at `alsoAt` too, when given. Undefined when the tail no longer holds the
 * marked point.
 */
function chartToNow(own: StashedCard, tail: [number, number][], alsoAt?: number): SeriesPreview | undefined {
  const old = own.preview?.type === "series" ? own.preview : null;
  const markAt = old?.marks?.[0] !== undefined ? old.points[old.marks[0]]?.[0] : undefined;
  const mark = markAt === undefined ? -1 : tail.findIndex(([t]) => t === markAt);
  if (!old || mark < 0) return;
  const also = alsoAt === undefined ? -1 : tail.findIndex(([t]) => t === alsoAt);
  const expected = old.expected?.[0]?.[1];
  return {
    ...old,
    points: [...tail],
    marks: also > mark ? [mark, also] : [mark],
    ...(expected !== undefined ? { expected: [[mark, expected]] } : {}),
  };
}

/**
 * Points in a row nearer its break's level after which a card that said its series came back says
 * it broke again; one point within a quarter of the way from that level (or past it) is enough.
 */
const AGAIN_POINTS = 3;

/**
 * An undecided card that said its series came back by itself (see backByItself), the series back
 * at its break's level: the card says so ("checkout_success dropped 38% at 14:05 UTC, again since
 * 16:20 UTC") and ranks as severe as it first did. The detector may not tell it — a break it saw
 * lately is a familiar shape — and a card saying "back" while the series is down again would be
 * read as over.
 */
async function brokeAgain(ctx: AgentContext, series: string, state: SeriesState): Promise<CardUpsert[]> {
  const b = state.broke;
  const again = b?.again;
  if (!b?.backTold || !again || (again.points < AGAIN_POINTS && !again.deep) || !state.card) return [];
  const card = (await ctx.latestCards([series])).get(series);
  if (card?.status !== "pending" && card?.status !== "snoozed") return [];
  b.backTold = false;
  delete b.again;
  const own = state.card;
  const since = new Date(again.since);
  const preview = chartToNow(own, state.tail, again.since);
  const f = card.priorityFactors;
  const severity = own.priorityFactors?.severity;
  return [
    {
      fingerprint: card.fingerprint,
      kind: own.kind,
      title: `${own.title}, again since ${hhmm(since, ctx.now)}`,
      ...(preview ? { preview } : {}),
      ...(severity !== undefined && f.severity !== undefined
        ? rerank(f, { severity, recency: recency(since, ctx.now) })
        : { priority: own.priority }),
      evidence: {
        signalIds: [],
        firstSeen: since,
        lastSeen: since,
        // Back since is over: the break's facts, and since when it is back at its level.
        facts: { ...own.evidence.facts, againSince: since.toISOString() },
        replaceFacts: true,
      },
    },
  ];
}

/** The end of the hour after a rollback that says where a series ended it. */
const RECOVERY_END_MS = 20 * 60_000;

/** A series waiting on a rollback card, listed for the agent's tick. */
interface Recovering extends SeriesName {
  series: string;
  /** When it went on the card (ms): one never decided is not listed for ever. */
  since: number;
}

/** Where the metrics agent lists them. */
const RECOVERING_KEY = "recovering";
/** The most it lists (the newest kept). */
const RECOVERING_MAX = 500;
/** A rollback card not carried out within this long is no longer looked at by the clock. */
const RECOVERING_MS = 7 * 86_400_000;

/** Rewrites the list of series waiting on a rollback card. */
async function recovering(ctx: AgentContext, change: (list: Recovering[]) => Recovering[]): Promise<void> {
  const list = (await ctx.state.get<Recovering[]>(RECOVERING_KEY)) ?? [];
  ctx.state.set(RECOVERING_KEY, change(list).slice(-RECOVERING_MAX));
}

/**
 * The clock's part (the agent's tick): a series on a carried-out rollback card whose hour is over
 * with no point past it yet — one that reports every quarter hour, or stopped — is judged now, on
 * the points it sent in the hour.
 */
async function judgeByClock(ctx: AgentContext, out: CardUpsert[]): Promise<void> {
  const list = (await ctx.state.get<Recovering[]>(RECOVERING_KEY)) ?? [];
  if (list.length === 0) return;
  await ctx.state.load(list.map((r) => r.series));
  const done = new Set<string>();
  for (const who of list) {
    const state = await ctx.state.get<SeriesState>(who.series);
    // Judged at a point already.
    if (!state?.recovery) {
      done.add(who.series);
      continue;
    }
    const at = await carriedOutAt(ctx, state);
    if (at !== undefined && ctx.now.getTime() > at + RECOVERY_MS) {
      await judge(ctx, who, state, at, ctx.now, out);
      await forgetIncident(ctx, who.series, state);
    }
    // Never decided: left to its points.
    else if (at === undefined && ctx.now.getTime() - who.since > RECOVERING_MS) done.add(who.series);
    if (!state.recovery) {
      done.add(who.series);
      ctx.state.set(who.series, state);
    }
  }
  if (done.size > 0) await recovering(ctx, (l) => l.filter((r) => !done.has(r.series)));
}

/** A series its rollback did not bring back: what was usual before, and after when (ms) its own card comes. */
interface NotBack {
  after: number;
  normal: number;
  /** The rollback card's fingerprint. */
  card: string;
}

/** What a series' own card says when its rollback did not bring it back. */
function notBackLine(n: NotBack): string {
  const { repository, sha } = rolledBackDeploy(n.card);
  return `The rollback of ${repository} to before ${sha} was carried out and it did not come back in the hour after.`;
}

/** The most points of the hour after a rollback a series keeps (the latest). */
const RECOVERY_VALUES = 500;

/**
 * The deploy before a series' break became known only after the break's card opened (its webhook
 * came late, or a deploy workflow reported success minutes after it began rolling out): at the
 * series' next points the break — with every series that broke in the same incident — moves to the
 * deploy's rollback card, as it would have gone then, and its own card leaves the feed. Only a
 * card still waiting for a decision moves.
 */
async function lateDeploy(
  ctx: AgentContext,
  here: {
    series: string;
    signals: SignalRow[];
    state: SeriesState;
    alertsNow: BatchAlerts;
    ledHere: Set<string>;
  },
): Promise<CardUpsert[]> {
  const { series, state } = here;
  if (!state.broke || !state.card || state.rollback || here.ledHere.has(series)) return [];
  const signal = here.signals[here.signals.length - 1] as SignalRow;
  const deploy = await deployBefore(ctx, new Date(state.broke.at), signal.sourceId);
  if (!deploy) return [];
  const { name } = signal.payload as Point;
  const incident = incidentOf(await liveIncidents(ctx, [name]), name, series);
  const lead = incident?.lead ?? series;
  if ((await ctx.latestCards([lead])).get(lead)?.status !== "pending") return [];
  // The card's story began with its lead's break: it moves when that came after the deploy.
  const leadState = lead === series ? state : await ctx.state.get<SeriesState>(lead);
  if (!leadState?.broke || leadState.broke.at < deploy.at) return [];
  const out: CardUpsert[] = [];
  for (const m of incident?.members ?? [{ series, name, labels: (signal.payload as Point).labels }]) {
    const own = m.series === series ? state : await ctx.state.get<SeriesState>(m.series);
    // Only the breaks that came after the deploy.
    if (!own?.broke || !own.card?.preview || own.rollback || own.broke.at < deploy.at) continue;
    const which = { series: m.series, name: m.name ?? name, labels: m.labels };
    const told = { broke: own.broke, preview: own.card.preview, signal, alertsNow: here.alertsNow };
    out.push(...(await breakAfterDeploy(ctx, deploy, which, own, told)));
    if (own !== state) ctx.state.set(m.series, own);
  }
  if (out.length > 0) out.push(withdrawal(lead, signal));
  return out;
}

/** The first and latest times of these points, with an earlier span's (points of a loaded past too). */
function spanOf(signals: SignalRow[], had?: [number, number]): [number, number] | undefined {
  let span = had;
  for (const s of signals) {
    const at = s.occurredAt.getTime();
    span = span ? [Math.min(span[0], at), Math.max(span[1], at)] : [at, at];
  }
  return span;
}

/**
 * A metric's replicas with each one's span as its own state has it (the stored list's latest points
 * may lag by MEMBERS_LAG_MS): read when a replica's alarm is weighed, where a pod that stopped a
 * minute ago must show as stopped.
 */
async function exactMembers(
  ctx: AgentContext,
  members: Members,
  series: string,
  state: SeriesState,
): Promise<Members> {
  const others = Object.keys(members).filter((k) => k !== series);
  await ctx.state.load(others);
  const out: Members = {};
  for (const [key, [first, last]] of Object.entries(members)) {
    const own = key === series ? state.span : (await ctx.state.get<SeriesState>(key))?.span;
    out[key] = own ? [Math.min(first, own[0]), Math.max(last, own[1])] : [first, last];
  }
  return out;
}

/**
 * The replicas that sent each metric in the batch, with the batch's points added (see Members), by
 * the metric's group key; written back.
 */
async function replicaMembers(
  ctx: AgentContext,
  bySeries: Map<string, SignalRow[]>,
): Promise<Map<string, Members>> {
  const spans = new Map<string, Map<string, [number, number]>>();
  for (const [series, signals] of bySeries) {
    const first = signals[0]?.payload as Point | undefined;
    const group = first && replicaGroupOf(first.name, first.labels);
    if (!group) continue;
    const span = spanOf(signals);
    if (!span) continue;
    const of = spans.get(group.key) ?? new Map<string, [number, number]>();
    of.set(series, span);
    spans.set(group.key, of);
  }
  const out = new Map<string, Members>();
  if (spans.size === 0) return out;
  await ctx.state.load([...spans.keys()].map(membersKey));
  for (const [group, of] of spans) {
    const stored = (await ctx.state.get<Members>(membersKey(group))) ?? {};
    const members = withMembers(stored, of);
    // Written when a replica came or went, or one's latest point is far past the stored one — not
    // at every batch: each replica's own state keeps its exact span (see exactMembers).
    if (membersMoved(stored, members)) ctx.state.set(membersKey(group), members);
    out.set(group, members);
  }
  return out;
}

/** Replicas followed whose rejected cards mute a series (see SeriesState.mutedWith). */
const MUTED_WITH = 5;

/**
 * A new replica's series (a pod a deploy started) starts from what the replica that sent the metric
 * last had learned, so it is judged from its first quarter hour instead of after 300 points of its
 * own; nothing when none had learned enough.
 */
async function startedFromSibling(
  ctx: AgentContext,
  series: string,
  members: Members,
): Promise<SeriesState | undefined> {
  const sibling = latestSibling(members, series);
  const from = sibling ? await ctx.state.get<SeriesState>(sibling) : undefined;
  if (!sibling || !from || from.detector.n < DEFAULT_DETECTOR_OPTIONS.warmup) return undefined;
  return {
    detector: inheritedState(from.detector),
    tail: [],
    ...(from.alarmLevel !== undefined ? { alarmLevel: from.alarmLevel } : {}),
    startedFrom: sibling,
    mutedWith: [sibling, ...(from.mutedWith ?? [])].slice(0, MUTED_WITH),
    // What the replica's card last told (the rejected break, when it was): a far bigger break is news.
    ...(from.mute?.shown ? { mute: { shown: from.mute.shown } } : {}),
  };
}

/**
 * Keeps a replica's alarm heard while its metric's replicas changed, to judge once they settle (the
 * first one: what was expected before the change). A changed pattern has no level to judge by.
 */
function unsettle(
  state: SeriesState,
  at: number,
  value: number,
  scored: PointScore,
  members: Members,
  step: number,
): void {
  if (state.unsettled || scored.pattern) return;
  const { value: surprised, expected: normal } = surprisedBy(scored, value);
  if (!Number.isFinite(normal)) return;
  const before = replicasAt(members, at - REPLICAS_SETTLE_MS, step);
  state.unsettled = { at, normal, value: surprised, replicas: Math.max(before, 1) };
}

/** The replica a series was started from, by its replica labels ("pod=shop-7d9f-a, instance=…"). */
function startedFromText(sibling: string, labels: Record<string, string>): string {
  const values = new Map(
    [...sibling.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)=("(?:[^"\\]|\\.)*")/g)].map(([, k, v]) => [
      k as string,
      JSON.parse(v as string) as string,
    ]),
  );
  const named = replicaLabelsOf(Object.keys(labels))
    .filter((k) => values.has(k))
    .map((k) => `${k}=${values.get(k)}`);
  return named.join(", ") || sibling;
}

/**
 * Metric anomalies: every point of every series goes through that series' streaming detector
 * (state kept between batches); a point that breaks from the series' normal behaviour opens a card
 * with the chart, the claim, and the admin's configured action for that metric (or an issue).
 */
export const metricsAgent = defineAgent({
  name: "metrics",
  reads: ["metric.point", "alert.*"],
  async tick(ctx) {
    const out: CardUpsert[] = [];
    await judgeByClock(ctx, out);
    return out;
  },
  async run(ctx, batch) {
    const out: CardUpsert[] = [];
    const alertsNow = await joinAlerts(
      ctx,
      batch.filter((s) => s.kind !== "metric.point"),
      out,
    );
    const bySeries = new Map<string, SignalRow[]>();
    const namesBySource = new Map<string, Set<string>>();
    /** Each source's series in the batch, by series key: its metric's name and labels. */
    const seriesBySource = new Map<string, Map<string, SeriesName>>();
    const names = new Set<string>();
    for (const s of batch) {
      if (s.kind !== "metric.point") continue;
      const series = bySeries.get(s.fingerprint);
      if (series) series.push(s);
      else bySeries.set(s.fingerprint, [s]);
      const { name, labels } = s.payload as Point;
      names.add(name);
      const sent = namesBySource.get(s.sourceId);
      if (sent) sent.add(name);
      else namesBySource.set(s.sourceId, new Set([name]));
      const keys = seriesBySource.get(s.sourceId) ?? new Map<string, SeriesName>();
      keys.set(s.fingerprint, { name, labels });
      seriesBySource.set(s.sourceId, keys);
    }
    await ctx.state.load([
      ...bySeries.keys(),
      ...[...names].flatMap((n) => [namesKey(n), alertsKey(n), incidentKey(n)]),
      ...[...namesBySource.keys()].flatMap((id) => [sourceMetricsKey(id), watchedKey(id)]),
      LIVE_INCIDENTS,
    ]);
    await rememberNames(ctx, namesBySource);
    await watchMapped(ctx, seriesBySource);
    const membersOf = await replicaMembers(ctx, bySeries);
    // Series that became an incident's lead in this batch: their cards are being made now.
    const ledHere = new Set<string>();
    // Series whose points end earliest first: when several break in this batch, the one that broke
    // first leads their incident's card.
    const latest = (signals: SignalRow[]) => signals.reduce((m, s) => Math.max(m, s.occurredAt.getTime()), 0);
    const ordered = [...bySeries].sort(([, a], [, b]) => latest(a) - latest(b));
    for (const [series, signals] of ordered) {
      const stored = await ctx.state.get<SeriesState>(series);
      const first = signals[0]?.payload as Point;
      const group = replicaGroupOf(first.name, first.labels);
      const members = (group && membersOf.get(group.key)) ?? {};
      const state: SeriesState = stored ??
        (group && (await startedFromSibling(ctx, series, members))) ?? {
          detector: new MetricDetector().state,
          tail: [],
        };
      signals.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
      if (group) state.span = spanOf(signals, state.span);
      /** Its metric's replicas as each one's own state says, read only when a replica's alarm is weighed. */
      let exact: Members | undefined;
      const replicas = async () => {
        exact ??= await exactMembers(ctx, members, series, state);
        return exact;
      };
      await judgeRecovery(ctx, { series, name: first.name, labels: first.labels }, state, signals, out);
      // After judgeRecovery: a series its rollback brought back has forgotten its break.
      let detector = new MetricDetector(state.detector);
      state.arrived = signals.reduce((m, x) => Math.max(m, x.receivedAt.getTime()), state.arrived ?? 0);
      /** Tells an alarm of this series: its own card, an incident's, or a line on the rollback card of the deploy before it. */
      const tell = async ({ signal, scored, outlived }: Alarm): Promise<void> => {
        const p = signal.payload as Point;
        const at = signal.occurredAt;
        const d = describe(p, at, scored, state.tail, ctx.now);
        const preview: Preview = {
          type: "series",
          label: p.name,
          points: [...state.tail],
          marks: d.marks,
          // The gap the card tells, drawn at the marked point.
          ...(d.expected && d.marks[0] !== undefined && d.marks[0] >= 0
            ? { expected: [[d.marks[0], d.expected.value]] }
            : {}),
          ...(d.span ? { span: d.span } : {}),
        };
        const claim = outlived
          ? `${d.brief} and did not come back after the rollback of ${rolledBackDeploy(outlived.card).sha}`
          : d.claim;
        const broke: Broke = {
          claim,
          brief: d.brief,
          change: d.change,
          facts: d.facts,
          at: at.getTime(),
          level: d.level,
          ...(scored.pattern ? { pattern: true } : {}),
        };
        const deploy = await deployBefore(ctx, at, signal.sourceId);
        if (deploy) {
          out.push(
            ...(await breakAfterDeploy(ctx, deploy, { series, name: p.name, labels: p.labels }, state, {
              broke,
              preview,
              signal,
              alertsNow,
            })),
          );
          return;
        }
        const settings = metricSourceSettings.safeParse(await ctx.sourceSettings(signal.sourceId));
        const conf = settings.success
          ? settings.data
          : { actions: {} as Record<string, string>, repository: undefined, oneService: false };
        const action = mappedAction(conf.actions, series, p.name);
        const labels = labelText(p.labels);
        const change: Change = action
          ? {
              type: "webhook",
              action,
              params: {
                metric: p.name,
                labels: p.labels,
                value: p.value,
                expected: scored.expected,
                at: p.ts,
              },
            }
          : conf.repository
            ? {
                type: "github",
                operation: "create_issue",
                repository: conf.repository,
                params: {
                  title: claim,
                  body: `Flick's metric detector flagged **${p.name}**${labels ? ` (${labels})` : ""} at ${p.ts}: ${d.what} (anomaly score ${scored.score.toFixed(2)}).`,
                  labels: ["anomaly"],
                },
              }
            : { type: "none" };
        const card: StashedCard = {
          fingerprint: series,
          kind: action ? "action" : change.type === "github" ? "issue" : "insight",
          title: claim,
          head: `${capitalize(d.what)}${labels ? ` (${labels})` : ""}.${outlived ? ` ${notBackLine(outlived)}` : ""}`,
          tail: action
            ? `Accept runs the **${action}** action.`
            : change.type === "github"
              ? `Accept opens an issue in ${conf.repository}.`
              : "No action is configured for this metric; an admin can map it to one in the source's settings.",
          ...rank({
            severity: Math.min(1, 0.4 + d.change),
            blastRadius: blast(signals.length),
            confidence: scored.score,
            recency: recency(at, ctx.now),
            acceptRate: await ctx.acceptRate("metrics", "metric"),
          }),
          preview,
          change,
          evidence: {
            signalIds: [signal.id],
            firstSeen: at.getTime(),
            lastSeen: at.getTime(),
            facts: {
              metric: p.name,
              ...(labels ? { labels } : {}),
              ...d.facts,
              anomalyScore: thousandths(scored.score),
            },
            // The latest alarm is the card's story: a pattern's facts do not linger beside a value's.
            replaceFacts: true,
            settingsSource: signal.sourceId,
          },
          verification: [
            {
              check: "scored against the series' own history, not a fixed threshold",
              status: "passed",
              detail: `scored ${scored.score.toFixed(2)} against ${state.detector.n} earlier points${state.startedFrom ? ` (those before this ${replicaLabelsOf(Object.keys(p.labels))[0]} began sent by ${startedFromText(state.startedFrom, p.labels)})` : ""}`,
            },
          ],
          reopen: true,
        };
        // A person rejected this series' card: the mute keeps it quiet, unless it breaks far
        // further than the break they rejected — then its card comes all the same, and says so.
        state.mute ??= {};
        const { muted, why: past } = await newsPastMute(
          ctx,
          series,
          state.mute,
          { brief: d.brief, change: d.change, at: at.getTime() },
          (now, rejected) => pastRejectedBreak(p.name, now, rejected, ctx.now),
          state.mutedWith,
        );
        if (muted && !past) return;
        await indexBreak(ctx, p.name, series, p.labels);
        // Past the mute, the card says why it comes, and keeps saying it while it is open.
        state.card = past ? { ...card, head: `${card.head} ${past}`, pastMute: true } : card;
        state.rollback = undefined;
        state.broke = broke;
        state.backRun = 0;
        const incident = await joinIncident(
          ctx,
          p.name,
          {
            series,
            name: p.name,
            labels: p.labels,
            brief: d.brief,
            change: d.change,
            source: signal.sourceId,
            ...(conf.oneService ? { oneService: true } : {}),
            proposal: action
              ? `action:${action}`
              : change.type === "github"
                ? `issue:${conf.repository}`
                : "none",
            what: d.what,
            at: at.getTime(),
            severity: Math.min(1, 0.4 + d.change),
            points: [...state.tail],
            ...(d.expected ? { expected: [d.expected.at, d.expected.value] } : {}),
          },
          ledHere,
        );
        // Another series of the metric broke moments ago: its card tells this break too.
        if (incident.lead !== series) broke.member = true;
        const lead =
          incident.lead === series ? state.card : (await ctx.state.get<SeriesState>(incident.lead))?.card;
        if (!lead) return;
        const told = {
          ...lead,
          evidence: { ...lead.evidence, signalIds: [signal.id], lastSeen: at.getTime() },
          reopen: incident.lead === series,
        };
        out.push(
          ...withAlerts(
            await firingOn(
              ctx,
              incident.members.map((m) => ({ name: m.name ?? p.name, labels: m.labels })),
              alertsNow,
            ),
            incidentCard(told, incident, ctx.now),
            signal,
            ctx.now,
          ),
        );
      };
      for (const signal of signals) {
        const p = signal.payload as Point;
        const at = signal.occurredAt;
        const alarmAt = state.alarmLevel ?? DEFAULT_DETECTOR_OPTIONS.alarmLevel;
        detector = pastFirst(state, detector, at.getTime(), p.history === true);
        const learned = detector.update(p.value, at.getTime());
        // The past is learned from, not told: its alarms start no rest that would hide a live break.
        if (p.history) detector.untold();
        // A series finer than a minute is judged, and charted, a minute at a time. (A point held
        // while that is not known yet is charted as it came: it may be the one an alarm tells of.)
        if (learned.minute) addToTail(state.tail, learned.minute.at, learned.minute.value);
        else if (!learned.held || !detector.state.fine) addToTail(state.tail, at.getTime(), p.value);
        keepCalm(ctx, series, state, detector);
        if (!p.history) countBack(state, series, at.getTime(), p.value);
        // Its rollback did not bring it back: its own card again, told against the level before the
        // break (the detector, at rest since, has begun to learn the broken level as the norm).
        const outlived = state.notBack && at.getTime() > state.notBack.after ? state.notBack : undefined;
        if (outlived) state.notBack = undefined;
        let scored: PointScore = outlived
          ? { score: Math.max(learned.score, alarmAt), expected: outlived.normal, surprise: learned.surprise }
          : learned;
        // The past a source loaded is learned from, not told: it happened before anyone watched.
        if (p.history) continue;
        if (!learned.held && detector.state.sinceAlarm === 0)
          state.restFrom = restFrom(at.getTime(), learned, p.value, detector.windowSurprise());
        else if (scored.score < alarmAt && !learned.held && detector.resting()) {
          // Within the rest after a smaller alarm, it broke far further, at once or step by step:
          // told as an alarm is, and the rest starts again from it.
          const byDay = detector.byDay();
          const further = furtherThanTold(state, learned, p.value, alarmAt)
            ? { ...learned, score: learned.undamped ?? alarmAt }
            : deepened(state, at.getTime(), learned, p.value, byDay);
          if (further) {
            scored = { ...further, score: Math.max(further.score, alarmAt) };
            detector.restAgain();
            state.restFrom = restFrom(
              at.getTime(),
              further,
              p.value,
              further.surprise,
              byDay ? undefined : state.restFrom,
            );
          }
        }
        const step = state.detector.step ?? 60_000;
        const held = state.held;
        if (held && at.getTime() >= held.at + 0.9 * step) {
          // The replica sent on, a step later: its held alarm is a break, unless it was away meanwhile
          // (a pod restarted under its name) or its metric's replicas changed (a rolling update, a
          // scale-down) — then per-replica values moved with them.
          state.held = undefined;
          // Away: more time since the point that surprised than its points in between take.
          const peak = held.scored.peak;
          const away = at.getTime() - (peak?.at ?? held.at) > ((peak?.back ?? 0) + 2.5) * step;
          if (away || replicasChanged(await replicas(), held.at - REPLICAS_SETTLE_MS, at.getTime(), step)) {
            detector.endRest();
            unsettle(state, held.at, held.point.value, held.scored, await replicas(), step);
          } else
            await tell({
              signal: { ...signal, id: held.id, payload: held.point, occurredAt: new Date(held.at) },
              scored: { ...held.scored, expected: held.scored.expected ?? Number.NaN },
              outlived: held.outlived,
            });
        }
        // (Asked only of a replica's alarm, or of one that waits for its replicas to settle.)
        const changing =
          group !== null &&
          (state.unsettled !== undefined || scored.score >= alarmAt) &&
          replicasChanged(await replicas(), at.getTime() - REPLICAS_SETTLE_MS, at.getTime(), step);
        if (state.unsettled && !changing && at.getTime() >= state.unsettled.at + REPLICAS_SETTLE_MS) {
          // The replicas settled, a quarter hour after it surprised (a pod back from a restart has
          // its own points by then): a break heard meanwhile that is still there is told now.
          const u = state.unsettled;
          state.unsettled = undefined;
          const settled = settledBreak(u, state.tail, replicasAt(await replicas(), at.getTime(), step));
          if (settled && !settled.news)
            state.settled = { ...settled, until: at.getTime() + SETTLED_QUIET_MS };
          if (settled?.news) {
            // Told as it began — at the first surprise, a deploy's minutes after it — at where it settled.
            const peak = { back: 0, at: u.at, value: settled.level, expected: u.normal };
            await tell({
              signal: { ...signal, occurredAt: new Date(u.at) },
              scored: {
                score: Math.max(scored.score, alarmAt),
                expected: u.normal,
                surprise: scored.surprise,
                peak,
              },
            });
            continue;
          }
        }
        if (scored.score < alarmAt) continue;
        const settled = state.settled && at.getTime() <= state.settled.until ? state.settled : undefined;
        if (!settled) state.settled = undefined;
        if (settled && Math.abs(surprisedBy(scored, p.value).value - settled.level) < settled.far) {
          // At the level its replicas' change left it at: the detector is still learning it.
          detector.untold();
          continue;
        }
        if (changing) {
          // While the replicas change, a replica's values are no news until they settle; no rest
          // either, so the detector goes on judging it in full.
          detector.untold();
          unsettle(state, at.getTime(), p.value, scored, await replicas(), step);
          continue;
        }
        if (group) {
          state.held = {
            id: signal.id,
            at: at.getTime(),
            point: p,
            scored,
            ...(outlived ? { outlived } : {}),
          };
          continue;
        }
        await tell({ signal, scored, outlived });
      }
      out.push(...(await lateDeploy(ctx, { series, signals, state, alertsNow, ledHere })));
      out.push(...(await brokeAgain(ctx, series, state)));
      out.push(...(await settleBreak(ctx, series, state)));
      await forgetIncident(ctx, series, state);
      ctx.state.set(series, state);
    }
    return out;
  },
});
