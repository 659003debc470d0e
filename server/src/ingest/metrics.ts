import type { FieldIssue } from "@flick/shared";
import { z } from "zod";
import { sha256 } from "../lib/crypto.ts";
import { AppError, validationError } from "../lib/errors.ts";
import { bodyText, check, labelKey, parseJson, toDate, verifyBearer } from "./common.ts";
import {
  decodeWriteRequest,
  type RemoteWriteBatch,
  RemoteWriteError,
  type RemoteWritePoint,
} from "./remote-write.ts";
import type { IngestModule, IngestRequest, ParsedSignal, ParseResult } from "./types.ts";

const MAX_POINTS = 10_000;

const pointSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z_:][\w:.-]*$/, "must be a metric name (letters, digits, _ : . -)"),
  labels: z.record(z.string().max(100), z.string().max(500)).default({}),
  ts: z
    .union([z.number(), z.string()])
    .refine((v) => toDate(v) !== undefined, "must be a Unix time or ISO date (1970 to 9999)"),
  value: z.number().refine(Number.isFinite, "must be a finite number"),
  /** The series' past, sent to teach its detector: learned from, never a card. */
  history: z.boolean().optional(),
});

/**
 * How far ahead of the server's clock a point may be dated (as Mimir's creation grace period): a
 * sender's clock a little fast is fine, but a point from next year would leave its series'
 * detector passing over every real point as late until then.
 */
const AHEAD_MS = 10 * 60_000;

/** Why a checked point dated `at` is refused for coming from the future; null when it is not. */
function fromTheFuture(at: Date, receivedAt: Date | undefined): string | null {
  if (!receivedAt || at.getTime() <= receivedAt.getTime() + AHEAD_MS) return null;
  return `${at.toISOString()} is more than 10 minutes ahead of this server's clock (${receivedAt.toISOString()})`;
}

const pointsSchema = z
  .array(pointSchema)
  .min(1, "send at least one point")
  .max(MAX_POINTS, `at most ${MAX_POINTS} points per request`);

/** A series as an error names it: as its fingerprint does, long names and label values cut short. */
function seriesName(p: { name: string; labels: Record<string, string> }): string {
  const cut = (x: string) => (x.length > 40 ? `${x.slice(0, 40)}…` : x);
  const labels = Object.fromEntries(Object.entries(p.labels).map(([k, v]) => [cut(k), cut(v)]));
  return `${cut(p.name)}{${labelKey(labels)}}`;
}

/**
 * A Prometheus remote write body: its points, checked as JSON ones are; staleness markers left out.
 * A series that fails the checks is refused on its own and the rest kept, as Cortex and Mimir do:
 * Prometheus drops a batch answered with a 4xx, and one odd series would otherwise lose every
 * other series' samples in each batch it rides in, for as long as it is scraped.
 */
function remoteWritePoints(req: IngestRequest): {
  points: CheckedPoint[];
  ignored: number;
  refused: FieldIssue[];
} {
  let batch: RemoteWriteBatch;
  try {
    batch = decodeWriteRequest(req.body);
  } catch (err) {
    if (!(err instanceof RemoteWriteError)) throw err;
    throw new AppError("bad_request", `body is not a Prometheus remote write request: ${err.message}`);
  }
  if (batch.points.length > MAX_POINTS)
    throw validationError([
      {
        path: "points",
        message: `at most ${MAX_POINTS} points per request (set queue_config.max_samples_per_send lower)`,
      },
    ]);
  // A request of staleness markers only (a target went away) has no point: nothing to keep, no error.
  return { ...prometheusPoints(batch.points, req.receivedAt), ignored: batch.ignored };
}

type CheckedPoint = z.infer<typeof pointSchema>;

/**
 * Points as Prometheus gives them (times in milliseconds), checked as JSON ones are. A series
 * that fails is left out and named in `refused` (once, however many samples it had), not by its
 * place in a batch Prometheus made up.
 */
export function prometheusPoints(
  from: RemoteWritePoint[],
  receivedAt?: Date,
): {
  points: CheckedPoint[];
  refused: FieldIssue[];
} {
  const points: CheckedPoint[] = [];
  const refused = new Map<string, FieldIssue[]>();
  for (const p of from) {
    // As dates, so no time is mistaken for seconds (as a JSON number before 2001 would be).
    const at = new Date(p.ts);
    const point = { ...p, ts: at.toISOString() };
    const checked = pointSchema.safeParse(point);
    const ahead = checked.success ? fromTheFuture(at, receivedAt) : null;
    if (checked.success && ahead === null) {
      points.push(point);
      continue;
    }
    const series = seriesName(p);
    if (refused.has(series)) continue;
    refused.set(
      series,
      ahead !== null
        ? [{ path: `${series}.ts`, message: ahead }]
        : (checked.error?.issues ?? []).map((issue) => ({
            path: [series, ...issue.path.map(String)].join("."),
            message: issue.message,
          })),
    );
  }
  return { points, refused: [...refused.values()].flat() };
}

/**
 * Batched metric points: `[{name, labels, ts, value}]` or `{points: [...]}` as JSON, or a Prometheus
 * remote write request (protobuf, snappy); one signal a point.
 */
export const metrics: IngestModule = {
  verify(source, req) {
    verifyBearer(source.secret, req);
  },
  parse(_source, req): ParseResult {
    if (/^application\/x-protobuf\b/i.test(req.headers.get("content-type") ?? "")) {
      const { points, ignored, refused } = remoteWritePoints(req);
      return { signals: pointSignals(points), ignored, refused };
    }
    const json = parseJson(bodyText(req));
    // A bare array or {points: [...]}, all or nothing; errors name the point by its index either way.
    const points = Array.isArray(json)
      ? check(pointsSchema, json)
      : check(pointsSchema, (json as { points?: unknown } | null)?.points, "points");
    const ahead = points.flatMap((p, i) => {
      const why = fromTheFuture(toDate(p.ts) ?? new Date(0), req.receivedAt);
      return why === null ? [] : [{ path: `${Array.isArray(json) ? "" : "points."}${i}.ts`, message: why }];
    });
    if (ahead.length > 0) throw validationError(ahead);
    return { signals: pointSignals(points), ignored: 0 };
  },
};

/**
 * Checked points as signals, one each: the series (name and sorted labels) and the time make its
 * id, so a point sent again is stored once.
 */
export function pointSignals(
  points: {
    name: string;
    labels: Record<string, string>;
    ts: string | number;
    value: number;
    /** The series' past: the metrics agent learns from it without making cards of it. */
    history?: boolean;
  }[],
): ParsedSignal[] {
  const signals = points.map((p) => {
    const series = `${p.name}{${labelKey(p.labels)}}`;
    const at = toDate(p.ts) ?? new Date();
    return {
      kind: "metric.point",
      externalId: sha256(`${series}@${at.toISOString()}`),
      fingerprint: `metric:${series}`,
      payload: {
        name: p.name,
        labels: p.labels,
        ts: at.toISOString(),
        value: p.value,
        ...(p.history ? { history: true } : {}),
      },
      occurredAt: at,
    };
  });
  // Signals reach the agents in the order written, and the detector ignores a point older than
  // one it has seen: points listed out of order are written oldest first (a stable sort).
  signals.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  return signals;
}
