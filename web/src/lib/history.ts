import type { Change, Decision, Execution } from "@flick/shared";
import { describeOutcome } from "@flick/shared/outcome";
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
  /** The page of what it made (the issue opened, the pull request), when the executor named one. */
  url?: string;
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

function executionText(x: Execution, now: number, change: Change | null): { text: string; url?: string } {
  const what = EXECUTORS[x.executor] ?? x.executor;
  const outcome = x.state === "succeeded" && !x.dryRun ? describeOutcome(change, x.result) : null;
  if (outcome) return { ...outcome, text: `${what}: done — ${outcome.text}` };
  return { text: executionWords(x, what, now) };
}

function executionWords(x: Execution, what: string, now: number): string {
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

/** `change`: the card's, which what ran carried out (its outcome is told in its words). */
export function historyLines(
  h: { decisions: Decision[]; executions: Execution[] },
  now = Date.now(),
  change: Change | null = null,
): HistoryLine[] {
  const lines: { at: string; text: string; url?: string }[] = [
    ...h.decisions.map((d) => ({ at: d.createdAt, text: decisionText(d, h.decisions, now) })),
    ...h.executions.map((x) => ({ at: x.finishedAt ?? x.runAfter, ...executionText(x, now, change) })),
  ];
  // In the order it happened; a decision before what it set running when both share a moment.
  return lines
    .map((l, i) => ({ ...l, i }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.i - b.i)
    .map(({ at, text, url }) => ({ at, when: momentLabel(at, now), text, ...(url ? { url } : {}) }));
}
