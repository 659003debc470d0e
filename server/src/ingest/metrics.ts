import { z } from "zod";
import { sha256 } from "../lib/crypto.ts";
import { bodyText, check, labelKey, parseJson, toDate, verifyBearer } from "./common.ts";
import type { IngestModule, ParseResult } from "./types.ts";

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
    .refine((v) => toDate(v) !== undefined, "must be a Unix time or ISO date"),
  value: z.number().refine(Number.isFinite, "must be a finite number"),
});

const pointsSchema = z
  .array(pointSchema)
  .min(1, "send at least one point")
  .max(MAX_POINTS, `at most ${MAX_POINTS} points per request`);

/** Batched metric points: `[{name, labels, ts, value}]` or `{points: [...]}`; one signal a point. */
export const metrics: IngestModule = {
  verify(source, req) {
    verifyBearer(source.secret, req);
  },
  parse(_source, req): ParseResult {
    const json = parseJson(bodyText(req));
    // A bare array or {points: [...]}; errors name the point by its index either way.
    const points = Array.isArray(json)
      ? check(pointsSchema, json)
      : check(pointsSchema, (json as { points?: unknown } | null)?.points, "points");
    const signals = points.map((p) => {
      const series = `${p.name}{${labelKey(p.labels)}}`;
      const at = toDate(p.ts) ?? new Date();
      return {
        kind: "metric.point",
        externalId: sha256(`${series}@${at.toISOString()}`),
        fingerprint: `metric:${series}`,
        payload: { name: p.name, labels: p.labels, ts: at.toISOString(), value: p.value },
        occurredAt: at,
      };
    });
    // Signals reach the agents in the order written, and the detector ignores a point older than
    // one it has seen: a request listed out of order is written oldest first (a stable sort).
    signals.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    return { signals, ignored: 0 };
  },
};
