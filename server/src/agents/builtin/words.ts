// How cards say counts and times, the same way in every agent.

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
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/**
 * "14:05 UTC": the time of day cards tell things by; "Nov 21, 14:05 UTC" (as the web writes a
 * chart's times and a card's date facts) when it was on another day than `now`, "2014-02-19 14:05
 * UTC" in another year (a backfill, a replay, a late batch), so an old break does not read as
 * today's.
 */
export function hhmm(d: Date, now?: Date): string {
  const iso = d.toISOString();
  const time = `${iso.slice(11, 16)} UTC`;
  if (!now || iso.slice(0, 10) === now.toISOString().slice(0, 10)) return time;
  if (d.getUTCFullYear() !== now.getUTCFullYear()) return `${iso.slice(0, 10)} ${time}`;
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${time}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
