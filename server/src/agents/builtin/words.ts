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

/** "14:05 UTC": the time of day cards tell things by. */
export function hhmm(d: Date): string {
  return `${d.toISOString().slice(11, 16)} UTC`;
}
