// A TypeScript port of the Numenta Anomaly Benchmark's scoring rules (nab/sweeper.py and
// nab/scorer.py, NAB v1.1): labelled windows, a probationary period, sigmoid-weighted rewards for
// early detection inside a window, softened penalties just after one, and a threshold swept over
// every anomaly score to find the best single threshold across all files.

export interface CostProfile {
  tpWeight: number;
  fnWeight: number;
  fpWeight: number;
}

export const NAB_PROFILES: Record<string, CostProfile> = {
  standard: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.11 },
  reward_low_FP_rate: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1.0, fnWeight: 2.0, fpWeight: 0.11 },
};

export interface ScoredFile {
  name: string;
  timestamps: number[];
  scores: number[];
  /** Labelled windows as [start, end] epoch ms, inclusive. */
  windows: [number, number][];
}

interface AnomalyPoint {
  score: number;
  sweepScore: number;
  /** null outside every window. */
  window: string | null;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** NAB's scaledSigmoid: +0.987 at a window's start, 0 at its end, falling to -1 well after it. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition > 3) return -1;
  return 2 * sigmoid(-5 * relativePosition) - 1;
}

/** NAB's probationary period: the first 15% of a file (at most 750 points) is not scored. */
export function probationLength(fileLength: number, percent = 0.15): number {
  return Math.min(Math.floor(percent * fileLength), percent * 5000);
}

/** Per-point sweep scores for one file (sweeper.calcSweepScore). */
export function sweepScores(file: ScoredFile, profile: CostProfile): AnomalyPoint[] {
  const { timestamps, scores } = file;
  const maxTP = scaledSigmoid(-1);
  const probation = probationLength(timestamps.length);
  const windows = file.windows
    .map(([start, end]) => {
      let left = -1;
      let right = -1;
      for (let i = 0; i < timestamps.length; i++) {
        const t = timestamps[i] as number;
        if (t >= start && t <= end) {
          if (left < 0) left = i;
          right = i;
        }
      }
      return { name: `${file.name}#${start}`, left, right };
    })
    .filter((w) => w.left >= 0)
    .sort((a, b) => a.left - b.left);

  const out: AnomalyPoint[] = [];
  let w = 0;
  let current: { name: string; left: number; right: number } | null = null;
  let prevRight: number | null = null;
  let prevWidth = 0;
  for (let i = 0; i < timestamps.length; i++) {
    if (!current && w < windows.length && windows[w]?.left === i) current = windows[w++] ?? null;
    let weighted: number;
    if (current) {
      const width = current.right - current.left + 1;
      const position = -(current.right - i + 1) / width;
      weighted = (scaledSigmoid(position) * profile.tpWeight) / maxTP;
    } else {
      let unweighted = -1;
      if (prevRight !== null) {
        const past = Math.abs(prevRight - i) / Math.max(1, prevWidth - 1);
        unweighted = scaledSigmoid(past);
      }
      weighted = unweighted * profile.fpWeight;
    }
    if (i >= probation) {
      out.push({ score: scores[i] ?? 0, sweepScore: weighted, window: current?.name ?? null });
    }
    if (current && i === current.right) {
      prevRight = current.right;
      prevWidth = current.right - current.left + 1;
      current = null;
    }
  }
  // A window that lies wholly inside the probationary period still counts as one to find.
  for (const win of windows) {
    if (win.right < probation) out.push({ score: Number.NEGATIVE_INFINITY, sweepScore: 0, window: win.name });
  }
  return out;
}

export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  fp: number;
}

/** Raw score at every distinct threshold (sweeper.calcScoreByThreshold). */
export function scoreByThreshold(points: AnomalyPoint[], profile: CostProfile): ThresholdScore[] {
  const sorted = [...points].sort((a, b) => b.score - a.score);
  const windowScores = new Map<string, number>();
  for (const p of points) if (p.window) windowScores.set(p.window, -profile.fnWeight);
  let windowTotal = -profile.fnWeight * windowScores.size;
  let fpTotal = 0;
  let tp = 0;
  let fp = 0;
  const out: ThresholdScore[] = [];
  let threshold = 1.1;
  for (const p of sorted) {
    if (p.score === Number.NEGATIVE_INFINITY) break;
    if (p.score !== threshold) {
      out.push({ threshold, score: windowTotal + fpTotal, tp, fp });
      threshold = p.score;
    }
    if (p.window) {
      tp++;
      const before = windowScores.get(p.window) as number;
      if (p.sweepScore > before) {
        windowScores.set(p.window, p.sweepScore);
        windowTotal += p.sweepScore - before;
      }
    } else {
      fp++;
      fpTotal += p.sweepScore;
    }
  }
  out.push({ threshold, score: windowTotal + fpTotal, tp, fp });
  return out;
}

export interface ProfileResult {
  profile: string;
  threshold: number;
  rawScore: number;
  normalized: number;
  tp: number;
  fp: number;
  windows: number;
  /** Windows with at least one detection at the chosen threshold. */
  detectedWindows: number;
}

/** Scores a whole corpus under one profile: the best single threshold, normalized 0 (null) … 100 (perfect). */
export function scoreCorpus(files: ScoredFile[], name: string, profile: CostProfile): ProfileResult {
  const points = files.flatMap((f) => sweepScores(f, profile));
  const windowNames = new Set(points.filter((p) => p.window).map((p) => p.window));
  const sweep = scoreByThreshold(points, profile);
  let best = sweep[0] as ThresholdScore;
  for (const s of sweep) if (s.score > best.score) best = s;
  const nullScore = -profile.fnWeight * windowNames.size;
  const perfect = profile.tpWeight * windowNames.size;
  const detected = new Set(
    points.filter((p) => p.window && p.score >= best.threshold && best.threshold <= 1).map((p) => p.window),
  );
  return {
    profile: name,
    threshold: best.threshold,
    rawScore: best.score,
    normalized: (100 * (best.score - nullScore)) / (perfect - nullScore),
    tp: best.tp,
    fp: best.fp,
    windows: windowNames.size,
    detectedWindows: detected.size,
  };
}
