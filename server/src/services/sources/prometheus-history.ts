import type { PrometheusHistory } from "@flick/shared";
import type { Queryable } from "../../db/client.ts";
import { pointSignals, prometheusPoints } from "../../ingest/metrics.ts";
import type { RemoteWritePoint } from "../../ingest/remote-write.ts";
import { AppError, validationError } from "../../lib/errors.ts";
import type { SignalWriter } from "../signals/writer.ts";
import { getSource } from "./manage.ts";

/** One point a minute: a day is 1,440 points, the daily season the metric detector remembers. */
const STEP_SECONDS = 60;
/** Series one selector may bring, and points in all, before the admin is asked to narrow it. */
const MAX_SERIES = 100;
const MAX_POINTS = 200_000;
/** The most of Prometheus's answer read (100 series × a week of minutes is ~30 MB of JSON). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 20_000;

interface Matrix {
  status: "success" | "error";
  error?: string;
  data?: { resultType?: string; result?: { metric: Record<string, string>; values: [number, string][] }[] };
}

/**
 * A metrics source's history from the team's Prometheus, so its series are judged against their
 * own past from the start instead of after 300 live points: for each metric the source maps to an
 * action (the selector as written there), `query_range` over the last `hours` at one point a
 * minute, stored as the source's points (idempotent: a point loaded twice is stored once). Meant
 * before its remote_write starts: the detector learns nothing from a point older than one it saw.
 */
export async function loadPrometheusHistory(
  db: Queryable,
  writer: SignalWriter,
  input: { id: string; url: string; hours: number; now: Date },
): Promise<PrometheusHistory> {
  const source = await getSource(db, input.id);
  if (source.kind !== "metrics")
    throw new AppError(
      "bad_request",
      `source "${source.name}" is a ${source.kind} source, not a metrics one`,
    );
  const actions = (source.settings as { actions?: Record<string, unknown> }).actions ?? {};
  const queries = Object.keys(actions);
  if (queries.length === 0)
    throw new AppError(
      "bad_request",
      `source "${source.name}" maps no metric to an action yet: the metrics to load are those it maps`,
    );
  const end = Math.floor(input.now.getTime() / 1000 / STEP_SECONDS) * STEP_SECONDS;
  const start = end - input.hours * 3600;
  const base = input.url.replace(/\/+$/, "");
  const loaded: RemoteWritePoint[] = [];
  let series = 0;
  for (const query of queries) {
    const result = await queryRange(base, query, start, end);
    if (result.length > MAX_SERIES)
      throw validationError([
        {
          path: "query",
          message: `${query} matches ${result.length} series (at most ${MAX_SERIES}): narrow it`,
        },
      ]);
    for (const s of result) {
      const { __name__: name, ...labels } = s.metric;
      if (!name) continue;
      series++;
      for (const [t, v] of s.values) {
        const value = Number(v);
        if (Number.isFinite(value)) loaded.push({ name, labels, ts: Math.round(t * 1000), value });
      }
      if (loaded.length > MAX_POINTS)
        throw validationError([
          { path: "hours", message: `more than ${MAX_POINTS} points in all: load fewer hours` },
        ]);
    }
  }
  const signals = pointSignals(prometheusPoints(loaded));
  const { ids, duplicates } = signals.length
    ? await writer.write(source.id, signals)
    : { ids: [], duplicates: 0 };
  return {
    queries,
    series,
    points: signals.length,
    accepted: ids.length,
    duplicates,
    stepSeconds: STEP_SECONDS,
    from: new Date(start * 1000).toISOString(),
    to: new Date(end * 1000).toISOString(),
  };
}

/** One query_range; an answer that is not Prometheus's is refused naming what came instead. */
async function queryRange(base: string, query: string, start: number, end: number) {
  const url = `${base}/api/v1/query_range?${new URLSearchParams({
    query,
    start: String(start),
    end: String(end),
    step: String(STEP_SECONDS),
  })}`;
  let res: Response;
  try {
    res = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new AppError("unavailable", `Prometheus at ${base} did not answer: ${(err as Error).message}`);
  }
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_ANSWER_BYTES)
    throw new AppError(
      "payload_too_large",
      `Prometheus's answer for ${query} is over ${MAX_ANSWER_BYTES} bytes`,
    );
  const notPrometheus = () =>
    new AppError("unavailable", `${base} answered ${res.status} with something other than Prometheus's JSON`);
  let body: Matrix;
  try {
    body = (await res.json()) as Matrix;
  } catch {
    throw notPrometheus();
  }
  if (body?.status !== "success" && body?.status !== "error") throw notPrometheus();
  if (body.status !== "success" || body.data?.resultType !== "matrix")
    throw new AppError(
      res.status >= 500 ? "unavailable" : "bad_request",
      `Prometheus refused ${query}: ${body.error ?? `status ${res.status}`}`,
    );
  return body.data.result ?? [];
}
