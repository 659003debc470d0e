/** A series an alerting rule's expression reads: its metric name and the labels it must equal. */
export interface SeriesRef {
  name: string;
  matchers: Record<string, string>;
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);
/** Aggregation operators: `sum without (pod) (…)` puts the call after the label list. */
const AGGREGATIONS = new Set([
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "group",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
  "limitk",
  "limit_ratio",
]);
/** Keywords followed by a parenthesised list of label names, not of series. */
const LABEL_LISTS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

/** `{job="api", code=~"5.."}` → the equality matchers ({job: "api"}), and `__name__` if given. */
function matchersOf(braces: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_]\w*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(braces); m; m = re.exec(braces))
    if (m[2] === "=") out[m[1] as string] = (m[3] as string).replace(/\\(.)/g, "$1");
  return out;
}

/**
 * The series a PromQL expression selects, as far as names and equality matchers say:
 * `sum(rate(http_requests_total{job="api"}[5m])) by (instance) > 10` → http_requests_total
 * {job: "api"}. Functions, keywords, label lists, ranges, strings and numbers are not series.
 */
export function seriesInExpr(expr: string): SeriesRef[] {
  const out: SeriesRef[] = [];
  const token =
    /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\[[^\]]*\]|(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\{[^}]*\})?|(\{[^}]*\})|\d[\w.]*/g;
  let skipList = false;
  for (let m = token.exec(expr); m && out.length < 20; m = token.exec(expr)) {
    const [, ident, identBraces, loneBraces] = m;
    if (loneBraces) {
      const matchers = matchersOf(loneBraces);
      const name = matchers.__name__;
      if (name) {
        delete matchers.__name__;
        out.push({ name, matchers });
      }
      continue;
    }
    if (!ident) continue;
    const rest = expr.slice(token.lastIndex).trimStart();
    if (!identBraces && AGGREGATIONS.has(ident)) continue;
    if (KEYWORDS.has(ident.toLowerCase())) {
      skipList = LABEL_LISTS.has(ident.toLowerCase());
      continue;
    }
    if (skipList && !identBraces) {
      // `by (instance, job)`: names up to the closing parenthesis are labels.
      const close = expr.indexOf(")", token.lastIndex);
      if (close >= 0) token.lastIndex = close + 1;
      skipList = false;
      continue;
    }
    skipList = false;
    // A function call (`rate(`), not a series.
    if (!identBraces && rest.startsWith("(")) continue;
    out.push({ name: ident, matchers: identBraces ? matchersOf(identBraces) : {} });
  }
  const unique = new Map(out.map((r) => [JSON.stringify(r), r]));
  return [...unique.values()];
}

/** The series an Alertmanager alert's rule reads, from its generatorURL (Prometheus' `g0.expr`). */
export function seriesOfAlert(generatorURL: string | undefined): SeriesRef[] {
  if (!generatorURL) return [];
  try {
    const expr = new URL(generatorURL).searchParams.get("g0.expr");
    return expr ? seriesInExpr(expr.slice(0, 2000)) : [];
  } catch {
    return [];
  }
}

/**
 * Does an alert fire on this series? Its rule reads the metric, and no label the series has is
 * contradicted by the alert's labels or the rule's matchers (the rule's matchers all hold).
 */
export function alertOnSeries(
  refs: SeriesRef[],
  alertLabels: Record<string, string>,
  series: { name: string; labels: Record<string, string> },
): boolean {
  return refs.some(
    (r) =>
      r.name === series.name &&
      Object.entries(r.matchers).every(([k, v]) => series.labels[k] === v) &&
      Object.entries(series.labels).every(([k, v]) => alertLabels[k] === undefined || alertLabels[k] === v),
  );
}
