/**
 * Finds the lines of a failed CI log that say what went wrong, the way a person skims it: drop
 * the timestamps and runner noise, keep what the failing run printed that the last passing run did
 * not (when that log is at hand), and of those the lines that read like errors, with the stack
 * trace or message continuation under each.
 */

const GH_FULL = /^[^\t]*\t[^\t]*\t\d{4}-\d\d-\d\dT[\d:.]+Z ?/;
const GH_RAW = /^\d{4}-\d\d-\d\dT[\d:.]+Z ?/;
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/** The text a line carries, without the log format's prefix. */
export function lineText(line: string): string {
  return line.replace(GH_FULL, "").replace(GH_RAW, "").replace(ANSI, "").replace(/\r$/, "");
}

/** What stays the same between two runs of the same step: no numbers, hashes, temp paths or durations. */
function normalize(text: string): string {
  return text
    .replace(/\/tmp\/[\w./-]+/g, "<tmp>")
    .replace(/\b[0-9a-f]{7,40}\b/gi, "<sha>")
    .replace(/\d+(\.\d+)?/g, "<n>")
    .replace(/\s+/g, " ")
    .trim();
}

const ERROR =
  /(\berror\b|\berrors?:|\bfailed\b|\bfailure\b|\bfatal\b|exception\b|\bcannot\b|\bunable to\b|\bFAIL\b|✗|✘|npm ERR!|Traceback|panicked at|AssertionError|\bnot found\b|exit code [1-9])/i;
/** Exception class names: TypeError, NullPointerException, AssertionError … */
const ERROR_CLASS = /\b[A-Z]\w*(Error|Exception)\b/;
const isError = (text: string) => (ERROR.test(text) || ERROR_CLASS.test(text)) && !NOT_ERROR.test(text);

/** Build-tool banners that only repeat that something failed above. */
const BANNER =
  /^(Finished: FAILURE|BUILD FAILED in\b|FAILURE: Build failed with an exception|> Task \S+ FAILED$|\d+ tests completed, \d+ failed|\[ERROR\] COMPILATION ERROR :?\s*$|Build step .* marked build as failure)/;
const NOT_ERROR =
  /(\b0 errors?\b|\bno errors?\b|errors?: 0\b|failures?: 0\b|failed: 0\b|-Werror|--fail-fast|warning:|^\s*#|continue-on-error|error-prone|errorprone|Downloading|Downloaded|\[INFO\]|fail_ci_if_error|\bif:|\bset -e)/i;
/** A line that belongs to the message above it: indented, a stack frame, or a wrapped [ERROR]. */
const CONTINUATION =
  /^(\s+\S|\s*at\s|\s*\.\.\. \d+ more|\s*Caused by:|\[ERROR\]\s{2,}|\[ERROR\]\s*$|stdout:|stderr:|To add an exception|\s*$)/;

export interface ExtractOptions {
  /** Lines of context kept under an error line at most. */
  maxBlock?: number;
  /** Lines returned at most. */
  maxLines?: number;
}

/**
 * The 1-based line numbers of the error lines in `failLog`. With `passLog` (the last green run of
 * the same job), lines that also appear there are not errors of this failure.
 */
export function extractErrorLines(failLog: string, passLog?: string, options: ExtractOptions = {}): number[] {
  const maxBlock = options.maxBlock ?? 50;
  const maxLines = options.maxLines ?? 60;
  const lines = failLog.split(/\r\n|\r|\n/).map(lineText);
  const seen = passLog ? new Set(passLog.split(/\r\n|\r|\n/).map((l) => normalize(lineText(l)))) : null;
  const picked = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    if (!isError(text) || BANNER.test(text.trim())) continue;
    if (seen?.has(normalize(text))) continue;
    picked.add(i);
    // The message continues on the lines under it.
    for (let j = i + 1; j < lines.length && j <= i + maxBlock; j++) {
      const next = lines[j] as string;
      if (BANNER.test(next.trim())) break;
      if (!CONTINUATION.test(next) && !isError(next)) break;
      if (/^\s*$/.test(next) && /^\s*$/.test(lines[j + 1] ?? "")) break;
      if (seen?.has(normalize(next)) && next.trim() !== "") break;
      picked.add(j);
    }
  }
  // Blank lines at a block's end say nothing.
  const out = [...picked]
    .sort((a, b) => a - b)
    .filter((i) => (lines[i] as string).trim() !== "" || picked.has(i + 1));
  return out.slice(0, maxLines).map((i) => i + 1);
}
