import { type CardUpsert, defineAgent, type SignalRow } from "../define.ts";
import { rank, recency } from "../rank.ts";

interface AlertPayload {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  generatorURL?: string;
}

const SEVERITY: Record<string, number> = { critical: 1, page: 1, error: 0.8, warning: 0.5, info: 0.2 };

/**
 * Alertmanager alerts: every notification for one alert (same fingerprint, firing or resolved)
 * lands on one card; a resolved alert keeps its card but drops in the feed.
 */
export const alertsAgent = defineAgent({
  name: "alerts",
  reads: ["alert.*"],
  async run(ctx, batch) {
    const byAlert = new Map<string, SignalRow[]>();
    for (const s of batch) byAlert.set(s.fingerprint, [...(byAlert.get(s.fingerprint) ?? []), s]);
    const out: CardUpsert[] = [];
    for (const [fingerprint, signals] of byAlert) {
      const last = signals[signals.length - 1] as SignalRow;
      const a = last.payload as AlertPayload;
      const name = a.labels.alertname ?? "alert";
      const scope = Object.entries(a.labels)
        .filter(([k]) => k !== "alertname" && k !== "severity")
        .map(([k, v]) => `${k}=${v}`)
        .join(", ");
      const resolved = a.status === "resolved";
      const severity = SEVERITY[a.labels.severity ?? ""] ?? 0.5;
      const text = a.annotations.summary ?? a.annotations.description ?? a.annotations.message;
      out.push({
        fingerprint,
        kind: "insight",
        title:
          `${resolved ? "Resolved" : "Firing"}: ${name}${scope ? ` (${scope})` : ""}${text ? ` — ${text}` : ""}`.slice(
            0,
            200,
          ),
        summary: [a.annotations.description, scope && `Scope: ${scope}.`].filter(Boolean).join("\n\n"),
        ...rank({
          severity: resolved ? severity * 0.3 : severity,
          blastRadius: 0.3,
          confidence: 0.9,
          recency: recency(last.occurredAt, ctx.now),
          acceptRate: await ctx.acceptRate("alerts", "alert"),
        }),
        preview: {
          type: "text",
          text: Object.entries(a.labels)
            .map(([k, v]) => `${k}: ${v}`)
            .join("\n"),
        },
        change: { type: "none" },
        evidence: {
          signalIds: signals.map((s) => s.id),
          firstSeen: signals[0]?.occurredAt ?? last.occurredAt,
          lastSeen: last.occurredAt,
          links:
            a.generatorURL && /^https?:\/\//.test(a.generatorURL)
              ? [{ label: "Source", url: a.generatorURL }]
              : [],
          facts: { alert: name, status: a.status, severity: a.labels.severity ?? "none" },
        },
        reopen: !resolved,
      });
    }
    return out;
  },
});
