import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { addToClusters, DEFAULT_SIMILARITY, newClusterState } from "@flick/server/feedback-cluster";
import { trainTextModel } from "@flick/server/feedback-model";
import { classifyFeedback, type FeedbackClass, namesPattern } from "@flick/server/feedback-text";
import { parseCsv } from "@flick/server/ingest-lib";
import { labelledReviews } from "./train-feedback.ts";

function rowsOf(file: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(file, "utf8"));
  if (!header) return [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

/**
 * Per-class precision/recall of the rule classifier on the labelled reviews (a review may carry
 * several labels), optionally for some files and one language (the ori_lang column) only.
 */
export function classificationScores(
  dir: string,
  only: {
    files?: (name: string) => boolean;
    lang?: string;
    /** How a review is classified (default: as the feedback agent does); `file` is its app's. */
    classify?: (text: string, rating: number, file: string) => FeedbackClass;
  } = {},
) {
  const rows = readdirSync(dir)
    .filter((f) => f.endsWith(".csv") && (only.files?.(f) ?? true))
    .flatMap((f) =>
      rowsOf(path.join(dir, f)).map((r): Record<string, string> & { file: string } => ({ ...r, file: f })),
    )
    .filter((r) => only.lang === undefined || r.ori_lang === only.lang);
  const label: Record<FeedbackClass, string> = {
    bug: "problem_report",
    feature: "feature_request",
    noise: "irrelevant",
  };
  const classify = only.classify ?? ((text: string, rating: number) => classifyFeedback(text, rating));
  const predictions = rows.map((r) => classify(r.data ?? "", Number(r.score), r.file));
  const out = {} as Record<FeedbackClass, { precision: number; recall: number; support: number }>;
  for (const cls of ["bug", "feature", "noise"] as FeedbackClass[]) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const [i, r] of rows.entries()) {
      const predicted = predictions[i] === cls;
      const truth = r[label[cls]] === "1";
      if (predicted && truth) tp++;
      else if (predicted) fp++;
      else if (truth) fn++;
    }
    out[cls] = { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), support: tp + fn };
  }
  const dropped = predictions.filter((p) => p === "noise").length;
  return { rows: rows.length, classes: out, dropped: dropped / Math.max(1, rows.length) };
}

/**
 * The classifier as the agent runs it, but with the model trained on the other apps' reviews only,
 * so each app's reviews are new to it: what to expect on a product the model never saw.
 */
export function heldOutClassification(dir: string) {
  const reviews = labelledReviews(dir);
  const models = new Map(
    [...reviews.keys()].map((f) => [
      f,
      trainTextModel([...reviews].filter(([other]) => other !== f).flatMap(([, docs]) => docs)),
    ]),
  );
  return classificationScores(dir, {
    classify: (text, rating, file) => classifyFeedback(text, rating, models.get(file)),
  });
}

/**
 * Clustering against the hand-made cluster ids: pairwise precision/recall, and how pure the
 * clusters are that would become cards (size ≥ minSize).
 */
export function clusteringScores(
  dir: string,
  similarity = DEFAULT_SIMILARITY,
  minSize = 5,
  files: (name: string) => boolean = () => true,
) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let cardClusters = 0;
  let pureMembers = 0;
  let cardMembers = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".csv") && files(x))) {
    const rows = rowsOf(path.join(dir, f));
    // The source's names setting, as a team would fill it in: "Garmin Connect" and "Garmin".
    const app = (f.split("__")[0] ?? "").replace(/_/g, " ");
    const names = namesPattern([app, app.split(" ")[0] ?? ""]);
    const state = newClusterState();
    const cls: FeedbackClass = f.includes("feature") ? "feature" : "bug";
    const assigned = rows.map((r, i) => ({
      c: addToClusters(state, { text: r.data ?? "", cls, at: i, signalId: String(i) }, similarity, names).id,
      g: r.ground_truth ?? "",
    }));
    for (let i = 0; i < assigned.length; i++) {
      for (let j = i + 1; j < assigned.length; j++) {
        const same = assigned[i]?.c === assigned[j]?.c;
        const truth = assigned[i]?.g === assigned[j]?.g;
        if (same && truth) tp++;
        else if (same) fp++;
        else if (truth) fn++;
      }
    }
    const byCluster = new Map<number, string[]>();
    for (const a of assigned) byCluster.set(a.c, [...(byCluster.get(a.c) ?? []), a.g]);
    for (const members of byCluster.values()) {
      if (members.length < minSize) continue;
      cardClusters++;
      const counts = new Map<string, number>();
      for (const g of members) counts.set(g, (counts.get(g) ?? 0) + 1);
      pureMembers += Math.max(...counts.values());
      cardMembers += members.length;
    }
  }
  return {
    pairwisePrecision: tp / Math.max(1, tp + fp),
    pairwiseRecall: tp / Math.max(1, tp + fn),
    cardClusters,
    cardPurity: pureMembers / Math.max(1, cardMembers),
  };
}
