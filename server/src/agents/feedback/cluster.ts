import { CONCEPT_LABELS, CONCEPT_TERMS, type FeedbackClass, terms } from "./text.ts";

export interface Cluster {
  id: number;
  cls: FeedbackClass;
  /** Centroid: TF-IDF weight per term (the heaviest terms only). */
  vec: Record<string, number>;
  size: number;
  /** The latest members, one per named customer (their latest): when, what they said, which signal. */
  recent: { at: number; quote: string; signalId: string; who?: string }[];
  /** Arrival times of the members (the latest 500), for "this week". */
  times: number[];
  /**
   * Who sent each of `times` (see `customerOf`; "" when the item named no author, each such one a
   * customer of its own), so one customer's many messages count once. Absent in clusters stored
   * before it was kept: their members count once each.
   */
  who?: string[];
  updatedAt: number;
}

export interface ClusterState {
  docs: number;
  df: Record<string, number>;
  clusters: Cluster[];
  nextId: number;
}

/**
 * How much more a known concept ("sync", "battery", "sleep") weighs than another word of the same
 * rarity: reviews about one problem share its concept but little else of their wording.
 */
const CONCEPT_WEIGHT = 4;

/** The cosine at which an item joins a cluster, unless a source sets its own. */
export const DEFAULT_SIMILARITY = 0.3;

export const CLUSTER_LIMITS = { terms: 40, vocabulary: 20_000, clusters: 400, recent: 8 };

/** Who sent an item: its author, case and spaces aside; "" when the sender names none. */
export function customerOf(item: { author?: string | null }): string {
  return item.author?.trim().toLowerCase() ?? "";
}

/** Who sent a cluster's `i`th kept member (see Cluster.who): an item without an author is a customer of its own. */
const memberOf = (c: Cluster, i: number) => c.who?.[i] || `#${i}`;

/**
 * Messages and distinct customers among a cluster's members that arrived after `since` (and not
 * after `until`), and when the earliest of them came (undefined: none did).
 */
export function membersSince(
  c: Cluster,
  since: number,
  until = Number.POSITIVE_INFINITY,
): { messages: number; customers: number; first?: number } {
  const who = new Set<string>();
  let messages = 0;
  let first: number | undefined;
  c.times.forEach((t, i) => {
    if (t <= since || t > until) return;
    messages++;
    first = Math.min(first ?? t, t);
    who.add(memberOf(c, i));
  });
  return { messages, customers: who.size, first };
}

/**
 * Customers who joined a cluster after `to` and were not among those of the `week` (ms) before it
 * (one who asked then and writes again is no one new), and when the latest of them came.
 */
export function newCustomersSince(
  c: Cluster,
  to: number,
  week: number,
): { customers: number; last?: number } {
  const before = new Set<string>();
  /** Each customer after the week, and when they last wrote. */
  const after = new Map<string, number>();
  c.times.forEach((t, i) => {
    const who = memberOf(c, i);
    if (t > to - week && t <= to) before.add(who);
    else if (t > to) after.set(who, Math.max(after.get(who) ?? t, t));
  });
  const fresh = [...after].filter(([who]) => !before.has(who)).map(([, t]) => t);
  return fresh.length > 0 ? { customers: fresh.length, last: Math.max(...fresh) } : { customers: 0 };
}

export function newClusterState(): ClusterState {
  return { docs: 0, df: {}, clusters: [], nextId: 1 };
}

function vectorize(state: ClusterState, words: string[]): Record<string, number> {
  const v: Record<string, number> = {};
  let norm = 0;
  for (const w of words) {
    const idf = Math.log((state.docs + 1) / ((state.df[w] ?? 0) + 1)) + 1;
    const weight = (w.includes(" ") ? idf * 1.5 : idf) * (CONCEPT_TERMS.has(w) ? CONCEPT_WEIGHT : 1);
    v[w] = weight;
    norm += weight * weight;
  }
  norm = Math.sqrt(norm) || 1;
  for (const k of Object.keys(v)) v[k] = (v[k] as number) / norm;
  return v;
}

function cosine(a: Record<string, number>, b: Record<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, x] of Object.entries(a)) {
    na += x * x;
    const y = b[k];
    if (y !== undefined) dot += x * y;
  }
  for (const y of Object.values(b)) nb += y * y;
  return dot / (Math.sqrt(na * nb) || 1);
}

function top(v: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(v)
      .sort((a, b) => b[1] - a[1])
      .slice(0, n),
  );
}

/**
 * Online clustering: a new item joins the most similar cluster of its class when the cosine of
 * their TF-IDF vectors reaches `threshold`, else starts a new cluster. No model, no look-back.
 */
export function addToClusters(
  state: ClusterState,
  item: { text: string; cls: FeedbackClass; at: number; signalId: string; author?: string | null },
  threshold = DEFAULT_SIMILARITY,
  names: RegExp | null = null,
): Cluster {
  const words = terms(item.text, names);
  state.docs++;
  for (const w of words) state.df[w] = (state.df[w] ?? 0) + 1;
  const vec = vectorize(state, words);
  let best: Cluster | null = null;
  let bestSim = threshold;
  for (const c of state.clusters) {
    if (c.cls !== item.cls) continue;
    const sim = cosine(vec, c.vec);
    if (sim >= bestSim) {
      best = c;
      bestSim = sim;
    }
  }
  const quote = item.text.trim().replace(/\s+/g, " ").slice(0, 280);
  if (!best) {
    best = {
      id: state.nextId++,
      cls: item.cls,
      vec: top(vec, CLUSTER_LIMITS.terms),
      size: 0,
      recent: [],
      times: [],
      who: [],
      updatedAt: item.at,
    };
    state.clusters.push(best);
  } else {
    const merged: Record<string, number> = {};
    const n = best.size;
    for (const [k, x] of Object.entries(best.vec)) merged[k] = (x * n) / (n + 1);
    for (const [k, x] of Object.entries(vec)) merged[k] = (merged[k] ?? 0) + x / (n + 1);
    best.vec = top(merged, CLUSTER_LIMITS.terms);
  }
  best.size++;
  best.updatedAt = Math.max(best.updatedAt, item.at);
  const who = customerOf(item);
  // One quote per named customer: a customer writing again replaces their earlier words.
  if (who) best.recent = best.recent.filter((r) => r.who !== who);
  best.recent.push({ at: item.at, quote, signalId: item.signalId, ...(who ? { who } : {}) });
  if (best.recent.length > CLUSTER_LIMITS.recent) best.recent.shift();
  // Clusters stored before `who` was kept: earlier members stay anonymous (each counts once).
  if (!best.who) best.who = best.times.map(() => "");
  best.times.push(item.at);
  best.who.push(who);
  if (best.times.length > 500) {
    best.times.shift();
    best.who.shift();
  }
  prune(state);
  return best;
}

function prune(state: ClusterState): void {
  if (state.clusters.length > CLUSTER_LIMITS.clusters) {
    state.clusters.sort((a, b) => b.updatedAt - a.updatedAt);
    state.clusters.length = CLUSTER_LIMITS.clusters;
  }
  const vocab = Object.keys(state.df);
  if (vocab.length > CLUSTER_LIMITS.vocabulary) {
    for (const w of vocab) if ((state.df[w] as number) <= 1) delete state.df[w];
  }
}

/**
 * The known concept ("sync", "battery") the cluster is about: its heaviest single word, weighed
 * without the concepts' extra weight, and heavier than the next. Requests for "a CSV export of my
 * workouts" share "csv" and "export" as much as "workouts": they are about the export.
 */
export function clusterConcept(c: Cluster): string | null {
  const [first, second] = Object.entries(c.vec)
    .filter(([k]) => !k.includes(" "))
    .map(([k, w]): [string, number] => [k, CONCEPT_TERMS.has(k) ? w / CONCEPT_WEIGHT : w])
    .sort((a, b) => b[1] - a[1]);
  if (!first || !CONCEPT_TERMS.has(first[0])) return null;
  return second && second[1] > first[1] - 1e-9 ? null : first[0];
}

/**
 * A short topic for the card: the cluster's concept ("sync", "heart rate"), else its heaviest word
 * pair, else its top words.
 */
export function topic(c: Cluster): string {
  const concept = clusterConcept(c);
  if (concept) return CONCEPT_LABELS[concept] ?? concept;
  const sorted = Object.entries(c.vec).sort((a, b) => b[1] - a[1]);
  const pair = sorted.find(([k]) => k.includes(" "));
  if (pair) return pair[0];
  return sorted
    .slice(0, 3)
    .map(([k]) => k)
    .join(", ");
}
