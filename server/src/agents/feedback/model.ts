/**
 * A small linear text model (logistic regression over TF-IDF words and word pairs) that says how
 * likely a review reports a problem or asks for something. The rules in text.ts decide first; the
 * model only rescues reviews the rules found nothing in ("app stopped showing my heart rate since
 * Tuesday" names no rule's words). Trained offline on labelled app reviews (see
 * test/bench/feedback-model.ts, which writes model-weights.ts); no download, no runtime training.
 */

export interface TextModel {
  /** Words and word pairs ("heart rate"), in feature order. */
  vocab: string[];
  /** Inverse document frequency per feature. */
  idf: number[];
  /** Per class: a weight per feature and the bias. */
  classes: Record<ModelClass, { weights: number[]; bias: number }>;
}

export type ModelClass = "bug" | "feature";

/** Lower-case words of two letters or more, as the model was trained on. */
export function modelTokens(text: string): string[] {
  const words =
    text
      .toLowerCase()
      .replace(/[’`]/g, "'")
      .match(/[\p{L}\p{N}_]{2,}/gu) ?? [];
  const pairs = words.slice(1).map((w, i) => `${words[i]} ${w}`);
  return [...words, ...pairs];
}

/** Sparse TF-IDF vector (sublinear term frequency, unit length) over the model's vocabulary. */
export function modelFeatures(
  tokens: string[],
  index: Map<string, number>,
  idf: number[],
): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of tokens) {
    const i = index.get(t);
    if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  let norm = 0;
  for (const [i, c] of counts) {
    const v = (1 + Math.log(c)) * (idf[i] as number);
    counts.set(i, v);
    norm += v * v;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (const [i, v] of counts) counts.set(i, v / norm);
  return counts;
}

const indexes = new WeakMap<TextModel, Map<string, number>>();

/** The probability of each class for `text` (0…1). */
export function modelProbabilities(model: TextModel, text: string): Record<ModelClass, number> {
  let index = indexes.get(model);
  if (!index) {
    index = new Map(model.vocab.map((w, i) => [w, i]));
    indexes.set(model, index);
  }
  const x = modelFeatures(modelTokens(text), index, model.idf);
  const p = (c: ModelClass) => {
    const { weights, bias } = model.classes[c];
    let z = bias;
    for (const [i, v] of x) z += (weights[i] as number) * v;
    return 1 / (1 + Math.exp(-z));
  };
  return { bug: p("bug"), feature: p("feature") };
}

export interface TrainingDoc {
  text: string;
  bug: boolean;
  feature: boolean;
}

/**
 * Trains the model: the `maxFeatures` most frequent words and pairs that occur in at least
 * `minDf` documents, then per class an L2-regularised logistic regression with balanced class
 * weights, by full-batch gradient descent (Adam). Deterministic: the same documents give the same
 * model.
 */
export function trainTextModel(
  docs: TrainingDoc[],
  { maxFeatures = 2000, minDf = 3, l2 = 0.25, epochs = 400, rate = 0.05 } = {},
): TextModel {
  const tokenized = docs.map((d) => modelTokens(d.text));
  const df = new Map<string, number>();
  const tf = new Map<string, number>();
  for (const tokens of tokenized) {
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const t of new Set(tokens)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const vocab = [...df]
    .filter(([, n]) => n >= minDf)
    .map(([t]) => t)
    .sort((a, b) => (tf.get(b) ?? 0) - (tf.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, maxFeatures);
  const n = docs.length;
  // Smoothed, as scikit-learn's TfidfVectorizer does.
  const idf = vocab.map((t) => Math.log((1 + n) / (1 + (df.get(t) ?? 0))) + 1);
  const index = new Map(vocab.map((w, i) => [w, i]));
  const rows = tokenized.map((tokens) => [...modelFeatures(tokens, index, idf)]);

  const fit = (labels: boolean[]) => {
    const positives = labels.filter(Boolean).length;
    // Balanced: each class weighs as much in all as the other.
    const weightOf = (y: boolean) => n / (2 * Math.max(1, y ? positives : n - positives));
    const w = new Float64Array(vocab.length + 1);
    const m = new Float64Array(w.length);
    const v = new Float64Array(w.length);
    const bias = vocab.length;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const g = new Float64Array(w.length);
      for (let r = 0; r < n; r++) {
        const x = rows[r] as [number, number][];
        let z = w[bias] as number;
        for (const [i, value] of x) z += (w[i] as number) * value;
        const y = labels[r] as boolean;
        const err = (1 / (1 + Math.exp(-z)) - (y ? 1 : 0)) * weightOf(y);
        for (const [i, value] of x) g[i] = (g[i] as number) + err * value;
        g[bias] = (g[bias] as number) + err;
      }
      for (let i = 0; i < w.length; i++) {
        const grad = (g[i] as number) / n + (i === bias ? 0 : (l2 * (w[i] as number)) / n);
        m[i] = 0.9 * (m[i] as number) + 0.1 * grad;
        v[i] = 0.999 * (v[i] as number) + 0.001 * grad * grad;
        const mh = (m[i] as number) / (1 - 0.9 ** epoch);
        const vh = (v[i] as number) / (1 - 0.999 ** epoch);
        w[i] = (w[i] as number) - (rate * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
    return { weights: [...w.subarray(0, bias)], bias: w[bias] as number };
  };
  return {
    vocab,
    idf,
    classes: { bug: fit(docs.map((d) => d.bug)), feature: fit(docs.map((d) => d.feature)) },
  };
}
