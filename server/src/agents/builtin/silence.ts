import type { AgentContext, CardUpsert, MetricSourceView } from "../define.ts";
import { defineAgent, outcome } from "../define.ts";
import { rank } from "../rank.ts";
import {
  deployBefore,
  RECOVERY_MS,
  rollbackCard,
  rollbackDropped,
  rollbackFingerprint,
  type Trouble,
} from "./deploys.ts";
import { mappedAction, metricSourceSettings, type WatchedSeries, watchedSeries } from "./metrics.ts";
import { replicaGroupOf, replicaLabelsOf } from "./replicas.ts";
import { clip, hhmm, labelText, seriesText } from "./words.ts";

/**
 * A metrics source that went quiet. A Prometheus or a collector sends all the time, whatever its
 * values; when it stops, every series it sent stops being watched, and the break it would have
 * shown makes no card — the worst way for Flick to fail, because nothing says so. So the clock
 * watches each of the team's metrics sources: once one has sent steadily, and then nothing for
 * five of its usual gaps (ten minutes at least), a card says so — with the request it last had
 * refused, when that is why (a rotated secret, a body it could not read). It is told once per
 * silence, and leaves the feed by itself when the source sends again. A paused source is quiet on
 * purpose; the demo's sources are not watched.
 *
 * Only metrics sources: GitHub, Sentry, Alertmanager and feedback send when something happens, so
 * their quiet is news of nothing.
 *
 * Within a source that still sends, a series its settings map to an action (one the team said
 * matters: checkout_success → rollback) that stops is told too: a service that is down sends no
 * bad values, it sends nothing — Prometheus ends the series (its scrape fails, or its recording
 * rule finds no input) — and its break would otherwise never make a card. Judged only once the
 * workers have caught up, so a backlog is not taken for a silence. Stopped within half an hour of a
 * deploy, it is one more trouble on that deploy's rollback card instead of a card of its own.
 * Series that differ only in which copy of the service sent them (a pod, an instance) are one
 * metric: a deploy replaces its pods, and their old series stop while new ones begin — that, or
 * one pod of several going away, is no news; the last of them stopping is.
 */

/** Where the agent keeps what it saw of each source. */
const WATCH_KEY = "sources";
/** Gaps remembered per source, and how many it must have before its silence is judged. */
const GAPS = 30;
const MIN_GAPS = 20;
/** A silence this short is never told, however often the source sends … */
const MIN_SILENCE_MS = 10 * 60_000;
/** … and it must last this many of the source's usual gaps. */
const USUAL_GAPS = 5;
/** A source that usually sends less often than this is not steady enough to miss. */
const MAX_USUAL_MS = 30 * 60_000;

/** What the agent remembers of one source between ticks. */
export interface SourceWatch {
  /** Its latest signal's arrival, as the last tick saw it (ms). */
  last: number;
  /** Gaps (ms) between the arrivals successive ticks saw, newest last: the source's rhythm at a tick's grain. */
  gaps: number[];
  /** The arrival whose silence was told: set while its card stands, cleared when the source sends again. */
  told?: number;
  /** Seen paused at a tick: its quiet then was on purpose. */
  paused?: boolean;
  /** When a tick first saw it enabled again after a pause (ms): its silence counts from then. */
  resumed?: number;
  /** Its mapped series whose silence was told (see SeriesTold). */
  series?: Record<string, SeriesTold>;
}

/** A mapped series whose stop was told. */
interface SeriesTold {
  /** The arrival it was told after (ms). */
  at: number;
  /** The deploy's rollback card it was told on, until what came of that rollback is said. */
  card?: string;
}

export const silenceFingerprint = (sourceId: string, series?: string) =>
  series ? `silence:${sourceId}:${series}` : `silence:${sourceId}`;

/** One metric as the team sees it: the series of it that differ only in their replica labels. */
export interface SeriesGroup extends WatchedSeries {
  /** The series it has been sent as (one per pod that sent it, as far as they are listed). */
  members: string[];
  /** The replica labels its series carry ("pod", "instance"), left out of `labels`. */
  replicas: string[];
}

/**
 * The watched series gathered by metric (see REPLICA_LABELS): the group's latest arrival is that
 * of whichever of its series sent last, so a pod replaced by another is a metric still sending. A
 * series without replica labels is a group of its own, under its own key.
 */
export function replicaGroups(watched: WatchedSeries[]): SeriesGroup[] {
  const groups = new Map<string, SeriesGroup>();
  for (const w of watched) {
    const group = replicaGroupOf(w.name, w.labels);
    const { key: series, labels, replicas } = group ?? { key: w.series, labels: w.labels, replicas: [] };
    const g = groups.get(series);
    if (!g) {
      groups.set(series, { ...w, series, labels, members: [w.series], replicas });
      continue;
    }
    g.members.push(w.series);
    g.replicas = replicaLabelsOf([...g.replicas, ...replicas]);
    g.points = Math.max(g.points, w.points);
    if (w.arrived > g.arrived) {
      g.arrived = w.arrived;
      g.step = w.step;
    }
  }
  return [...groups.values()];
}

/** The gap the source keeps to: the 90th percentile of those remembered (null until there are enough). */
export function usualGap(gaps: number[]): number | null {
  if (gaps.length < MIN_GAPS) return null;
  const sorted = [...gaps].sort((a, b) => a - b);
  return sorted[Math.floor(0.9 * (sorted.length - 1))] as number;
}

/** "every minute or more often", "about every 5 minutes" (a tick's grain is a minute). */
function every(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes <= 1 ? "every minute or more often" : `about every ${minutes} minutes`;
}

/** "12 minutes", "3 hours" */
function lasting(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  return `${Math.floor(minutes / 60)} hours`;
}

export const silenceAgent = defineAgent({
  name: "silence",
  // The clock's alone: what it judges is what does not come.
  reads: [],
  run: () => [],
  async tick(ctx) {
    const stored = (await ctx.state.get<Record<string, SourceWatch>>(WATCH_KEY)) ?? {};
    const out: CardUpsert[] = [];
    const next: Record<string, SourceWatch> = {};
    const now = ctx.now.getTime();
    const since = ctx.runningSince.getTime();
    for (const source of await ctx.metricSources()) {
      const arrived = source.lastSignalAt?.getTime();
      if (arrived === undefined) continue;
      const before = stored[source.id];
      const watch: SourceWatch = before ? { ...before } : { last: arrived, gaps: [] };
      if (!source.enabled) watch.paused = true;
      else if (watch.paused) {
        delete watch.paused;
        watch.resumed = now;
      }
      // Quiet is counted from when Flick was listening and the source was on: a restart after an
      // hour down, or an hour paused, is not an hour of the sender's silence — nor one of its gaps.
      const from = Math.max(since, watch.resumed ?? 0);
      if (before && arrived > before.last) {
        if (before.last >= from) watch.gaps = [...before.gaps, arrived - before.last].slice(-GAPS);
        watch.last = arrived;
      }
      // Sending again, or paused on purpose: its silence card, if still in the feed, is over.
      if (watch.told !== undefined && (arrived > watch.told || !source.enabled)) {
        out.push(withdrawn(silenceFingerprint(source.id), ctx.now));
        delete watch.told;
      }
      next[source.id] = watch;
      if (!source.enabled) {
        for (const series of Object.keys(watch.series ?? {}))
          out.push(withdrawn(silenceFingerprint(source.id, series), ctx.now));
        delete watch.series;
        continue;
      }
      if (watch.told !== undefined) continue;
      const usual = usualGap(watch.gaps);
      if (usual === null || usual > MAX_USUAL_MS) continue;
      const quiet = now - Math.max(arrived, from);
      if (quiet >= Math.max(MIN_SILENCE_MS, USUAL_GAPS * usual)) {
        out.push(await silenceCard(ctx, source, arrived, usual));
        watch.told = arrived;
        continue;
      }
      // The source sends: are its mapped series among what it sends?
      await seriesSilence(ctx, source, watch, from, out);
    }
    // A deleted source is forgotten, and its card, if still in the feed, taken back.
    for (const [id, watch] of Object.entries(stored)) {
      if (id in next) continue;
      if (watch.told !== undefined) out.push(withdrawn(silenceFingerprint(id), ctx.now));
      for (const series of Object.keys(watch.series ?? {}))
        out.push(withdrawn(silenceFingerprint(id, series), ctx.now));
    }
    if (JSON.stringify(next) !== JSON.stringify(stored)) ctx.state.set(WATCH_KEY, next);
    return out;
  },
});

async function silenceCard(
  ctx: AgentContext,
  source: MetricSourceView,
  arrived: number,
  usual: number,
): Promise<CardUpsert> {
  const last = new Date(arrived);
  const name = clip(source.name, 80);
  // A refusal since its last signal is the likeliest reason: the sender is sending and being told no.
  const refused = source.refused && source.refused.at.getTime() >= arrived ? source.refused : null;
  const why = refused
    ? `Its requests are being refused: the latest, at ${hhmm(refused.at, ctx.now)}, got ${refused.status}: ${clip(refused.message, 300)}`
    : "Check the sender (Prometheus: its remote_write queue and log; a collector: its process and schedule) and the way from it to Flick.";
  const { priority, priorityFactors } = rank({
    // Blind, not broken: as bad as the worst break its series could be hiding, which is unknown.
    severity: 0.6,
    blastRadius: 0.5,
    confidence: refused ? 1 : 0.8,
    recency: 1,
    acceptRate: await ctx.acceptRate("silence", "silence"),
  });
  return {
    fingerprint: silenceFingerprint(source.id),
    kind: "insight",
    title: `Nothing from ${name} since ${hhmm(last, ctx.now)}: its metrics are not being watched`,
    summary: `${name} sent ${every(usual)} until ${hhmm(last, ctx.now)}, and nothing for ${lasting(ctx.now.getTime() - arrived)} since. Until it sends again, a break in its series makes no card. ${why} This card leaves the feed by itself when the source sends again.`,
    priority,
    priorityFactors,
    ...silenceEvidence(last, ctx.now, {
      source: source.name,
      lastSignal: last.toISOString(),
      usualGapSeconds: Math.round(usual / 1000),
      ...(refused ? { refused: `${refused.status}: ${clip(refused.message, 300)}` } : {}),
    }),
  };
}

/**
 * The source's mapped series (see watchedSeries) that have sent nothing for five of their steps,
 * ten minutes at least, while the source kept sending: a card each, once; withdrawn when the series
 * sends again or is no longer mapped.
 */
async function seriesSilence(
  ctx: AgentContext,
  source: MetricSourceView,
  watch: SourceWatch,
  from: number,
  out: CardUpsert[],
): Promise<void> {
  const listed = await watchedSeries(ctx, source.id);
  if (listed.length === 0 && !watch.series) return;
  const settings = metricSourceSettings.safeParse(await ctx.sourceSettings(source.id));
  const actions = settings.success ? settings.data.actions : {};
  const watched = replicaGroups(listed);
  const told = { ...(watch.series ?? {}) };
  const now = ctx.now.getTime();
  let caughtUp: boolean | undefined;
  const seen = new Set<string>();
  for (const w of watched) {
    seen.add(w.series);
    // Mapped by name, every series of a metric is; by its labels, the first that is says.
    const action = w.members.map((m) => mappedAction(actions, m, w.name)).find(Boolean);
    let was = told[w.series];
    if (was?.card) {
      // On a rollback card: once it was carried out, whether the series came back is its outcome.
      const said = await rollbackOutcome(ctx, was.card, was.at, w);
      if (said) out.push(said);
      // A new entry, not the stored one changed in place: the state is written when it differs.
      if (said || said === null) was = told[w.series] = { at: was.at };
    }
    if (was !== undefined && (w.arrived > was.at || !action)) {
      // Its own card leaves the feed; a rollback card stays (it may tell more than this series).
      if (!was.card) out.push(withdrawn(silenceFingerprint(source.id, w.series), ctx.now));
      delete told[w.series];
    }
    if (!action || told[w.series] !== undefined) continue;
    if (w.points < MIN_GAPS || w.step > MAX_USUAL_MS) continue;
    if (now - Math.max(w.arrived, from) < Math.max(MIN_SILENCE_MS, USUAL_GAPS * w.step)) continue;
    // Behind on the signals that came: the series' latest may be among them. The others are still
    // gone through (their cards taken back, their outcomes said), and what was told is kept.
    caughtUp ??= await ctx.caughtUp();
    if (!caughtUp) continue;
    // Stopped minutes after a deploy: that deploy's rollback card tells it, with whatever else
    // broke after it — one card, not two.
    const deploy = await deployBefore(ctx, new Date(w.arrived), source.id);
    out.push(
      deploy
        ? await rollbackCard(ctx, "silence", deploy, stoppedTrouble(ctx, source, w))
        : await seriesCard(ctx, source, w, action),
    );
    told[w.series] = deploy ? { at: w.arrived, card: rollbackFingerprint(deploy) } : { at: w.arrived };
  }
  // A series no longer listed (its state gone): its card goes too.
  for (const series of Object.keys(told))
    if (!seen.has(series)) {
      out.push(withdrawn(silenceFingerprint(source.id, series), ctx.now));
      delete told[series];
    }
  if (Object.keys(told).length > 0) watch.series = told;
  else delete watch.series;
}

/**
 * What came of the rollback card a stopped series was told on: once it was carried out, the series
 * sending again within the hour after is a ✓, nothing in that hour a ✗ (told by the clock). Returns
 * the check to add, null when there is nothing more to wait for (the card was rejected, failed,
 * withdrawn), undefined while waiting (not decided yet, or within the hour).
 */
async function rollbackOutcome(
  ctx: AgentContext,
  fingerprint: string,
  stopped: number,
  w: SeriesGroup,
): Promise<CardUpsert | null | undefined> {
  const card = (await ctx.latestCards([fingerprint])).get(fingerprint);
  if (!card || rollbackDropped(card.status)) return null;
  if (card.status !== "applied") return undefined;
  const at = card.updatedAt.getTime();
  const check = `after the rollback, ${clip(seriesText(w.name, w.labels), 120)} sent again`;
  if (w.arrived > at)
    return outcome(fingerprint, ctx.now, {
      check,
      status: "passed",
      // The latest arrival a tick saw: it was sending by then (within a minute of coming back).
      detail: `it was sending again ${Math.max(0, Math.round((w.arrived - at) / 60_000))} min after it (it had sent nothing since ${hhmm(new Date(stopped), ctx.now)})`,
    });
  if (ctx.now.getTime() <= at + RECOVERY_MS) return undefined;
  return outcome(fingerprint, ctx.now, {
    check,
    status: "failed",
    detail: "it sent nothing in the hour after it",
  });
}

/** A mapped series that stopped, as one trouble on a deploy's rollback card. */
function stoppedTrouble(ctx: AgentContext, source: MetricSourceView, w: SeriesGroup): Trouble {
  const last = new Date(w.arrived);
  const scope = labelText(w.labels);
  return {
    what: "metric",
    key: `metric:${w.name}`,
    line: `${clip(seriesText(w.name, w.labels), 120)} stopped: nothing${fromAny(w)} since ${hhmm(last, ctx.now)} (its points came ${every(w.step)}; ${clip(source.name, 80)} still sends its other series)`,
    brief: `${w.name} stopped`,
    facts: { metric: w.name, ...(scope ? { labels: scope } : {}), lastPoint: last.toISOString() },
    signalIds: [],
    firstSeen: last,
    lastSeen: ctx.now,
    severity: 0.8,
    blastRadius: 0.5,
    sourceId: source.id,
  };
}

/** " from any pod" for a metric sent by replicas, else nothing. */
function fromAny(w: SeriesGroup): string {
  return w.replicas[0] ? ` from any ${w.replicas[0]}` : "";
}

async function seriesCard(
  ctx: AgentContext,
  source: MetricSourceView,
  w: SeriesGroup,
  action: string,
): Promise<CardUpsert> {
  const last = new Date(w.arrived);
  const scope = labelText(w.labels);
  const metric = clip(seriesText(w.name, w.labels), 120);
  const copies =
    w.members.length > 1
      ? ` (from ${w.members.length} different ${w.replicas[0] ?? "series"}s over time)`
      : "";
  const name = clip(source.name, 80);
  const { priority, priorityFactors } = rank({
    // A metric the team maps to an action, gone: most often its service is down.
    severity: 0.8,
    blastRadius: 0.5,
    confidence: 0.7,
    recency: 1,
    acceptRate: await ctx.acceptRate("silence", "silence"),
  });
  return {
    fingerprint: silenceFingerprint(source.id, w.series),
    kind: "insight",
    title: `${metric} stopped: nothing${fromAny(w)} since ${hhmm(last, ctx.now)}`,
    summary: `Its points came ${every(w.step)}${copies} until ${hhmm(last, ctx.now)}; none for ${lasting(ctx.now.getTime() - w.arrived)} since, while ${name} kept sending its other series. Its service is likely down or unreachable (Prometheus ends a series when its scrape fails), or the series was renamed. It is mapped to the action "${clip(action, 80)}", but no break in it can make a card until it sends again; this card then leaves the feed by itself.`,
    priority,
    priorityFactors,
    ...silenceEvidence(last, ctx.now, {
      metric: w.name,
      ...(scope ? { labels: scope } : {}),
      source: source.name,
      lastPoint: last.toISOString(),
      stepSeconds: Math.round(w.step / 1000),
      ...(w.replicas.length > 0
        ? { replicaLabels: w.replicas.join(", "), seriesSeen: w.members.length }
        : {}),
    }),
  };
}

/** A silence card's evidence: no signal (it is what did not come), from the last arrival to now. */
function silenceEvidence(
  last: Date,
  now: Date,
  facts: Record<string, string | number>,
): Pick<CardUpsert, "evidence" | "reopen"> {
  return {
    evidence: { signalIds: [], firstSeen: last, lastSeen: now, facts },
    // Each silence is news of its own, whatever was decided about the last one.
    reopen: true,
  };
}

function withdrawn(fingerprint: string, at: Date): CardUpsert {
  return {
    fingerprint,
    kind: "insight",
    title: "",
    priority: 0,
    evidence: { signalIds: [], firstSeen: at, lastSeen: at },
    withdraw: true,
  };
}
