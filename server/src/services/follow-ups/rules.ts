import type { Change } from "@flick/shared";
import { DAY_PART_HOURS, SNOOZE_HOURS } from "@flick/shared/moments";

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
  'snooze / remind me in 2 hours, tonight, on Monday or at 3pm / tomorrow (afternoon) / next week; "squash" / "rebase" / "merge commit" for a merge; "label it bug"; "assign it to alice"; "title it …"; "in repo owner/name"; on a metric card "raise / lower the threshold" or "only alert above 0.7".';

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
/** The hour a part of the day stands for when no time is said ("tomorrow morning"). */
const DAY_PARTS: Record<string, number> = { ...DAY_PART_HOURS, tonight: DAY_PART_HOURS.night };

/** `at` on the clock of `timeZone`: its date, hour, minute and weekday (0 Sunday). */
function clockOf(at: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    weekday: "long",
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    y: Number(part("year")),
    m: Number(part("month")),
    d: Number(part("day")),
    h: Number(part("hour")) % 24,
    min: Number(part("minute")),
    weekday: WEEKDAYS.indexOf(part("weekday").toLowerCase()),
  };
}

/** The moment the clock of `timeZone` reads `h`:`min` on the day `days` after `at`'s there. */
function onClock(at: Date, days: number, h: number, min: number, timeZone: string): Date {
  const c = clockOf(at, timeZone);
  const wanted = Date.UTC(c.y, c.m - 1, c.d + days, h, min);
  // The zone's offset at that moment (twice: a daylight-saving change may lie between).
  let t = wanted;
  for (let i = 0; i < 2; i++) {
    const seen = clockOf(new Date(t), timeZone);
    t += wanted - Date.UTC(seen.y, seen.m - 1, seen.d, seen.h, seen.min);
  }
  return new Date(t);
}

/** "at 3pm", "at 15:30", "until 9": hour and minute (an hour of 1 to 7 with no am/pm is the afternoon's). */
function clockTime(text: string): [number, number] | null {
  const m =
    /\b(?:at|by|around|until|till)\s+(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?![\d:])/.exec(text);
  if (!m) return null;
  let h = Number(m[1]);
  const min = Number(m[2] ?? 0);
  const half = m[3]?.replaceAll(".", "");
  if (half === "pm" && h < 12) h += 12;
  else if (half === "am" && h === 12) h = 0;
  else if (!half && h >= 1 && h <= 7) h += 12;
  return h < 24 && min < 60 ? [h, min] : null;
}

/**
 * Until when an instruction puts a card off, on the speaker's clock (`timeZone`): "in 2 hours",
 * "tomorrow" (9:00 there), "tomorrow afternoon", "tonight", "on Monday" (the next one, 9:00),
 * "next week" (Monday 9:00), "at 3pm" (today, else tomorrow); "snooze", "later", "remind me" alone:
 * four hours. A day or time counts only with a word asking for a snooze (remind, until, later…),
 * but "tomorrow" and "next week" alone. Null when it asks for no snooze.
 */
function snoozeFor(text: string, now: Date, timeZone: string): Date | null {
  const m =
    /\b(?:in|for|after)\s+(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty)\s*(minute|min|hour|hr|day|week)s?\b/.exec(
      text,
    );
  if (m) {
    const n = /^\d+$/.test(m[1] as string) ? Number(m[1]) : (NUMBERS[m[1] as string] ?? 1);
    return new Date(now.getTime() + n * (UNITS[m[2] as string] as number));
  }
  // A day or a time is a snooze's when asked for one ("it broke on Monday night" is not), or
  // "tomorrow" / "next week" alone, as always. "Wait until", "till"… ask for one only with a day or
  // a time ("wait until the checks pass, then merge" is for the model).
  const snooze = /\b(snooze|later|not now|remind me)\b/.test(text);
  const cue = snooze || /\b(remind|until|till|wait|come back)\b/.test(text);
  if (!cue && !/\b(tomorrow|next week)\b/.test(text)) return null;
  const today = clockOf(now, timeZone);
  const weekday = WEEKDAYS.findIndex((w) => new RegExp(`\\b${w}\\b`).test(text));
  const days = /\btomorrow\b/.test(text)
    ? 1
    : weekday >= 0
      ? (weekday - today.weekday + 7) % 7 || 7
      : /\bnext week\b/.test(text)
        ? (1 - today.weekday + 7) % 7 || 7
        : /\btoday\b/.test(text)
          ? 0
          : null;
  const part = Object.keys(DAY_PARTS).find((p) => new RegExp(`\\b${p}\\b`).test(text));
  const [h, min] = clockTime(text) ?? (part ? [DAY_PARTS[part] as number, 0] : [DAY_PART_HOURS.morning, 0]);
  if (days !== null) return onClock(now, days, h, min, timeZone);
  if (part || clockTime(text)) {
    // Later today, else at that time tomorrow.
    const at = onClock(now, 0, h, min, timeZone);
    return at.getTime() > now.getTime() + 5 * 60_000 ? at : onClock(now, 1, h, min, timeZone);
  }
  return snooze ? new Date(now.getTime() + SNOOZE_HOURS * 3_600_000) : null;
}

/**
 * Turns common instructions into a snooze (on the speaker's clock, `timeZone`) or a change of the
 * card's parameters; says plainly when it cannot follow one. Used when no model is configured (and
 * for what a model need not see).
 */
export function interpret(instruction: string, change: Change | null, now: Date, timeZone = "UTC"): Intent {
  const said = instruction.trim();
  const text = said.toLowerCase().replace(/[’`]/g, "'");
  const until = snoozeFor(text, now, timeZone);
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
