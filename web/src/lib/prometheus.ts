import type { Source } from "@flick/shared";

/**
 * Prometheus's remote_write for a metrics source, to paste into prometheus.yml: only the metrics
 * worth watching are sent (those the source maps to actions, else a name to fill in), not every
 * series Prometheus scrapes.
 */
export function remoteWriteConfig(s: Source, settings: Source["settings"]): string {
  // An action may be set for one series ('checkout_success{zone="a"}'): its metric's name is kept.
  const names = [
    ...new Set(mappedMetrics(settings).map((n) => n.replace(/\{.*$/, "").replace(/[.]/g, "\\."))),
  ];
  return [
    "remote_write:",
    `  - url: ${s.ingestUrl}`,
    "    authorization:",
    `      credentials: ${s.secret}`,
    "    write_relabel_configs:",
    "      # only the metrics Flick should watch; series that outlive a deploy",
    "      # (a recording rule's sum by (job)), not one per pod",
    "      - source_labels: [__name__]",
    `        regex: '${names.length ? names.join("|") : "checkout_success|signup_success"}'`,
    "        action: keep",
  ].join("\n");
}

/** The metrics (or series, as `name{label="value"}`) a source's settings map to actions. */
export function mappedMetrics(settings: Source["settings"]): string[] {
  return Object.keys((settings as { actions?: Record<string, unknown> }).actions ?? {});
}
