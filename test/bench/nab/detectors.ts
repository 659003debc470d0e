import { MetricDetector } from "@flick/server/detector";

export type Detector = (timestamps: number[], values: number[]) => number[];

/** Flick's streaming detector, exactly as the metrics agent runs it. */
export const flickDetector: Detector = (timestamps, values) => {
  const d = new MetricDetector();
  return values.map((v, i) => d.update(v, timestamps[i] as number).score);
};

function normalProbability(x: number, mean: number, std: number): number {
  if (x < mean) return normalProbability(2 * mean - x, mean, std);
  const z = (x - mean) / std;
  return erfc(z / Math.SQRT2) / 2;
}

/** erfc to double precision (W. J. Cody's rational approximations), so tail scores keep their order. */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  // Continued fraction for large x, series otherwise.
  if (x < 2.5) {
    let sum = x;
    let term = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (x + f);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + f);
}

/**
 * NAB's own "windowed Gaussian" baseline (nab/detectors/gaussian), ported line by line. Its
 * published standard score is 39.6; running it through this scorer checks the scorer port.
 */
export const windowedGaussian: Detector = (_timestamps, values) => {
  const windowSize = 6400;
  const stepSize = 100;
  let windowData: number[] = [];
  let stepBuffer: number[] = [];
  let mean = 0;
  let std = 1;
  // Running sums while the window grows (one point at a time), a full pass when it slides.
  let sum = 0;
  let sumSq = 0;
  const update = () => {
    mean = sum / windowData.length;
    std = Math.sqrt(Math.max(0, sumSq / windowData.length - mean * mean));
    if (std === 0) std = 0.000001;
  };
  return values.map((v) => {
    let score = 0;
    if (windowData.length > 0) score = 1 - normalProbability(v, mean, std);
    if (windowData.length < windowSize) {
      windowData.push(v);
      sum += v;
      sumSq += v * v;
      update();
    } else {
      stepBuffer.push(v);
      if (stepBuffer.length === stepSize) {
        windowData = windowData.slice(stepSize).concat(stepBuffer);
        stepBuffer = [];
        sum = windowData.reduce((a, b) => a + b, 0);
        sumSq = windowData.reduce((a, b) => a + b * b, 0);
        update();
      }
    }
    return score;
  });
};

export const detectors: Record<string, Detector> = { flick: flickDetector, windowedGaussian };
