import { createSignal } from "solid-js";

/**
 * How a person likes to read diffs, kept on this device: the layout they chose last and whether
 * long lines wrap. Shared by every diff on the page, so choosing side by side on one card shows
 * the next card's diff side by side too, and a reload keeps it.
 */
export interface DiffPrefs {
  split: boolean;
  wrap: boolean;
}

const KEY = "flick.diff";

function load(): DiffPrefs {
  // Side by side reads best on a wide screen; phones start unified, with long lines wrapped so
  // that a line is read without scrolling it sideways under a thumb that swipes cards.
  const fallback = { split: window.innerWidth >= 1100, wrap: true };
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "null") as Partial<DiffPrefs> | null;
    return {
      split: typeof saved?.split === "boolean" ? saved.split : fallback.split,
      wrap: typeof saved?.wrap === "boolean" ? saved.wrap : fallback.wrap,
    };
  } catch {
    // Storage blocked (private mode) or a value this version cannot read: the defaults.
    return fallback;
  }
}

// Read when the diff view is first loaded (it is a lazy chunk), so the page's start pays nothing.
const [prefs, setPrefs] = createSignal(load());

export const diffPrefs = prefs;

export function setDiffPrefs(change: Partial<DiffPrefs>): void {
  const next = setPrefs({ ...prefs(), ...change });
  try {
    localStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Not kept across reloads; this page still uses it.
  }
}
