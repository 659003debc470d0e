import path from "node:path";
import { DEFAULT_DETECTOR_OPTIONS, type DetectorOptions, MetricDetector } from "@flick/server/detector";
import { describe, expect, it } from "vitest";
import { loadCorpus } from "../bench/nab/corpus.ts";
import { windowedGaussian } from "../bench/nab/detectors.ts";
import {
  NAB_PROFILES,
  probationLength,
  type ScoredFile,
  scaledSigmoid,
  scoreCorpus,
} from "../bench/nab/score.ts";
import { fixturesDir } from "../helpers/fixtures.ts";

const STEP = 5 * 60_000;
const ALARM = DEFAULT_DETECTOR_OPTIONS.alarmLevel;

/** A fixed-seed generator of numbers in [0, 1), so every run sees the same noise. */
function generator(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/** A daily-seasonal series with noise from a fixed-seed generator. */
function series(n: number, at: (i: number) => number): { ts: number[]; values: number[] } {
  const next = generator(7);
  const rand = () => next() - 0.5;
  const ts = Array.from({ length: n }, (_, i) => Date.UTC(2026, 0, 1) + i * STEP);
  const values = ts.map((_, i) => 100 + 20 * Math.sin((2 * Math.PI * i) / 288) + 3 * rand() + at(i));
  return { ts, values };
}

/** A Poisson count (Knuth's method) with mean `mean`. */
function poisson(mean: number, next: () => number): number {
  const floor = Math.exp(-mean);
  let k = 0;
  for (let p = next(); p > floor; p *= next()) k++;
  return k;
}

function nabSeries(name: string) {
  const dataDir = path.join(fixturesDir, "nab/data");
  const series = loadCorpus(dataDir, path.join(dataDir, "../labels/combined_windows.json")).find(
    (s) => s.name === name,
  );
  if (!series) throw new Error(`${name} is not in the NAB fixtures`);
  return series;
}

function run(ts: number[], values: number[]): number[] {
  const d = new MetricDetector();
  return values.map((v, i) => d.update(v, ts[i] as number).score);
}

describe("streaming metric detector", () => {
  it("stays quiet on a noisy seasonal series with nothing wrong", () => {
    const { ts, values } = series(3000, () => 0);
    const scores = run(ts, values);
    expect(scores.slice(500).filter((s) => s >= ALARM).length).toBeLessThanOrEqual(2);
  });

  it("alarms within a few points of a 40% drop, and once, not for every point after it", () => {
    const { ts, values } = series(3000, (i) => (i >= 2000 ? -40 : 0));
    const scores = run(ts, values);
    const first = scores.findIndex((s, i) => i >= 500 && s >= ALARM);
    expect(first).toBeGreaterThanOrEqual(2000);
    expect(first).toBeLessThan(2010);
    expect(scores.slice(first + 1, first + 100).filter((s) => s >= ALARM).length).toBe(0);
  });

  it("does not alarm every day for a spike the series makes every day, yet alarms for a dip it never made", () => {
    // A batch job lifts the metric for 20 minutes at the same time each day.
    const job = (i: number) => (i % 288 >= 100 && i % 288 < 104 ? 35 : 0);
    const daily = series(3000, job);
    const alarms = run(daily.ts, daily.values)
      .map((s, i) => ({ s, i }))
      .filter(({ s, i }) => i >= 300 && s >= ALARM);
    expect(alarms).toEqual([]);

    const withDip = series(3000, (i) => job(i) + (i >= 2500 && i < 2504 ? -60 : 0));
    const scores = run(withDip.ts, withDip.values);
    const first = scores.findIndex((s, i) => i >= 300 && s >= ALARM);
    expect(first).toBeGreaterThanOrEqual(2500);
    expect(first).toBeLessThan(2504);
  });

  it("does not alarm every morning for a count that climbs at 8:00 and falls at 19:00 every day", () => {
    // Sign-ups, tweets, orders: a low count at night, a busy day. The morning's climb is the same
    // climb as yesterday's, so it is not a break, however sharp it is against the last hour.
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = generator(seed);
      const ts = Array.from({ length: 288 * 14 }, (_, i) => Date.UTC(2026, 0, 5) + i * STEP);
      const values = ts.map((t) => {
        const hour = new Date(t).getUTCHours();
        return poisson(hour >= 8 && hour < 19 ? 30 : 4, next);
      });
      const alarms = run(ts, values).filter((s, i) => i > 600 && s >= ALARM);
      expect(alarms.length, `seed ${seed}`).toBeLessThanOrEqual(2);
    }
  });

  it("alarms when spikes come ever closer, though each spike looks like the ones before", () => {
    // A job spikes the metric once every 4 hours; from point 2400 it spikes every hour.
    const spikes = (every: (i: number) => number) => {
      const rand = generator(11);
      const ts = Array.from({ length: 3000 }, (_, i) => Date.UTC(2026, 0, 1) + i * STEP);
      const values = ts.map((_, i) => 50 + 3 * (rand() - 0.5) + (i % every(i) === 0 ? 30 : 0));
      return run(ts, values);
    };
    const alarms = (scores: number[]) => scores.flatMap((s, i) => (i >= 300 && s >= ALARM ? [i] : []));
    expect(alarms(spikes(() => 48))).toEqual([]);
    const denser = alarms(spikes((i) => (i < 2400 ? 48 : 12)));
    expect(denser.length).toBe(1);
    // Within half a day: the slow view compares blocks of a few hours.
    expect(denser[0]).toBeGreaterThanOrEqual(2400);
    expect(denser[0]).toBeLessThan(2400 + 144);
  });

  it("alarms once when a series turns restless, not again and again, and still alarms for a real break in it", () => {
    // Calm noise (±1.5) for a week, then three times as restless; a deep dip at point 3500.
    const alarmsOf = (options: Partial<DetectorOptions>, seed: number) => {
      const next = generator(seed);
      const ts = Array.from({ length: 4000 }, (_, i) => Date.UTC(2026, 0, 1) + i * STEP);
      const values = ts.map(
        (_, i) =>
          100 +
          20 * Math.sin((2 * Math.PI * i) / 288) +
          (i >= 2000 ? 9 : 3) * (next() - 0.5) +
          (i >= 3500 && i < 3504 ? -60 : 0),
      );
      const d = new MetricDetector(undefined, options);
      return values.flatMap((v, i) => (d.update(v, ts[i] as number).score >= ALARM && i >= 300 ? [i] : []));
    };
    let longOnly = 0;
    for (const seed of [7, 8, 9]) {
      const alarms = alarmsOf({}, seed);
      expect(alarms.filter((i) => i >= 2000 && i < 3500).length, `seed ${seed}`).toBeLessThanOrEqual(1);
      expect(
        alarms.find((i) => i >= 3500),
        `seed ${seed}`,
      ).toBe(3500);
      // Against the long history alone, the restless stretch alarms again and again.
      longOnly += alarmsOf({ recentWindow: DEFAULT_DETECTOR_OPTIONS.historyWindow }, seed).filter(
        (i) => i >= 2000 && i < 3500,
      ).length;
    }
    expect(longOnly).toBeGreaterThanOrEqual(6);
  });

  it("does not take a hair past a nearly flat past for a break, so a real break right after it is told", () => {
    // A success rate that stayed between 98.0 and 98.34 (a Prometheus series loaded as history, a
    // point a minute), then 98.4 — and twenty points later a fall to 60.
    const next = generator(7);
    const ts = Array.from({ length: 700 }, (_, i) => Date.UTC(2026, 0, 1) + i * 60_000);
    const values = ts.map((_, i) => (i === 600 ? 98.4 : i === 620 ? 60 : 98 + 0.34 * next()));
    const scores = run(ts, values);
    expect(Math.max(...values.slice(0, 600))).toBeLessThan(98.4);
    const alarms = scores.flatMap((s, i) => (s >= ALARM && i >= 300 ? [i] : []));
    expect(alarms).toEqual([620]);
  });

  it("judges a 15 s series a minute at a time: its daily climb is familiar from the second day, a midday outage is not", () => {
    // Prometheus's usual scrape: 5,760 points a day, more than the season's memory. Point by point
    // it alarmed every morning at 8:00 and every evening at 19:00.
    const day = 5760;
    for (const seed of [1, 2, 3]) {
      const next = generator(seed);
      const ts = Array.from({ length: day * 4 }, (_, i) => Date.UTC(2026, 0, 5) + i * 15_000);
      const outage = day * 3 + day / 2;
      const values = ts.map((t, i) => {
        const hour = new Date(t).getUTCHours();
        return poisson(hour >= 8 && hour < 19 ? 30 : 4, next) - (i >= outage && i < outage + 20 ? 25 : 0);
      });
      const d = new MetricDetector();
      const alarms = values.flatMap((v, i) => {
        const r = d.update(v, ts[i] as number);
        return r.score >= ALARM && i >= day ? [{ i, peak: r.peak }] : [];
      });
      // After the first day only the outage: within ten minutes of its start (the score averages
      // the last ten minutes), telling the mean of one of its minutes.
      expect(
        alarms.map((a) => a.i),
        `seed ${seed}`,
      ).toHaveLength(1);
      const [alarm] = alarms;
      expect(alarm?.i).toBeGreaterThan(outage);
      expect(alarm?.i).toBeLessThan(outage + 40);
      expect(alarm?.peak?.value).toBeLessThan(15);
      expect(alarm?.peak?.at).toBeGreaterThanOrEqual(ts[outage] as number);
    }
  });

  it("takes a 15 s series stored before minutes were judged to minutes, its season of points dropped", () => {
    const d = new MetricDetector();
    const at = (k: number) => Date.UTC(2026, 0, 5) + k * 15_000;
    for (let k = 0; k < 2000; k++) d.update(50 + (k % 7), at(k));
    // As such a state was stored: points one by one at their own step, no word of minutes.
    const old = JSON.parse(JSON.stringify(d.state)) as typeof d.state;
    old.fine = undefined;
    old.rawTs = undefined;
    old.minute = undefined;
    old.step = 15_000;
    old.season = old.season.slice(-1440);
    const resumed = new MetricDetector(old);
    for (let k = 2000; k < 2004; k++) resumed.update(50 + (k % 7), at(k));
    expect(resumed.state).toMatchObject({ fine: true, step: 60_000 });
    expect(resumed.state.season.length).toBeLessThan(5);
  });

  it("holds a fine series' points until their minute ends, then scores the minute's mean", () => {
    const d = new MetricDetector();
    const at = (s: number) => Date.UTC(2026, 0, 5, 9, 0, 0) + s * 1000;
    const held = [0, 15, 30, 45].map((s) => d.update(10 + s / 15, at(s)));
    // The first points are scored as they come, until the third gap under a minute in a row.
    expect(held.map((r) => r.held ?? false)).toEqual([false, false, false, true]);
    expect(d.update(20, at(50)).held).toBe(true);
    const next = d.update(5, at(60));
    expect(next.held).toBeUndefined();
    expect(next.minute).toEqual({ at: at(50), value: 16.5 });
    expect(next.peak).toMatchObject({ at: at(50), value: 16.5 });
    expect(d.update(6, at(75)).held).toBe(true);
  });

  /** Noisy between 97.55 and 98.45, one value a minute (the Prometheus e2e test's checkout_success). */
  const noisy = (ms: number, amplitude = 0.45) =>
    98 + ((Math.sin(Math.floor(ms / 60_000) * 12.9898) * 43758.5453) % 1) * amplitude;
  const minuteApart = (start: number, n: number) => {
    const d = new MetricDetector();
    for (let i = 0; i < n; i++) d.update(Number(noisy(start + i * 60_000).toFixed(3)), start + i * 60_000);
    return d;
  };

  it("holds points seconds apart after a past learned a minute apart, until it is known they are a fine series", () => {
    const start = Date.UTC(2026, 0, 5);
    const d = minuteApart(start, 400);
    const live = start + 410 * 60_000;
    expect(d.update(98.1, live).held).toBeUndefined();
    // Seconds after it: not each judged as a minute of its own.
    expect(d.update(98.2, live + 15_000).held).toBe(true);
    expect(d.update(98.3, live + 30_000).held).toBe(true);
    expect(d.update(97.9, live + 45_000).held).toBe(true);
    expect(d.state.fine).toBe(true);
    // The minute's mean counts the points held: 98.2, 98.3, 97.9.
    const next = d.update(98, live + 60_000);
    expect(next.minute?.value).toBeCloseTo((98.2 + 98.3 + 97.9) / 3, 9);
  });

  it("scores a stray early point when the series goes on a minute apart, and tells it if it broke", () => {
    const start = Date.UTC(2026, 0, 5);
    const d = minuteApart(start, 400);
    const at = start + 400 * 60_000;
    expect(d.update(98, at).held).toBeUndefined();
    expect(d.update(20, at + 5_000).held).toBe(true);
    // 55 s after it: held too (two gaps under a minute so far).
    expect(d.update(98, at + 60_000).held).toBe(true);
    // A whole minute on: a series a minute apart after all. The held points are scored in turn.
    const next = d.update(98, at + 120_000);
    expect(d.state.fine).toBeUndefined();
    expect(next.score).toBeGreaterThanOrEqual(DEFAULT_DETECTOR_OPTIONS.alarmLevel);
    expect(next.peak).toMatchObject({ at: at + 5_000, value: 20 });
  });

  it("raises no alarm on a perfectly regular series when a few points never arrive", () => {
    // NAB's noiseless daily cycle, with one point in a hundred (or five hundred) left out.
    const clean = nabSeries("artificialNoAnomaly/art_daily_no_noise.csv");
    for (const [seed, rate] of [
      [8, 0.01],
      [15, 0.002],
    ] as const) {
      const rand = generator(seed);
      const kept = clean.values.flatMap((v, i) =>
        rand() < rate ? [] : [[clean.timestamps[i] as number, v] as const],
      );
      expect(kept.length).toBeLessThan(clean.values.length);
      const scores = run(
        kept.map(([t]) => t),
        kept.map(([, v]) => v),
      );
      expect(scores.flatMap((s, i) => (i >= 300 && s >= ALARM ? [i] : []))).toEqual([]);
    }
  });

  it("carries on from a state stored before shape matching, the slow view and the recent history existed", () => {
    const { ts, values } = series(1500, (i) => (i >= 1200 ? 50 : 0));
    const a = new MetricDetector();
    for (let i = 0; i < 700; i++) a.update(values[i] as number, ts[i] as number);
    const {
      shapeStat: _stat,
      blocks: _blocks,
      avgRecent: _recent,
      ...older
    } = JSON.parse(JSON.stringify(a.state));
    const b = new MetricDetector(older);
    const scores = values.slice(700).map((v, i) => b.update(v, ts[i + 700] as number).score);
    expect(scores.every((s) => Number.isFinite(s))).toBe(true);
    expect(scores.findIndex((s) => s >= ALARM) + 700).toBe(1200);
  });

  it("scores each point from the past only: later points never change an earlier score", () => {
    const { ts, values } = series(1200, (i) => (i === 900 ? 80 : 0));
    const full = run(ts, values);
    const cut = run(ts.slice(0, 950), values.slice(0, 950));
    expect(cut).toEqual(full.slice(0, 950));
  });

  it("resumes from stored JSON state exactly where it left off", () => {
    const { ts, values } = series(1500, (i) => (i >= 1200 ? 50 : 0));
    const whole = run(ts, values);
    const a = new MetricDetector();
    const firstHalf = values.slice(0, 700).map((v, i) => a.update(v, ts[i] as number).score);
    const b = new MetricDetector(JSON.parse(JSON.stringify(a.state)));
    const secondHalf = values.slice(700).map((v, i) => b.update(v, ts[i + 700] as number).score);
    expect([...firstHalf, ...secondHalf]).toEqual(whole);
  });
});

describe("NAB scorer port", () => {
  const n = 1000;
  const ts = Array.from({ length: n }, (_, i) => i * STEP);
  const windows: [number, number][] = [
    [(400 as number) * STEP, 449 * STEP],
    [700 * STEP, 749 * STEP],
  ];
  const file = (scores: number[]): ScoredFile => ({ name: "f.csv", timestamps: ts, scores, windows });

  it("gives a perfect detector 100 and the null detector 0 on every profile", () => {
    const perfect = ts.map((_, i) => (i === 400 || i === 700 ? 1 : 0));
    for (const [name, profile] of Object.entries(NAB_PROFILES)) {
      expect(scoreCorpus([file(perfect)], name, profile).normalized).toBeCloseTo(100, 6);
      expect(scoreCorpus([file(ts.map(() => 0))], name, profile).normalized).toBeCloseTo(0, 6);
    }
  });

  it("rewards early detection in a window more than late, and charges false positives by profile", () => {
    const early = ts.map((_, i) => (i === 405 ? 1 : 0));
    const late = ts.map((_, i) => (i === 445 ? 1 : 0));
    const std = NAB_PROFILES.standard;
    const lowFp = NAB_PROFILES.reward_low_FP_rate;
    if (!std || !lowFp) throw new Error("profiles missing");
    expect(scoreCorpus([file(early)], "standard", std).normalized).toBeGreaterThan(
      scoreCorpus([file(late)], "standard", std).normalized,
    );
    const withFp = ts.map((_, i) => (i === 405 || i === 300 ? 1 : 0));
    const a = scoreCorpus([file(withFp)], "standard", std);
    const b = scoreCorpus([file(withFp)], "low fp", lowFp);
    expect(b.normalized).toBeLessThan(a.normalized);
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 4);
    expect(probationLength(10000)).toBe(750);
  });

  it("reproduces NAB's published windowed-Gaussian baseline (39.6 / 20.9 / 47.4) within 3.5 points", () => {
    const corpus = loadCorpus(
      path.join(fixturesDir, "nab/data"),
      path.join(fixturesDir, "nab/labels/combined_windows.json"),
    );
    expect(corpus.length).toBe(58);
    const files = corpus.map((s) => ({
      name: s.name,
      timestamps: s.timestamps,
      windows: s.windows,
      scores: windowedGaussian(s.timestamps, s.values),
    }));
    const published = { standard: 39.6, reward_low_FP_rate: 20.9, reward_low_FN_rate: 47.4 };
    for (const [name, want] of Object.entries(published)) {
      const got = scoreCorpus(files, name, NAB_PROFILES[name] as never).normalized;
      expect(Math.abs(got - want), `${name}: ${got}`).toBeLessThan(3.5);
    }
  }, 60_000);
});
