/** One row of a side-by-side diff: the old line on the left, the new one on the right. */
export interface SideRow {
  kind: "file" | "hunk" | "context" | "change";
  left: string | null;
  right: string | null;
}

/**
 * Turns a unified diff into side-by-side rows: context lines on both sides, a run of removals
 * paired line by line with the additions that follow it, hunk and file headers across both.
 */
export function sideBySide(diff: string): SideRow[] {
  const rows: SideRow[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      rows.push({ kind: "change", left: removed[i] ?? null, right: added[i] ?? null });
    }
    removed = [];
    added = [];
  };
  for (const line of diff.split("\n")) {
    if (
      line.startsWith("diff --git") ||
      line.startsWith("+++") ||
      line.startsWith("---") ||
      line.startsWith("index ")
    ) {
      flush();
      if (line.startsWith("+++"))
        rows.push({ kind: "file", left: null, right: line.slice(4).replace(/^b\//, "") });
      continue;
    }
    if (line.startsWith("@@")) {
      flush();
      rows.push({ kind: "hunk", left: line, right: line });
    } else if (line.startsWith("-")) {
      if (added.length > 0) flush();
      removed.push(line.slice(1));
    } else if (line.startsWith("+")) {
      added.push(line.slice(1));
    } else if (line.startsWith("\\")) {
      // "\ No newline at end of file": not a line of the file
    } else {
      flush();
      if (line === "" && rows.length > 0 && rows[rows.length - 1]?.kind !== "context") continue;
      rows.push({ kind: "context", left: line.slice(1), right: line.slice(1) });
    }
  }
  flush();
  return rows;
}
