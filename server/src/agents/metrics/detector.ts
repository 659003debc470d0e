/**
 * A streaming anomaly detector for one metric series. Each point is scored as it arrives, from
 * what came before it only (no look-ahead). The state is plain JSON so it can be stored between
 * batches and picked up by any worker.
 *
 * How a point is scored:
 *  1. Surprise: three distances from what history predicts — the value against the median of the
 *     last points, the mean of the last few points against that median (a level shift), and the
 *     value against the points around the same time yesterday when the series is regular (daily
 *     seasonality; then a value or a level that matches yesterday's is not a break) — each as a
 *     z-score against its own exponentially weighted history, which learns an outlier only up to a
 *     cap; the largest one counts. A value beyond the whole range seen so
 *     far is an anomaly by itself.
 *  2. Shape: the last few points (value included) are compared with every stretch of the same
 *     length in the remembered history; the distance to the closest one, as a z-score against its
 *     own history, says how new the shape is. A jump the series has made before (a daily spike, a
 *     batch job) is a familiar shape; a break is not. The point's surprise is the geometric mean
 *     of the two, so it has to be both far from the recent level and unlike anything seen.
 *  3. Likelihood: the surprise is averaged over a short window and compared with the distribution
 *     of those averages over the long history, so a noisy series needs a bigger jump than a calm
 *     one (the idea behind Numenta's "anomaly likelihood"), and over the last few hundred points
 *     too: it must stand out against both, so a series that has turned restless needs a bigger
 *     jump than it did when calm.
 *  4. Slow view: a few hours of points at a time are summarised as a block; the last two blocks
 *     are compared with every earlier pair. A rhythm the series never had (spikes coming closer
 *     together, a steady machine starting to oscillate) alarms here although each point and each
 *     short shape is familiar.
 *  5. Rest: after an alarm, the detector stays quiet for a while (the slow view until its blocks
 *     look familiar again), so one incident is one alarm.
 *
 * A series finer than a minute (Prometheus's 15 s scrape) is judged a minute at a time: its points
 * are averaged per wall-clock minute and each minute's mean is scored once the next minute begins.
 * Every window above counts points, tuned on series a minute or more apart; at 15 s a day is 5,760
 * points — past the season's memory — and "the last few hundred points" an hour and a half, so
 * such a series alarmed every morning at its climb.
 */

export interface DetectorOptions {
  /** Points in the short robust window. */
  shortWindow: number;
  /** Points averaged before the likelihood is taken. */
  averageWindow: number;
  /** Horizon (points) of the exponentially weighted history the likelihood compares against. */
  historyWindow: number;
  /** Horizon (points) of the short history the averaged surprise must also stand out against. */
  recentWindow: number;
  /** Points before any score other than 0 is given. */
  warmup: number;
  /** Points after an alarm during which scores are damped. */
  restPoints: number;
  /** The score at or above which a point counts as an alarm (for rest and for cards). */
  alarmLevel: number;
  /** Points averaged for the level-shift feature. */
  shiftWindow: number;
  /** Longest season (points per day) remembered. */
  maxPeriod: number;
  /** Points either side of the same time yesterday whose median is the seasonal expectation. */
  seasonRadius: number;
  /** Score given to a value beyond the whole range seen so far. */
  novelScore: number;
  /** Points in a shape (the last few values, this one included). */
  shapeWindow: number;
  /** Latest values searched for a matching shape (taken from the season's memory, so ≤ maxPeriod). */
  shapeHistory: number;
  /** The newest shapes left out of the match (they overlap the current one). */
  shapeExclude: number;
  /** Points summarised per block for the slow view (used when the series has no daily period). */
  blockPoints: number;
  /** Blocks per day when the series has a daily period (the block is then a fixed share of a day). */
  blocksPerDay: number;
  /** Consecutive blocks compared as one slow pattern. */
  blockWindow: number;
  /** Blocks remembered for the slow match. */
  blockHistory: number;
  /** The slow pattern's novelty (z-score) at which its score is 0.5. */
  blockHalfZ: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  shortWindow: 32,
  averageWindow: 10,
  historyWindow: 20000,
  recentWindow: 400,
  warmup: 300,
  restPoints: 150,
  alarmLevel: 0.44,
  shiftWindow: 8,
  maxPeriod: 1440,
  seasonRadius: 1,
  novelScore: 0.6,
  shapeWindow: 8,
  shapeHistory: 1000,
  shapeExclude: 4,
  blockPoints: 36,
  blocksPerDay: 8,
  blockWindow: 2,
  blockHistory: 720,
  blockHalfZ: 8,
};

/** Shape distances learned before they count towards the surprise. */
const SHAPE_WARMUP = 50;
/**
 * A feature's history learns a value at most this many standard deviations above its mean, so one
 * huge outlier does not inflate the spread for thousands of points and hide every later break.
 */
const FEATURE_CLIP = 5;

interface Stat {
  n: number;
  mean: number;
  /** Variance. */
  v: number;
}

export interface DetectorState {
  n: number;
  recent: number[];
  surprises: number[];
  season: number[];
  step: number | null;
  feature: Stat[];
  avgHistory: Stat;
  /** The averaged surprise's recent history (absent in states stored before it was added). */
  avgRecent?: Stat;
  min: number;
  max: number;
  sinceAlarm: number;
  lastTs: number | null;
  /** History of shape distances; absent in states stored before shapes were added. */
  shapeStat?: Stat;
  /** The slow view; absent in states stored before it was added. */
  blocks?: BlockState;
  /** When each point in `surprises` came and what history predicted for it (absent in older states). */
  expectations?: [number, number][];
  /** Set once points came less than a minute apart three times in a row: then judged a minute at a time. */
  fine?: boolean;
  /** Gaps under a minute in a row so far (until `fine`). */
  shortGaps?: number;
  /**
   * Points that came less than a minute after the one before, held while it is not known yet
   * whether the series is judged a minute at a time (see update): scored one by one if not.
   */
  early?: [number, number][];
  /** The time of the latest point given to update (its minute may not be scored yet). */
  rawTs?: number;
  /** The minute being gathered: its sum, count and latest point's time (a fine series only). */
  minute?: { slot: number; sum: number; count: number; ts: number };
}

const MINUTE_MS = 60_000;
/** Points the season's memory keeps beyond the longest season. */
const SEASON_SLACK = 60;

interface BlockState {
  /** Which time slot the block being filled covers (timestamp ÷ block span). */
  slot: number | null;
  /** Values of the block being filled. */
  current: number[];
  /** Mean, 90th and 10th percentile of each finished block, flattened, oldest first. */
  summary: number[];
  /** History of slow-pattern distances. */
  stat: Stat;
  /** Set by an alarm; cleared by the next block that looks familiar. */
  quiet: boolean;
}

const BLOCK_FEATURES = 3;
/** A slow pattern this close to one seen before (as a z-score) ends the quiet after an alarm. */
const FAMILIAR_Z = 2;
/**
 * The least spread (in units of the series' range) the slow distances are measured against: a
 * perfectly regular series repeats its blocks almost exactly, and a block that differs by a
 * fraction of a percent (one point missing) must not look like a thousand standard deviations.
 */
const BLOCK_MIN_SPREAD = 0.002;

export interface PointScore {
  score: number;
  /** The value the recent history predicted, for the preview ("dropped 38%"). */
  expected: number;
  surprise: number;
  /**
   * The score is an average over the last few points, so it can cross the alarm level a few points
   * after the point that surprised: then that point, `back` points before this one, with what was
   * expected of it — the card tells of it, not of an ordinary value that happened to follow.
   */
  peak?: { back: number; at: number; value: number; expected: number };
  /** Set when the slow view gave the score: a stretch of hours unlike any before, not one value. */
  pattern?: PatternChange;
  /**
   * A series finer than a minute: the minute this score is of (the time of its latest point and
   * its mean), scored as the next minute began; `peak` then tells of it too.
   */
  minute?: { at: number; value: number };
  /** A series finer than a minute: this point waits for its minute to end (score 0 for now). */
  held?: true;
  /**
   * The score before the rest after an alarm damped it, while it did: a break far larger than the
   * one that alarmed is news within the rest too (the agent weighs it; see restAgain).
   */
  undamped?: number;
}

/** What the slow view saw: the latest blocks against the closest earlier stretch. */
export interface PatternChange {
  /** When the changed stretch began (epoch ms). */
  since: number;
  /** Mean and 90th percentile of the changed stretch. */
  mean: number;
  p90: number;
  /** The same for the most similar stretch the series had before. */
  closestMean: number;
  closestP90: number;
  /** How far back the comparison reached (ms). */
  searched: number;
}

interface SlowMatch extends PatternChange {
  score: number;
}

export function newDetectorState(): DetectorState {
  return {
    n: 0,
    recent: [],
    surprises: [],
    season: [],
    step: null,
    feature: [],
    avgHistory: { n: 0, mean: 0, v: 0 },
    avgRecent: { n: 0, mean: 0, v: 0 },
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    sinceAlarm: Number.MAX_SAFE_INTEGER,
    lastTs: null,
    shapeStat: { n: 0, mean: 0, v: 0 },
  };
}

/**
 * Another series' learned state to start a new one from (a new pod of the same metric): what it
 * learned, without its latest point's moment, its unfinished minute or the rest after its alarm.
 */
export function inheritedState(from: DetectorState): DetectorState {
  const s = structuredClone(from);
  s.lastTs = null;
  s.rawTs = undefined;
  s.minute = undefined;
  s.shortGaps = undefined;
  s.early = undefined;
  s.sinceAlarm = Number.MAX_SAFE_INTEGER;
  return s;
}

/** The median of values sorted ascending. */
export function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[m] as number) : ((sorted[m - 1] as number) + (sorted[m] as number)) / 2;
}

/** Upper tail of the standard normal: P(Z > z). */
export function normalTail(z: number): number {
  // Numerical Recipes erfcc, fractional error < 1.2e-7.
  const x = z / Math.SQRT2;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.5 * ax);
  const r =
    t *
    Math.exp(
      -ax * ax -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? r : 2 - r;
  return erfc / 2;
}

export class MetricDetector {
  readonly state: DetectorState;
  private readonly options: DetectorOptions;

  constructor(state?: DetectorState, options: Partial<DetectorOptions> = {}) {
    this.state = state ?? newDetectorState();
    this.options = { ...DEFAULT_DETECTOR_OPTIONS, ...options };
  }

  /**
   * Scores one point (0 = normal … 1 = certainly anomalous) and learns from it. A series finer than
   * a minute: the point joins its minute, and the score returned (if any) is the last minute's.
   */
  update(value: number, timestamp: number): PointScore {
    const s = this.state;
    const late = s.rawTs !== undefined && timestamp < s.rawTs;
    if (!late && !s.fine && s.rawTs !== undefined) {
      // Three gaps in a row under a minute (a repeated time is no gap): from here on a minute at
      // a time, so a day is 1,440 of what it learns from — also after history loaded a minute apart.
      const gap = timestamp - s.rawTs;
      s.shortGaps = gap > 0 && gap < MINUTE_MS ? (s.shortGaps ?? 0) + 1 : 0;
      if (s.shortGaps >= 3) {
        s.fine = true;
        // A state stored before minutes were judged learned its points one by one: its season
        // (and shapes) were of points, not minutes, and start again.
        if (s.step !== null && s.step > 0 && s.step < MINUTE_MS) s.season = [];
        s.step = MINUTE_MS;
        s.shortGaps = undefined;
        // The points held meanwhile are of this minute, as far as it goes.
        const slot = Math.floor(timestamp / MINUTE_MS);
        for (const [t, v] of s.early ?? [])
          if (Math.floor(t / MINUTE_MS) === slot)
            s.minute =
              s.minute?.slot === slot
                ? { slot, sum: s.minute.sum + v, count: s.minute.count + 1, ts: t }
                : { slot, sum: v, count: 1, ts: t };
        s.early = undefined;
      } else if (s.shortGaps > 0 && s.step !== null && s.step >= MINUTE_MS) {
        // Less than a minute after the point before, in a series learned a minute apart or more
        // (history loaded a minute apart, then a scraper's live points seconds apart): held until
        // the next gaps tell whether it is judged a minute at a time — a few seconds' points
        // judged each as a minute of its own look like a break.
        s.early = [...(s.early ?? []), [timestamp, value]];
        s.rawTs = timestamp;
        return { ...this.expecting(value), held: true };
      }
    }
    if (late) return this.lateScore(value);
    if (!s.fine) {
      s.rawTs = timestamp;
      return this.released(value, timestamp);
    }
    s.rawTs = timestamp;
    const slot = Math.floor(timestamp / MINUTE_MS);
    const m = s.minute;
    if (m && m.slot === slot) {
      m.sum += value;
      m.count++;
      m.ts = timestamp;
      return { ...this.expecting(value), held: true };
    }
    s.minute = { slot, sum: value, count: 1, ts: timestamp };
    if (!m) return { ...this.expecting(value), held: true };
    const mean = m.sum / m.count;
    const scored = this.score(mean, m.ts);
    return {
      ...scored,
      minute: { at: m.ts, value: mean },
      peak: scored.peak ?? { back: 0, at: m.ts, value: mean, expected: scored.expected },
    };
  }

  /**
   * Scores a point of a series judged point by point, after the points held before it (see
   * `early`): then the most surprising of them is told, as the point the score is of (its peak).
   */
  private released(value: number, timestamp: number): PointScore {
    const held = this.state.early;
    if (!held?.length) return this.score(value, timestamp);
    this.state.early = undefined;
    let worst: { at: number; value: number; scored: PointScore } | undefined;
    for (const [t, v] of held) {
      const scored = this.score(v, t);
      if (!worst || scored.score > worst.scored.score) worst = { at: t, value: v, scored };
    }
    const scored = this.score(value, timestamp);
    if (!worst || scored.score >= worst.scored.score) return scored;
    const { peak, ...rest } = worst.scored;
    return {
      ...rest,
      peak: peak ?? { back: 0, at: worst.at, value: worst.value, expected: worst.scored.expected },
    };
  }

  /**
   * The last point's alarm was told to nobody (it was of the series' past, loaded as history): it
   * starts no rest, so the live points after it are judged in full — a rest of 150 points is two
   * and a half hours of a series judged a minute at a time.
   */
  untold(): void {
    if (this.state.sinceAlarm === 0) this.endRest();
  }

  /**
   * The incident the last alarm began is over (its series came back after its rollback): the rest
   * that kept the rest of that incident from alarming again ends, so a new break is told at once.
   */
  endRest(): void {
    this.state.sinceAlarm = Math.max(this.state.sinceAlarm, this.options.restPoints);
  }

  /**
   * The last point's alarm, damped by the rest, was told all the same (a break far larger than the
   * one the rest followed): the rest starts again from it, as from any alarm.
   */
  restAgain(): void {
    this.state.sinceAlarm = 0;
    if (this.state.blocks) this.state.blocks.quiet = true;
  }

  /** Within the rest after an alarm (see restAgain). */
  resting(): boolean {
    return this.state.sinceAlarm < this.options.restPoints;
  }

  /** What it expects of a point is the series at this time yesterday (it has a day of points). */
  byDay(): boolean {
    const period = this.period();
    return period !== null && this.state.season.length > period;
  }

  /** The largest surprise among the points the score is averaged over (an alarm's, just after it). */
  windowSurprise(): number {
    return Math.max(0, ...this.state.surprises);
  }

  /**
   * A late, out-of-order point: the detector has moved past its moment, so it learns nothing from
   * it and its short-term surprise cannot be told; but a value beyond anything the series ever did
   * is an anomaly whenever it arrives.
   */
  private lateScore(value: number): PointScore {
    const late = this.expecting(value);
    return { ...late, score: this.beyondRange(value) ? this.options.novelScore : 0 };
  }

  /** What the recent points predict, for a point that is not scored (yet). */
  private expecting(value: number): PointScore {
    const s = this.state;
    const expected = s.recent.length ? median([...s.recent].sort((a, b) => a - b)) : value;
    return { score: 0, expected, surprise: 0 };
  }

  private score(value: number, timestamp: number): PointScore {
    const s = this.state;
    const o = this.options;
    if (s.lastTs !== null && timestamp < s.lastTs) return this.lateScore(value);
    if (s.lastTs !== null && s.step === null) s.step = timestamp - s.lastTs;
    s.lastTs = timestamp;

    // Features: each is a distance from what history predicts, in the series' own units.
    const features: number[] = [];
    let expected = value;
    if (s.recent.length >= 4) {
      const sorted = [...s.recent].sort((a, b) => a - b);
      const med = median(sorted);
      const range = Math.max(s.max - s.min, Math.abs(med) * 1e-3, 1e-9);
      expected = med;
      features.push(Math.abs(value - med) / range);
      const last = s.recent.slice(-o.shiftWindow);
      const recentMean = (last.reduce((a, b) => a + b, 0) + value) / (last.length + 1);
      features.push(Math.abs(recentMean - med) / range);
      const period = this.period();
      if (period && s.season.length >= period) {
        // The median of the points around the same time yesterday: one noisy point is not the norm.
        const at = s.season.length - period;
        const around = s.season.slice(Math.max(0, at - o.seasonRadius), at + o.seasonRadius + 1);
        const prior = median(around.sort((a, b) => a - b));
        const seasonal = Math.abs(value - prior) / range;
        // What the series did at this time yesterday explains a value, or a level, as well as the
        // last few points do: a count that falls every evening is not a drop.
        features[0] = Math.min(features[0] as number, seasonal);
        if (at >= last.length) {
          let sum = 0;
          for (let k = at - last.length; k <= at; k++) sum += s.season[k] as number;
          features[1] = Math.min(
            features[1] as number,
            Math.abs(recentMean - sum / (last.length + 1)) / range,
          );
        }
        features.push(seasonal);
        expected = prior;
      }
    }

    let surprise = 0;
    features.forEach((f, i) => {
      if (!s.feature[i]) s.feature[i] = { n: 0, mean: 0, v: 0 };
      surprise = Math.max(surprise, zScore(s.feature[i] as Stat, f, o.historyWindow));
    });
    const shape = this.shapeDistance(value);
    if (shape !== null) {
      s.shapeStat ??= { n: 0, mean: 0, v: 0 };
      const stat = s.shapeStat;
      const z = zScore(stat, shape, o.historyWindow);
      // Until the distances have a history of their own, the shape neither adds nor takes away.
      if (stat.n > SHAPE_WARMUP) surprise = Math.sqrt(surprise * z);
    }
    const novel = this.beyondRange(value);

    s.surprises.push(surprise);
    if (s.surprises.length > o.averageWindow) s.surprises.shift();
    const avg = s.surprises.reduce((a, b) => a + b, 0) / s.surprises.length;
    s.expectations ??= [];
    s.expectations.push([timestamp, expected]);
    if (s.expectations.length > s.surprises.length)
      s.expectations.splice(0, s.expectations.length - s.surprises.length);
    const peak = this.peak();

    let score = 0;
    const h = s.avgHistory;
    if (s.n >= o.warmup && h.n > 10) {
      const std = Math.sqrt(h.v);
      let z = (avg - h.mean) / Math.max(std, 1e-4);
      // Against the last few hundred points as well: a restless stretch (or the aftermath of an
      // incident) raises the bar, where the long history alone would alarm again and again.
      const r = s.avgRecent;
      if (r && r.n > 10) z = Math.min(z, (avg - r.mean) / Math.max(Math.sqrt(r.v), 1e-4));
      const likelihood = 1 - normalTail(z);
      score = Math.log(1.0000000001 - likelihood) / Math.log(1 - 0.9999999999);
      score = Math.max(0, Math.min(1, score));
    }
    if (novel) score = Math.max(score, o.novelScore);
    const slow = this.blockScore(value, timestamp);
    let pattern: PatternChange | undefined;
    if (slow !== null && s.n >= o.warmup && !s.blocks?.quiet && slow.score > score) {
      const { score: slowScore, ...change } = slow;
      score = slowScore;
      pattern = change;
    }
    const undamped = score;
    if (s.sinceAlarm < o.restPoints) score *= s.sinceAlarm / o.restPoints;
    s.sinceAlarm = score >= o.alarmLevel ? 0 : Math.min(s.sinceAlarm + 1, Number.MAX_SAFE_INTEGER);
    // A series that broke stays new to the slow view until the new rhythm has filled its memory;
    // that is one incident, so the slow view keeps quiet until a block looks familiar again.
    if (s.sinceAlarm === 0 && s.blocks) s.blocks.quiet = true;

    // Learn.
    s.n++;
    s.recent.push(value);
    if (s.recent.length > o.shortWindow) s.recent.shift();
    s.season.push(value);
    // A day and an hour: yesterday's shapes at this hour are still there to match (see shapeDistance).
    if (s.season.length > o.maxPeriod + SEASON_SLACK) s.season.shift();
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
    addStat(h, avg, o.historyWindow);
    s.avgRecent ??= { n: 0, mean: 0, v: 0 };
    addStat(s.avgRecent, avg, o.recentWindow);
    const damped = undamped > score ? { undamped } : {};
    if (pattern) return { score, expected, surprise, pattern, ...damped };
    return peak ? { score, expected, surprise, peak, ...damped } : { score, expected, surprise, ...damped };
  }

  /**
   * Beyond the whole range seen so far (after the warm-up): an anomaly by itself. By 5% of the
   * range and by 1% of the series' size: after a nearly flat past (98.0–98.34), 98.4 is not a
   * break — and its alarm's rest would hide a real one right after it. NAB's scores are the same
   * either way.
   */
  private beyondRange(value: number): boolean {
    const s = this.state;
    const margin = Math.max(
      0.05 * Math.max(s.max - s.min, 1e-9),
      0.01 * Math.max(Math.abs(s.max), Math.abs(s.min)),
    );
    return s.n >= this.options.warmup && (value > s.max + margin || value < s.min - margin);
  }

  /** The most surprising of the averaged points when it is not the newest (see PointScore.peak). */
  private peak(): PointScore["peak"] {
    const s = this.state;
    const e = s.expectations ?? [];
    let at = s.surprises.length - 1;
    for (let k = 0; k < s.surprises.length; k++)
      if ((s.surprises[k] as number) > (s.surprises[at] as number)) at = k;
    const back = s.surprises.length - 1 - at;
    // `recent` does not hold the newest point yet: one back is its last value.
    const value = s.recent[s.recent.length - back];
    const seen = e[e.length - 1 - back];
    if (back === 0 || value === undefined || seen === undefined) return undefined;
    return { back, at: seen[0], value, expected: seen[1] };
  }

  /**
   * Root-mean-square distance, in units of the range seen, from the shape ending in `value` to the
   * closest earlier shape in the history; null until the history holds enough to compare.
   */
  private shapeDistance(value: number): number | null {
    const s = this.state;
    const { shapeWindow: m, shapeExclude } = this.options;
    const history = s.season;
    const n = history.length;
    if (n < m + 20) return null;
    let best = Number.POSITIVE_INFINITY;
    // Back to yesterday at this hour at least: a daily series' 8:00 climb is a familiar shape though
    // the last shapeHistory points (at a minute apart, 17 hours) do not reach it.
    const period = this.period();
    const span = Math.max(this.options.shapeHistory, period ? period + SEASON_SLACK / 2 : 0);
    const first = Math.max(0, n - span) + m - 1;
    for (let end = first; end < n - shapeExclude; end++) {
      // The shape ending at `end` against the current one: history[n-m+1 .. n-1] then `value`.
      let d = (history[end] as number) - value;
      d *= d;
      for (let k = 1; k < m && d < best; k++) {
        const x = (history[end - k] as number) - (history[n - k] as number);
        d += x * x;
      }
      if (d < best) best = d;
    }
    return Math.sqrt(best / m) / Math.max(s.max - s.min, 1e-9);
  }

  /**
   * The slow view: every few hours' worth of points is summarised (mean, 90th and 10th
   * percentile) as one block; when a block ends, the last few blocks are compared with every
   * earlier run of as many blocks. A rhythm the series never had (spikes coming ever closer, a
   * quiet machine starting to oscillate) is new here even when each point and each short shape
   * is familiar. Scored 0 … 1 on the point that ends a block; null on the others.
   */
  private blockScore(value: number, timestamp: number): SlowMatch | null {
    const s = this.state;
    const o = this.options;
    s.blocks ??= { slot: null, current: [], summary: [], stat: { n: 0, mean: 0, v: 0 }, quiet: false };
    const b = s.blocks;
    if (!s.step || s.step <= 0) return null;
    // Blocks are slots of wall-clock time, not counts of points, so a missing or extra point
    // changes one block's summary a little instead of shifting every block after it.
    const span = this.period() ? 86_400_000 / o.blocksPerDay : o.blockPoints * s.step;
    const slot = Math.floor(timestamp / span);
    const finished = b.slot !== null && slot !== b.slot && b.current.length > 0 ? b.current : null;
    const finishedSlot = b.slot ?? slot;
    if (finished) b.current = [];
    b.slot = slot;
    b.current.push(value);
    if (!finished) return null;
    const sorted = finished.sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))] as number;
    // Six significant digits: the summaries are stored with the state after every batch.
    const mean = sorted.reduce((x, y) => x + y, 0) / sorted.length;
    for (const x of [mean, at(0.9), at(0.1)]) b.summary.push(Number(x.toPrecision(6)));
    const keep = o.blockHistory * BLOCK_FEATURES;
    if (b.summary.length > keep) b.summary.splice(0, b.summary.length - keep);
    const blocks = b.summary.length / BLOCK_FEATURES;
    const w = o.blockWindow * BLOCK_FEATURES;
    if (blocks < o.blockWindow + 10) return null;
    const now = b.summary.length - w;
    let best = Number.POSITIVE_INFINITY;
    let closest = 0;
    // Earlier runs of blocks that do not overlap the current one.
    for (let start = 0; start + w <= now; start += BLOCK_FEATURES) {
      let d = 0;
      for (let k = 0; k < w && d < best; k++) {
        const x = (b.summary[start + k] as number) - (b.summary[now + k] as number);
        d += x * x;
      }
      if (d < best) {
        best = d;
        closest = start;
      }
    }
    const distance = Math.sqrt(best / o.blockWindow) / Math.max(s.max - s.min, 1e-9);
    const z = zScore(b.stat, distance, o.historyWindow, BLOCK_MIN_SPREAD);
    if (z < FAMILIAR_Z) b.quiet = false;
    // Mean of the blocks' means, and of their 90th percentiles, for the card's words.
    const average = (from: number, feature: number) => {
      let sum = 0;
      for (let k = 0; k < o.blockWindow; k++) sum += b.summary[from + k * BLOCK_FEATURES + feature] as number;
      return sum / o.blockWindow;
    };
    return {
      score: z / (z + o.blockHalfZ),
      since: (finishedSlot - o.blockWindow + 1) * span,
      mean: average(now, 0),
      p90: average(now, 1),
      closestMean: average(closest, 0),
      closestP90: average(closest, 1),
      searched: blocks * span,
    };
  }

  /** Points per day when the series is regular enough for one to fit in memory; else null. */
  private period(): number | null {
    const step = this.state.step;
    if (!step || step <= 0) return null;
    const p = Math.round(86_400_000 / step);
    return p >= 4 && p <= this.options.maxPeriod ? p : null;
  }
}

/** How far above its history `x` is (0 when below or while the history is short), then learns `x`. */
function zScore(h: Stat, x: number, horizon: number, minStd = 1e-6): number {
  const std = Math.sqrt(h.v);
  const z = h.n > 10 ? Math.max(0, (x - h.mean) / Math.max(std, minStd)) : 0;
  addStat(h, h.n > 30 ? Math.min(x, h.mean + FEATURE_CLIP * std) : x, horizon);
  return z;
}

/** Exponentially weighted mean and variance; a plain running average until `horizon` points. */
function addStat(h: Stat, x: number, horizon: number): void {
  h.n++;
  const alpha = Math.max(1 / h.n, 1 / horizon);
  const d = x - h.mean;
  h.mean += alpha * d;
  h.v = (1 - alpha) * (h.v + alpha * d * d);
}
