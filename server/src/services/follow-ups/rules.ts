import type { Change } from "@flick/shared";

/** What a spoken or typed instruction asks of a card, as far as plain rules can tell. */
export type Intent =
  | { type: "snooze"; until: Date; said: string }
  | { type: "revise"; change: Change; title?: string; said: string; done: string[] }
  | { type: "cannot"; reply: string };

const UNITS: Record<string, number> = {
  minute: 60_000,
  min: 60_000,
  hour: 3_600_000,
  hr: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};
const NUMBERS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  twelve: 12,
  twenty: 20,
  thirty: 30,
};

export const UNDERSTOOD =
  'snooze / remind me in 2 hours / tomorrow / next week; "squash" / "rebase" / "merge commit" for a merge; "label it bug"; "assign it to alice"; "title it …"; "in repo owner/name"; on a metric card "raise / lower the threshold" or "only alert above 0.7".';

function snoozeFor(text: string, now: Date): Date | null {
  const m =
    /\b(?:in|for|after)\s+(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty)\s*(minute|min|hour|hr|day|week)s?\b/.exec(
      text,
    );
  if (m) {
    const n = /^\d+$/.test(m[1] as string) ? Number(m[1]) : (NUMBERS[m[1] as string] ?? 1);
    return new Date(now.getTime() + n * (UNITS[m[2] as string] as number));
  }
  if (/\btomorrow\b/.test(text)) return new Date(now.getTime() + 86_400_000);
  if (/\bnext week\b/.test(text)) return new Date(now.getTime() + 7 * 86_400_000);
  if (/\b(snooze|later|not now|remind me)\b/.test(text)) return new Date(now.getTime() + 4 * 3_600_000);
  return null;
}

/**
 * Turns common instructions into a snooze or a change of the card's parameters; says plainly when
 * it cannot follow one. Used when no model is configured (and for what a model need not see).
 */
export function interpret(instruction: string, change: Change | null, now: Date): Intent {
  const said = instruction.trim();
  const text = said.toLowerCase().replace(/[’`]/g, "'");
  const until = snoozeFor(text, now);
  if (until && !/\b(label|assign|title|repo|squash|rebase)\b/.test(text))
    return { type: "snooze", until, said };

  if (change?.type === "github") {
    const params = { ...change.params };
    let repository = change.repository;
    const done: string[] = [];
    let title: string | undefined;
    const repo = /\b(?:in|to|into)\s+(?:the\s+)?repo(?:sitory)?\s+([\w.-]+\/[\w.-]+)/.exec(said);
    if (repo && change.operation === "create_issue") {
      repository = repo[1] as string;
      done.push(`target ${repository}`);
    }
    if (change.operation === "merge_pr") {
      const method = /\brebase\b/.test(text)
        ? "rebase"
        : /\bsquash\b/.test(text)
          ? "squash"
          : /\b(merge commit|plain merge|regular merge)\b/.test(text)
            ? "merge"
            : null;
      if (method) {
        params.method = method;
        done.push(`merge method ${method}`);
      }
    }
    if (change.operation === "create_issue" || change.operation === "create_pr") {
      const label = /\blabel(?:\s+it)?(?:\s+(?:as|with))?\s+["“']?([\w:.-]+)/.exec(said);
      if (label) {
        params.labels = [
          ...new Set([...((params.labels as string[] | undefined) ?? []), label[1] as string]),
        ];
        done.push(`label ${label[1]}`);
      }
      const assignee = /\bassign(?:\s+it)?\s+to\s+@?([\w-]+)/i.exec(said);
      if (assignee && change.operation === "create_issue") {
        params.assignees = [
          ...new Set([...((params.assignees as string[] | undefined) ?? []), assignee[1] as string]),
        ];
        done.push(`assign ${assignee[1]}`);
      }
      const named = /\b(?:title|call|name)\s+it\s+["“]?(.+?)["”]?\s*$/i.exec(said);
      if (named) {
        params.title = (named[1] as string).slice(0, 256);
        title = params.title as string;
        done.push(`title "${params.title}"`);
      }
    }
    if (done.length > 0)
      return { type: "revise", change: { ...change, repository, params }, title, said, done };
  }
  if (until) return { type: "snooze", until, said };
  return {
    type: "cannot",
    reply: `Flick's built-in agents could not act on "${said.slice(0, 200)}". Without a model they understand: ${UNDERSTOOD} Set OPENAI_API_KEY (or OPENAI_BASE_URL) to let a model revise the card.`,
  };
}

/**
 * "Raise the threshold" (or "less sensitive", "only alert above 0.7") for a metric series: the new
 * alarm level for its detector's anomaly score, or null when the instruction is not about that.
 * Raising steps by 0.1, lowering by 0.1, an explicit number (0..1 or a percentage) is taken as is.
 */
export function thresholdChange(instruction: string, current: number): number | null {
  const text = instruction.toLowerCase();
  const raise = /\b(raise|increase|higher|less sensitive|fewer alerts|too noisy|too sensitive)\b/.test(text);
  const lower = /\b(lower|decrease|reduce|more sensitive|catch more)\b/.test(text);
  const about = /\b(threshold|sensitiv\w*|alarm|alert\w*|noisy|trigger\w*)\b/.test(text);
  if (!about || (!raise && !lower && !/\b(to|at|above)\s+\d/.test(text))) return null;
  const explicit = /\b(?:to|at|above)\s+(\d+(?:\.\d+)?)\s*(%?)/.exec(text);
  let level: number;
  if (explicit) {
    const n = Number(explicit[1]);
    level = explicit[2] === "%" || n > 1 ? n / 100 : n;
  } else level = current + (raise ? 0.1 : -0.1);
  return Math.round(Math.min(0.99, Math.max(0.05, level)) * 100) / 100;
}
