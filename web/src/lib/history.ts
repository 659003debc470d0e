import type { Decision, Execution } from "@flick/shared";
import { momentLabel } from "./chart-axis.ts";

/**
 * A card's history as a person reads it: who decided what and what ran, in the order it happened,
 * in words ("Ada undid the accept", "GitHub: cancelled before it ran"), each moment in UTC as the
 * card's title, summary and chart say times.
 */
export interface HistoryLine {
  at: string;
  when: string;
  text: string;
}

const REASONS: Record<string, string> = {
  wrong: "wrong",
  not_important: "not important",
  duplicate: "a duplicate",
  later: "for later",
};

const PAST: Record<Decision["verdict"], string> = {
  accept: "accepted",
  reject: "rejected",
  snooze: "snoozed",
  undo: "undid",
};

const EXECUTORS: Record<string, string> = { "git-patch": "Patch", github: "GitHub", webhook: "Action" };

function decisionText(d: Decision, all: Decision[], now: number): string {
  const who = d.userName ?? "Someone";
  // The web app is where decisions are usually made; another way is worth saying.
  const how = d.client && d.client !== "web" ? (d.client === "voice" ? " by voice" : ` via ${d.client}`) : "";
  if (d.verdict === "undo") {
    const undone = all.find((x) => x.id === d.undoes);
    return `${who} undid the ${undone ? undone.verdict : "decision"}${how}`;
  }
  if (d.verdict === "reject" && d.reason) return `${who} rejected it${how}: ${REASONS[d.reason] ?? d.reason}`;
  if (d.verdict === "snooze" && d.snoozeUntil)
    return `${who} snoozed it until ${momentLabel(d.snoozeUntil, now)}${how}`;
  return `${who} ${PAST[d.verdict]} it${how}`;
}

function executionText(x: Execution, now: number): string {
  const what = EXECUTORS[x.executor] ?? x.executor;
  switch (x.state) {
    case "scheduled":
      return `${what}: to run at ${momentLabel(x.runAfter, now)}`;
    case "running":
      return `${what}: running`;
    case "succeeded":
      return `${what}: ${x.dryRun ? "rehearsed, nothing changed" : "done"}`;
    case "failed":
      return `${what}: failed${x.error ? ` — ${x.error}` : ""}`;
    case "cancelled":
      return `${what}: cancelled before it ran`;
  }
}

export function historyLines(
  h: { decisions: Decision[]; executions: Execution[] },
  now = Date.now(),
): HistoryLine[] {
  const lines = [
    ...h.decisions.map((d) => ({ at: d.createdAt, text: decisionText(d, h.decisions, now) })),
    ...h.executions.map((x) => ({ at: x.finishedAt ?? x.runAfter, text: executionText(x, now) })),
  ];
  // In the order it happened; a decision before what it set running when both share a moment.
  return lines
    .map((l, i) => ({ ...l, i }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.i - b.i)
    .map(({ at, text }) => ({ at, when: momentLabel(at, now), text }));
}
