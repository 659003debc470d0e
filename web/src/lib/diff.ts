/** One row of a side-by-side diff: the old line on the left, the new one on the right. */
export interface SideRow {
  kind: "file" | "hunk" | "context" | "change";
  left: string | null;
  right: string | null;
}

/** A path from a "--- a/x" or "+++ b/x" line; null for /dev/null (the file is new, or deleted). */
function diffPath(line: string): string | null {
  const p = line.slice(4).replace(/\t.*$/, "");
  return p === "/dev/null" ? null : p.replace(/^[ab]\//, "");
}

/** A file row's heading: its path, or what became of it ("x.ts (new file)", "a.ts → b.ts"). */
export function fileHeading(row: SideRow): string {
  if (row.left === null) return `${row.right ?? ""} (new file)`;
  if (row.right === null) return `${row.left} (deleted)`;
  return row.left === row.right ? row.right : `${row.left} → ${row.right}`;
}

/**
 * Turns a unified diff into side-by-side rows: context lines on both sides, a run of removals
 * paired line by line with the additions that follow it, hunk and file headers across both (a
 * file row holds the old path on the left and the new on the right).
 */
export function sideBySide(diff: string): SideRow[] {
  const rows: SideRow[] = [];
  let oldPath: string | null = null;
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
      if (line.startsWith("---")) oldPath = diffPath(line);
      if (line.startsWith("+++")) rows.push({ kind: "file", left: oldPath, right: diffPath(line) });
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
