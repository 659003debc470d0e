/** One line of a unified diff, with its number in the old file and in the new one. */
export interface DiffLine {
  kind: "file" | "hunk" | "context" | "del" | "add";
  /** The line without its +/-/space marker; a file's heading (see fileHeading); a hunk's header. */
  text: string;
  /** Its line number in the old file, and in the new one; null on the side it is not on. */
  oldNo: number | null;
  newNo: number | null;
  /** On a changed line: the part [start, end) of `text` that differs from its other version. */
  mark?: [number, number];
}

/** One row of a side-by-side diff: the old line on the left, the new one on the right. */
export interface SideRow {
  kind: "file" | "hunk" | "context" | "change";
  left: string | null;
  right: string | null;
  leftNo: number | null;
  rightNo: number | null;
  leftMark?: [number, number] | undefined;
  rightMark?: [number, number] | undefined;
}

/** A path from a "--- a/x" or "+++ b/x" line; null for /dev/null (the file is new, or deleted). */
function diffPath(line: string): string | null {
  const p = line.slice(4).replace(/\t.*$/, "");
  return p === "/dev/null" ? null : p.replace(/^[ab]\//, "");
}

/** A file's heading: its path, or what became of it ("x.ts (new file)", "a.ts → b.ts"). */
export function fileHeading(before: string | null, after: string | null): string {
  if (before === null) return `${after ?? ""} (new file)`;
  if (after === null) return `${before} (deleted)`;
  return before === after ? after : `${before} → ${after}`;
}

/**
 * Reads a unified diff line by line: each file's heading once, hunk headers, and every line with
 * its numbers in the old and the new file (counted from the hunk headers).
 */
export function diffLines(diff: string): DiffLine[] {
  const lines: DiffLine[] = [];
  let oldPath: string | null = null;
  let oldNo = 0;
  let newNo = 0;
  for (const line of diff.split("\n")) {
    if (line.startsWith("diff --git") || line.startsWith("index ")) continue;
    if (line.startsWith("---")) oldPath = diffPath(line);
    else if (line.startsWith("+++")) {
      lines.push({ kind: "file", text: fileHeading(oldPath, diffPath(line)), oldNo: null, newNo: null });
    } else if (line.startsWith("@@")) {
      const at = /^@@ -(\d+)(?:,\d+)? \+(\d+)/.exec(line);
      oldNo = Number(at?.[1] ?? 1);
      newNo = Number(at?.[2] ?? 1);
      lines.push({ kind: "hunk", text: line, oldNo: null, newNo: null });
    } else if (line.startsWith("-")) {
      lines.push({ kind: "del", text: line.slice(1), oldNo: oldNo++, newNo: null });
    } else if (line.startsWith("+")) {
      lines.push({ kind: "add", text: line.slice(1), oldNo: null, newNo: newNo++ });
    } else if (line !== "" && !line.startsWith("\\")) {
      // ("\ No newline at end of file" is not a line of the file; "" is the diff's last newline.)
      lines.push({ kind: "context", text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
    }
  }
  // Each change's removed and added lines, paired line by line as the side-by-side view shows
  // them: each pair marks the words it changed.
  for (let i = 0; i < lines.length; ) {
    const { removed, added, end } = changeAt(lines, i);
    removed.forEach((line, k) => {
      const other = added[k];
      if (other) markChange(line, other);
    });
    i = Math.max(end, i + 1);
  }
  return lines;
}

/**
 * The change starting at line `i`: a run of removed lines and the added lines right after it
 * (either may be empty; both are when line `i` is neither), and the index just past it.
 */
function changeAt(lines: DiffLine[], i: number): { removed: DiffLine[]; added: DiffLine[]; end: number } {
  let added = i;
  while (lines[added]?.kind === "del") added++;
  let end = added;
  while (lines[end]?.kind === "add") end++;
  return { removed: lines.slice(i, added), added: lines.slice(added, end), end };
}

const WORD = /\w/;

/**
 * Marks where two versions of a line differ: what is left between their common beginning and
 * common ending, widened to whole words. Lines that share too little are left unmarked (the whole
 * line changed).
 */
function markChange(before: DiffLine, after: DiffLine): void {
  const [a, b] = [before.text, after.text];
  const n = Math.min(a.length, b.length);
  let start = 0;
  while (start < n && a[start] === b[start]) start++;
  let tail = 0;
  while (tail < n - start && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  // A change that begins or ends inside a word takes the whole word ("prize" for "price", not "z").
  const word = (x: string, i: number) => WORD.test(x[i] ?? "");
  if (word(a, start - 1) && (word(a, start) || word(b, start)))
    while (start > 0 && word(a, start - 1)) start--;
  if (word(a, a.length - tail) && (word(a, a.length - tail - 1) || word(b, b.length - tail - 1)))
    while (tail > 0 && word(a, a.length - tail)) tail--;
  if (start + tail < Math.max(a.trim().length, b.trim().length) / 3) return;
  if (a.length - tail > start) before.mark = [start, a.length - tail];
  if (b.length - tail > start) after.mark = [start, b.length - tail];
}

/**
 * Turns a unified diff into side-by-side rows: context lines on both sides, a run of removals
 * paired line by line with the additions that follow it, file headings and hunk headers across
 * both.
 */
export function sideBySide(diff: string): SideRow[] {
  const lines = diffLines(diff);
  const rows: SideRow[] = [];
  for (let i = 0; i < lines.length; ) {
    const { removed, added, end } = changeAt(lines, i);
    if (end === i) {
      // Not a change: a file's heading, a hunk's header or a context line, on both sides.
      const line = lines[i] as DiffLine & { kind: "file" | "hunk" | "context" };
      rows.push({
        kind: line.kind,
        left: line.text,
        right: line.text,
        leftNo: line.oldNo,
        rightNo: line.newNo,
      });
      i++;
      continue;
    }
    for (let k = 0; k < Math.max(removed.length, added.length); k++) {
      const [l, r] = [removed[k], added[k]];
      rows.push({
        kind: "change",
        left: l?.text ?? null,
        right: r?.text ?? null,
        leftNo: l?.oldNo ?? null,
        rightNo: r?.newNo ?? null,
        leftMark: l?.mark,
        rightMark: r?.mark,
      });
    }
    i = end;
  }
  return rows;
}
