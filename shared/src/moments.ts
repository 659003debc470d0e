/**
 * How Flick writes a moment, in UTC, the same on the server (card titles, summaries) and in the
 * web app (a chart's ends, a card's date facts, History): "14:05", "Nov 21, 14:05", and in another
 * year than now's "2014-02-19 14:05" (no comma: titles join metrics with ", and"). English month
 * names whatever the browser's language, as the cards' words around them are English.
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const iso = (ms: number) => new Date(ms).toISOString();

/** "14:05" */
export function utcTime(ms: number): string {
  return iso(ms).slice(11, 16);
}

/** "Nov 21"; "2014-02-19" when not in `now`'s year. */
export function utcDay(ms: number, now: number): string {
  const d = new Date(ms);
  if (d.getUTCFullYear() !== new Date(now).getUTCFullYear()) return iso(ms).slice(0, 10);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

/** "Nov 21, 14:05"; "2014-02-19 14:05" when not in `now`'s year. */
export function utcDateTime(ms: number, now: number): string {
  const sameYear = new Date(ms).getUTCFullYear() === new Date(now).getUTCFullYear();
  return `${utcDay(ms, now)}${sameYear ? "," : ""} ${utcTime(ms)}`;
}

/** Whether two moments fall on the same UTC day. */
export function sameUtcDay(a: number, b: number): boolean {
  return iso(a).slice(0, 10) === iso(b).slice(0, 10);
}

/** A snooze with no time chosen (a tap on Later, `s`, "remind me" said alone), in hours. */
export const SNOOZE_HOURS = 4;

/**
 * The hour on a person's own clock that a part of the day stands for, the same in Later's menu and
 * in a spoken snooze ("tomorrow morning", "this evening").
 */
export const DAY_PART_HOURS = { morning: 9, afternoon: 14, evening: 18, night: 20 } as const;
