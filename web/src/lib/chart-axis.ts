/**
 * The words around a card's chart: when its first and last points were, and its lowest and highest
 * values. Times are in UTC, as agents write them in card titles ("dropped 38% at 14:05 UTC"), so
 * the chart's ends and the title's time can be compared at a glance.
 */

const HOUR = 3_600_000;

/** Below this span the ends show the time only; above it, the date too. */
const SAME_DAY_SPAN = 20 * HOUR;

/**
 * The chart's first and last times as labels ("16:10", "22:44 UTC"; over a long span with the
 * date: "Nov 24, 16:10", "Nov 26, 22:44 UTC"). Null when the x values are not times (epoch ms).
 */
export function timeRange(from: number, to: number, locale?: string): [string, string] | null {
  // Anything before 2001-09-09 (1e12 ms) is an index or a count, not a time.
  if (!(from >= 1e12 && to >= from)) return null;
  const long = to - from >= SAME_DAY_SPAN;
  const format = new Intl.DateTimeFormat(locale, {
    timeZone: "UTC",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    ...(long ? { month: "short", day: "numeric" } : {}),
  });
  return [format.format(from), `${format.format(to)} UTC`];
}

/** A value on the chart's scale, short: three significant digits, thousands as "17.8K". */
export function scaleLabel(value: number, locale?: string): string {
  return new Intl.NumberFormat(locale, {
    notation: Math.abs(value) >= 10_000 ? "compact" : "standard",
    maximumSignificantDigits: 3,
  }).format(value);
}
