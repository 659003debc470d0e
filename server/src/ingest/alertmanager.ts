import { z } from "zod";
import { sha256 } from "../lib/crypto.ts";
import { bodyText, check, labelKey, parseJson, toDate, verifyBearer } from "./common.ts";
import type { IngestModule, ParseResult } from "./types.ts";

const labels = z.record(z.string(), z.string());

const alertSchema = z
  .object({
    // Older Alertmanagers leave it out; the group's status applies then.
    status: z.enum(["firing", "resolved"]).optional(),
    labels: labels.refine((l) => Object.keys(l).length > 0, "an alert needs at least one label"),
    annotations: labels.default({}),
    startsAt: z.string(),
    endsAt: z.string().optional(),
    generatorURL: z.string().optional(),
    fingerprint: z.string().optional(),
  })
  .passthrough();

const bodySchema = z
  .object({
    version: z.string().optional(),
    groupKey: z.string().optional(),
    status: z.enum(["firing", "resolved"]),
    receiver: z.string().optional(),
    groupLabels: labels.optional(),
    commonLabels: labels.optional(),
    commonAnnotations: labels.optional(),
    externalURL: z.string().optional(),
    truncatedAlerts: z.number().int().optional(),
    alerts: z.array(alertSchema).min(1, "alerts is empty").max(5000),
  })
  .passthrough();

/** Prometheus Alertmanager's webhook: one signal per alert in the group. */
export const alertmanager: IngestModule = {
  verify(source, req) {
    verifyBearer(source.secret, req);
  },
  parse(_source, req): ParseResult {
    const body = check(bodySchema, parseJson(bodyText(req)));
    return {
      signals: body.alerts.map((a) => {
        const alert = { ...a, status: a.status ?? body.status };
        const id = alert.fingerprint ?? sha256(labelKey(alert.labels)).slice(0, 16);
        return {
          kind: `alert.${alert.status}`,
          externalId: `${id}:${alert.startsAt}:${alert.status}`,
          fingerprint: `alert:${id}`,
          payload: {
            ...alert,
            receiver: body.receiver,
            groupKey: body.groupKey,
            externalURL: body.externalURL,
            commonLabels: body.commonLabels,
          },
          occurredAt: toDate(alert.status === "resolved" ? alert.endsAt : alert.startsAt),
        };
      }),
      ignored: 0,
    };
  },
};
