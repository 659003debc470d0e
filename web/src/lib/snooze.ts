import { DAY_PART_HOURS, SNOOZE_HOURS } from "@flick/shared/moments";

/** A time a person may put a card off until, in their own words and their browser's own time. */
export interface SnoozeChoice {
  /** On the menu: "Tomorrow, 9:00 AM". */
  label: string;
  /** After "Snoozed": "until tomorrow, 9:00 AM", "for 4 hours". */
  phrase: string;
  until: Date;
}

/** `from`'s day moved on `days`, at `hour`:00 local time. */
function dayAt(from: Date, days: number, hour: number): Date {
  const d = new Date(from);
  d.setDate(d.getDate() + days);
  d.setHours(hour, 0, 0, 0);
  return d;
}

/**
 * What "Later" offers, soonest first: in an hour, in four, this evening (while that is five hours
 * off at least), tomorrow morning (this morning, before five), Monday morning (the next one after
 * today, unless that is tomorrow). Each at least an hour from `now`; none twice.
 */
export function snoozeChoices(now: Date): SnoozeChoice[] {
  const time = (d: Date) => d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  const hours = (n: number): SnoozeChoice => ({
    label: `In ${n} hour${n === 1 ? "" : "s"}`,
    phrase: `for ${n} hour${n === 1 ? "" : "s"}`,
    until: new Date(now.getTime() + n * 3_600_000),
  });
  const out = [hours(1), hours(SNOOZE_HOURS)];
  /** `said` is how the label reads within a sentence ("tomorrow", but "Monday"). */
  const at = (label: string, until: Date, said = label.toLowerCase()) =>
    out.push({ label: `${label}, ${time(until)}`, phrase: `until ${said}, ${time(until)}`, until });
  const evening = dayAt(now, 0, DAY_PART_HOURS.evening);
  // (Past one o'clock, four hours on is the evening already.)
  if (evening.getTime() - now.getTime() >= (SNOOZE_HOURS + 1) * 3_600_000) at("This evening", evening);
  const early = now.getHours() < 5;
  const morning = dayAt(now, early ? 0 : 1, DAY_PART_HOURS.morning);
  at(early ? "This morning" : "Tomorrow", morning);
  // Monday: 1; Sunday: 0. The next Monday after today, unless it is tomorrow's morning already.
  const monday = dayAt(now, (8 - now.getDay()) % 7 || 7, DAY_PART_HOURS.morning);
  const weekday = monday.toLocaleDateString([], { weekday: "long" });
  if (monday.getTime() !== morning.getTime()) at(weekday, monday, weekday);
  return out
    .filter((c) => c.until.getTime() - now.getTime() >= 3_600_000)
    .sort((a, b) => a.until.getTime() - b.until.getTime());
}
