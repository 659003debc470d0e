// How cards say counts and times, the same way in every agent.
import { sameUtcDay, utcDateTime, utcDay, utcTime } from "@flick/shared";

/** "1 event", "14 events" */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `text` cut to at most `max` characters, an ellipsis saying where ("TypeError: unsupported op…"). */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "service=checkout, zone=a": a series' or an alert's labels as cards write them ("" for none). */
export function labelText(labels: Record<string, string>): string {
  // By name, as Prometheus writes them: a sender's order is not kept once stored (jsonb orders keys
  // its own way), and one card must not say "service=pay, region=eu" beside "region=eu, service=pay".
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/** "checkout_success (job=shop)": a series by its metric's name and its labels (the name alone without). */
export function seriesText(name: string, labels: Record<string, string>): string {
  const scope = labelText(labels);
  return scope ? `${name} (${scope})` : name;
}

/**
 * "14:05 UTC": the time of day cards tell things by; "Nov 21, 14:05 UTC" when it was on another day
 * than `now`, "2014-02-19 14:05 UTC" in another year (a backfill, a replay, a late batch), so an old
 * break does not read as today's. The web writes a chart's times and a card's date facts the same
 * way. (No comma in another year's date: titles join metrics with ", and".)
 */
export function hhmm(d: Date, now?: Date): string {
  if (!now || sameUtcDay(d.getTime(), now.getTime())) return `${utcTime(d.getTime())} UTC`;
  return moment(d, now);
}

/** "14:00 to 14:06 UTC"; "Nov 21, 14:00 to 14:06 UTC" on another day than `now`. */
export function hhmmSpan(from: Date, to: Date, now?: Date): string {
  if (!sameUtcDay(from.getTime(), to.getTime())) return `${hhmm(from, now)} to ${hhmm(to, now)}`;
  return `${hhmm(from, now).replace(/ UTC$/, "")} to ${utcTime(to.getTime())} UTC`;
}

/**
 * "Nov 21, 14:05 UTC" (or "2014-02-19 14:05 UTC") whatever day it is: for what is read long after
 * it is written ("first seen", "snoozed until"), where a time alone would come to mean another day.
 */
export function moment(d: Date, now: Date): string {
  return `${utcDateTime(d.getTime(), now.getTime())} UTC`;
}

/** "Nov 21" (UTC), "2014-02-19" when not `now`'s year. */
export function day(d: Date, now: Date): string {
  return utcDay(d.getTime(), now.getTime());
}
