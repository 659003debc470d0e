/**
 * The words around a card's chart: when its first and last points were, and its lowest and highest
 * values. Times are in UTC, as agents write them in card titles ("dropped 38% at 14:05 UTC"), so
 * the chart's ends and the title's time can be compared at a glance.
 */

import { sameUtcDay, utcDateTime, utcTime } from "@flick/shared/moments";

const HOUR = 3_600_000;

/** Below this span the ends show the time only; above it, the date too. */
const SAME_DAY_SPAN = 20 * HOUR;

/** Whether a chart's x values are times (epoch ms): before 2001-09-09 (1e12 ms) they are indexes or counts. */
function isTimeAxis(from: number, to: number): boolean {
  return from >= 1e12 && to >= from;
}

/**
 * The chart's first and last times as labels ("16:10", "22:44 UTC"; over a long span with the
 * date: "Nov 24, 16:10", "Nov 26, 22:44 UTC"). A chart that ends on another day than today says
 * that day at its end ("15:10", "Nov 26, 21:00 UTC"; another year: "2019-08-19 21:00 UTC"), so
 * its times are not read as today's. Null when the x values are not times (epoch ms).
 */
export function timeRange(from: number, to: number, now = Date.now()): [string, string] | null {
  if (!isTimeAxis(from, to)) return null;
  const long = to - from >= SAME_DAY_SPAN;
  const left = long ? utcDateTime(from, now) : utcTime(from);
  const right = long || !sameUtcDay(to, now) ? utcDateTime(to, now) : utcTime(to);
  return [left, `${right} UTC`];
}

/**
 * One point read off the chart ("21:50 UTC: 4.2"; with the date on a chart over days or not of
 * today; the value alone when x is not a time), its value to four significant digits as card
 * facts have them.
 */
export function pointLabel(
  point: [number, number],
  chart: [from: number, to: number],
  locale?: string,
  now = Date.now(),
): string {
  const value = new Intl.NumberFormat(locale, { maximumSignificantDigits: 4 }).format(point[1]);
  if (!isTimeAxis(chart[0], chart[1])) return value;
  const dated = chart[1] - chart[0] >= SAME_DAY_SPAN || !sameUtcDay(chart[1], now);
  return `${dated ? utcDateTime(point[0], now) : utcTime(point[0])} UTC: ${value}`;
}

/**
 * What the caption calls the chart's last value: "now" while it is recent, "latest" for a chart
 * that ended a while ago (a break from yesterday, an error from 2019), which "now" would misstate.
 */
export function lastValueWord(to: number, now = Date.now()): "now" | "latest" {
  return isTimeAxis(to, to) && now - to > HOUR ? "latest" : "now";
}

/** The index of the point whose x is nearest `x`, the points in order of x; -1 when there are none. */
export function nearestIndex(xs: readonly number[], x: number): number {
  if (xs.length === 0) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs((xs[hi] as number) - x) < Math.abs((xs[lo] as number) - x) ? hi : lo;
}

/**
 * A moment a card's facts hold ("first seen"), in UTC as the card's words and chart say times:
 * "Nov 26, 21:51 UTC"; another year's as "2014-02-19 03:35 UTC", as agents write it in titles.
 */
export function momentLabel(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${utcDateTime(t, now)} UTC`;
}

/** A value on the chart's scale, short: three significant digits, thousands as "17.8K". */
export function scaleLabel(value: number, locale?: string): string {
  return new Intl.NumberFormat(locale, {
    notation: Math.abs(value) >= 10_000 ? "compact" : "standard",
    maximumSignificantDigits: 3,
  }).format(value);
}
