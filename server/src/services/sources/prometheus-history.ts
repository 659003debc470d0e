import type { PrometheusHistory } from "@flick/shared";
import type { Queryable } from "../../db/client.ts";
import { pointSignals, prometheusPoints } from "../../ingest/metrics.ts";
import type { RemoteWritePoint } from "../../ingest/remote-write.ts";
import { AppError, validationError } from "../../lib/errors.ts";
import { readAtMost } from "../../lib/read-body.ts";
import type { SignalWriter } from "../signals/writer.ts";
import { getSource } from "./manage.ts";

/** The step when a series has no recent samples to tell its own (one a minute). */
const DEFAULT_STEP_SECONDS = 60;
/** How far back its recent samples are read to tell a series' own step. */
const RECENT = "15m";
/**
 * The most points loaded per series (Prometheus answers up to 11,000): the detector remembers a day
 * of 1,440 points for its season, and every loaded point is worked through by the agents ahead of
 * the live signals that come after it — two days at a minute (a series finer than a minute is
 * loaded as minute means, as it is judged).
 */
const MAX_STEPS = 3_000;
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
 * action (the selector as written there), `query_range` over the last `hours` at the step its
 * samples come at now (what remote_write will then send: a detector learns a series' step from its
 * first points) — a minute's mean a minute apart when they come more often, as the detector judges
 * such a series — at most 3,000 steps back; stored as the source's points,
 * marked as history (the metrics agent learns from them and makes no card of the past), and
 * idempotent (a point loaded twice is stored once). Loaded after its remote_write began, it still
 * comes first while a series warms up (the metrics agent's pastFirst). Credentials the Prometheus
 * asks for are sent with these requests only.
 */
export async function loadPrometheusHistory(
  db: Queryable,
  writer: SignalWriter,
  input: {
    id: string;
    url: string;
    hours: number;
    now: Date;
    bearerToken?: string;
    basicAuth?: { username: string; password: string };
  },
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
  const prometheus: Prometheus = {
    base: input.url.replace(/\/+$/, ""),
    headers: input.bearerToken
      ? { authorization: `Bearer ${input.bearerToken}` }
      : input.basicAuth
        ? {
            authorization: `Basic ${Buffer.from(`${input.basicAuth.username}:${input.basicAuth.password}`).toString("base64")}`,
          }
        : {},
  };
  const now = Math.floor(input.now.getTime() / 1000);
  const loaded: RemoteWritePoint[] = [];
  const loads: PrometheusHistory["loads"] = [];
  for (const query of queries) {
    const own = await ownStep(prometheus, query, now);
    // A series finer than a minute is judged a minute at a time (the detector averages its points
    // per minute): its past is loaded as minute means, two days of them.
    const name = /^\s*([A-Za-z_:][\w:]*)/.exec(query)?.[1];
    const perMinute = own < 60 && name !== undefined;
    const step = perMinute ? 60 : own;
    const end = Math.floor(now / step) * step;
    const start = Math.max(end - input.hours * 3600, end - (MAX_STEPS - 1) * step);
    const result = await ask(prometheus, "query_range", perMinute ? `avg_over_time(${query}[1m])` : query, {
      start,
      end,
      step,
    });
    if (result.length > MAX_SERIES)
      throw validationError([
        {
          path: "query",
          message: `${query} matches ${result.length} series (at most ${MAX_SERIES}): narrow it`,
        },
      ]);
    let series = 0;
    for (const s of result) {
      // A function's answer has no __name__: the selector's metric it is.
      const { __name__: metric = perMinute ? name : undefined, ...labels } = s.metric;
      if (!metric) continue;
      series++;
      for (const [t, v] of s.values) {
        const value = Number(v);
        if (Number.isFinite(value)) loaded.push({ name: metric, labels, ts: Math.round(t * 1000), value });
      }
      if (loaded.length > MAX_POINTS)
        throw validationError([
          { path: "hours", message: `more than ${MAX_POINTS} points in all: load fewer hours` },
        ]);
    }
    loads.push({
      query,
      series,
      stepSeconds: step,
      from: new Date(start * 1000).toISOString(),
      to: new Date(end * 1000).toISOString(),
    });
  }
  const { points, refused } = prometheusPoints(loaded);
  const signals = pointSignals(points.map((p) => ({ ...p, history: true })));
  const { ids, duplicates } = signals.length
    ? await writer.write(source.id, signals)
    : { ids: [], duplicates: 0 };
  return { loads, points: signals.length, accepted: ids.length, duplicates, refused };
}

/**
 * The step a selector's samples come at now: the median gap between its raw samples of the last
 * quarter hour (whole seconds), or a minute when it has none.
 */
async function ownStep(prometheus: Prometheus, query: string, now: number): Promise<number> {
  const gaps: number[] = [];
  for (const s of await ask(prometheus, "query", `${query}[${RECENT}]`, { time: now }))
    for (let k = 1; k < s.values.length; k++)
      gaps.push((s.values[k]?.[0] as number) - (s.values[k - 1]?.[0] as number));
  if (gaps.length === 0) return DEFAULT_STEP_SECONDS;
  gaps.sort((a, b) => a - b);
  return Math.min(3600, Math.max(1, Math.round(gaps[gaps.length >> 1] as number)));
}

/** Where the history comes from, and the credentials it asks for (never logged or stored). */
interface Prometheus {
  base: string;
  headers: Record<string, string>;
}

/** One query to Prometheus's HTTP API; an answer that is not Prometheus's is refused naming what came instead. */
async function ask(
  { base, headers }: Prometheus,
  endpoint: "query" | "query_range",
  query: string,
  params: Record<string, number>,
) {
  const url = `${base}/api/v1/${endpoint}?${new URLSearchParams({
    query,
    ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
  })}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: "error", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new AppError("unavailable", `Prometheus at ${base} did not answer: ${(err as Error).message}`);
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new AppError(
      "bad_request",
      headers.authorization
        ? `Prometheus at ${base} refused the credentials given (${res.status})`
        : `Prometheus at ${base} asks for credentials (${res.status}): give a bearer token, or a user and password`,
    );
  }
  const tooLarge = () =>
    new AppError("payload_too_large", `Prometheus's answer for ${query} is over ${MAX_ANSWER_BYTES} bytes`);
  if (Number(res.headers.get("content-length") ?? "0") > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  // Read no more than that, declared or not (a chunked answer says nothing of its size up front).
  const answer = await readAtMost(res.body, MAX_ANSWER_BYTES);
  if (answer.over) throw tooLarge();
  const notPrometheus = () =>
    new AppError("unavailable", `${base} answered ${res.status} with something other than Prometheus's JSON`);
  let body: Matrix;
  try {
    body = JSON.parse(answer.bytes.toString("utf8")) as Matrix;
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
